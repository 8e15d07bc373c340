//! The command line: options, their checks, and one-line errors.
//!
//! Parsing uses `clap` (derive), like the `lwm2m-server` binary: one field
//! per option, so a new option (the DTLS credentials) is a field and a
//! line in [`Options`]. Bad options end the process with one line on
//! standard error and exit code 2; `--help` prints the help and exits 0.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use clap::error::ErrorKind;

use lwm2m::core::client::uri;
use lwm2m::core::dm::Lwm2mVersion;

/// The demo LwM2M client: Security, Server, Access Control, Device,
/// Connectivity Monitoring, Firmware Update, Location, a simulated
/// Temperature sensor (3303) and a Test object (32769), over CoAP/UDP.
///
/// Without --server it starts the bundled LwM2M server in this process on
/// 127.0.0.1, registers to it and walks through a short tour (a few
/// seconds), then exits.
///
/// Examples:
///
///   lwm2m-client                                   the tour
///   lwm2m-client --server coap://127.0.0.1:5683    register to a server
///   lwm2m-client --server coap://127.0.0.1:5783 --bootstrap --state-file dev.state
///   lwm2m-client -s coap://10.0.0.1:5683 -s coap://10.0.0.2:5683   two servers
///
/// The client logs what happens to standard error. Ctrl-C (SIGINT) or
/// SIGTERM de-registers and exits 0; a second Ctrl-C stops at once.
#[derive(Parser, Debug)]
#[command(
    name = "lwm2m-client",
    about,
    long_about,
    verbatim_doc_comment,
    color = clap::ColorChoice::Never
)]
struct Args {
    /// Endpoint Client Name (ep=).
    #[arg(short, long, value_name = "NAME", default_value = "lwm2m-rs-demo",
          value_parser = parse_endpoint)]
    endpoint: String,

    /// LwM2M server, coap://HOST[:PORT]; repeat it for several servers.
    ///
    /// The port is 5683 when left out. Servers get Short Server IDs 1, 2, ...
    /// in order. With --bootstrap, the Bootstrap-Server's URI.
    /// None at all: run the tour.
    #[arg(short, long = "server", value_name = "URI", value_parser = parse_server,
          verbatim_doc_comment)]
    servers: Vec<String>,

    /// The --server is a Bootstrap-Server.
    ///
    /// The client asks it for its configuration (Security, Server and
    /// Access Control instances), then registers with the servers it gives.
    #[arg(short, long, verbatim_doc_comment)]
    bootstrap: bool,

    /// Registration lifetime in seconds.
    #[arg(short, long, value_name = "S", default_value_t = 300,
          value_parser = clap::value_parser!(u32).range(1..))]
    lifetime: u32,

    /// Keep the configuration in FILE across restarts.
    ///
    /// Security, Server, Access Control and observation attributes are
    /// restored from FILE at start and saved to it on every change (what a
    /// Bootstrap-Server or a server's Write set up). What FILE holds takes
    /// precedence over --server; a corrupt FILE is reported and the
    /// options' configuration used.
    #[arg(long, value_name = "FILE", verbatim_doc_comment)]
    state_file: Option<PathBuf>,

    /// Binding: U (UDP) or UQ (UDP, queue mode).
    ///
    /// In queue mode servers may reach the client only shortly after it
    /// sent them something.
    #[arg(long, value_name = "U|UQ", default_value = "U", value_parser = ["U", "UQ"],
          verbatim_doc_comment)]
    binding: String,

    /// LwM2M version to speak.
    #[arg(long = "version", value_name = "1.0|1.1|1.2", default_value = "1.1",
          value_parser = parse_version)]
    lwm2m_version: Lwm2mVersion,

    /// Seconds between two steps of the simulated temperature.
    #[arg(long, value_name = "S", default_value = "1", value_parser = parse_period)]
    sensor_period: Duration,

    /// Seed of the simulated temperature's random walk.
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,

    /// Log nothing but errors.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,

    /// In the tour, also show the client's own log.
    #[arg(short, long)]
    verbose: bool,
}

/// What the command line asked for, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Endpoint Client Name.
    pub endpoint: String,
    /// Server URIs (the Bootstrap-Server's alone with `bootstrap`); empty:
    /// the tour.
    pub servers: Vec<String>,
    /// The server is a Bootstrap-Server.
    pub bootstrap: bool,
    /// Lifetime, seconds.
    pub lifetime: u32,
    /// The state file.
    pub state_file: Option<PathBuf>,
    /// `U` or `UQ`.
    pub binding: String,
    /// LwM2M version.
    pub version: Lwm2mVersion,
    /// Pace of the temperature walk.
    pub sensor_period: Duration,
    /// Seed of the temperature walk.
    pub seed: u64,
    /// Log level.
    pub verbosity: Verbosity,
}

/// How much the client logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// Errors only.
    Quiet,
    /// What happens (the default; in the tour, the tour only).
    Normal,
    /// The tour and the client's log.
    Verbose,
}

/// What [`parse`] decided.
#[derive(Debug)]
pub enum Parsed {
    /// Run with these options.
    Run(Box<Options>),
    /// Print this (help) on standard output and exit 0.
    Print(String),
    /// Print this line on standard error and exit 2.
    Error(String),
}

/// Parses the arguments after the program name.
pub fn parse<I, T>(args: I) -> Parsed
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let argv = std::iter::once(std::ffi::OsString::from("lwm2m-client"))
        .chain(args.into_iter().map(Into::into));
    let a = match Args::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    Parsed::Print(e.render().to_string())
                }
                _ => Parsed::Error(one_line(&e.render().to_string())),
            };
        }
    };
    if a.bootstrap && a.servers.len() != 1 {
        return Parsed::Error(one_line(
            "error: --bootstrap needs exactly one --server (the Bootstrap-Server's URI)",
        ));
    }
    let verbosity = match (a.quiet, a.verbose) {
        (true, _) => Verbosity::Quiet,
        (_, true) => Verbosity::Verbose,
        _ => Verbosity::Normal,
    };
    Parsed::Run(Box::new(Options {
        endpoint: a.endpoint,
        servers: a.servers,
        bootstrap: a.bootstrap,
        lifetime: a.lifetime,
        state_file: a.state_file,
        binding: a.binding,
        version: a.lwm2m_version,
        sensor_period: a.sensor_period,
        seed: a.seed,
        verbosity,
    }))
}

/// The first line of a clap error, as `lwm2m-client: <what> (see --help)`.
fn one_line(rendered: &str) -> String {
    let first = rendered.lines().next().unwrap_or("error: bad arguments");
    let what = first.strip_prefix("error: ").unwrap_or(first);
    format!("lwm2m-client: {what} (see --help)")
}

fn parse_endpoint(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'&' && b != b'=');
    if ok {
        Ok(s.to_string())
    } else {
        Err("1 to 255 printable ASCII characters, without spaces, '&' or '='".into())
    }
}

fn parse_server(s: &str) -> Result<String, String> {
    match uri::parse(s) {
        Some(u) if u.secure => Err("coaps:// (DTLS) is not supported by this client yet".into()),
        Some(u) if u.host.is_empty() => Err("no host".into()),
        Some(u) if u.path != "/" && !u.path.is_empty() => {
            Err("a server URI has no path: coap://HOST[:PORT]".into())
        }
        Some(_) => Ok(s.to_string()),
        None => Err("expected coap://HOST[:PORT]".into()),
    }
}

fn parse_version(s: &str) -> Result<Lwm2mVersion, String> {
    match s {
        "1.0" => Ok(Lwm2mVersion::V1_0),
        "1.1" => Ok(Lwm2mVersion::V1_1),
        "1.2" => Ok(Lwm2mVersion::V1_2),
        _ => Err("expected 1.0, 1.1 or 1.2".into()),
    }
}

fn parse_period(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| "expected seconds, such as 1 or 0.2")?;
    if !(0.01..=3600.0).contains(&secs) {
        return Err("between 0.01 and 3600 seconds".into());
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Options {
        match parse(args.iter().copied()) {
            Parsed::Run(o) => *o,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn error(args: &[&str]) -> String {
        match parse(args.iter().copied()) {
            Parsed::Error(e) => {
                assert!(!e.contains('\n'), "one line: {e}");
                assert!(e.starts_with("lwm2m-client: "), "{e}");
                e
            }
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_are_the_tour() {
        let o = run(&[]);
        assert!(o.servers.is_empty() && !o.bootstrap);
        assert_eq!(o.endpoint, "lwm2m-rs-demo");
        assert_eq!((o.lifetime, o.binding.as_str()), (300, "U"));
        assert_eq!(o.version, Lwm2mVersion::V1_1);
        assert_eq!(o.verbosity, Verbosity::Normal);
        assert_eq!(o.sensor_period, Duration::from_secs(1));
    }

    #[test]
    fn every_option() {
        let o = run(&[
            "--endpoint",
            "dev-1",
            "--server",
            "coap://127.0.0.1:5783",
            "--bootstrap",
            "--lifetime",
            "60",
            "--state-file",
            "/tmp/x.state",
            "--binding",
            "UQ",
            "--version",
            "1.2",
            "--sensor-period",
            "0.25",
            "--seed",
            "9",
            "-v",
        ]);
        assert_eq!(o.endpoint, "dev-1");
        assert_eq!(o.servers, ["coap://127.0.0.1:5783"]);
        assert!(o.bootstrap);
        assert_eq!(o.lifetime, 60);
        assert_eq!(o.state_file, Some(PathBuf::from("/tmp/x.state")));
        assert_eq!(o.binding, "UQ");
        assert_eq!(o.version, Lwm2mVersion::V1_2);
        assert_eq!(o.sensor_period, Duration::from_millis(250));
        assert_eq!(o.seed, 9);
        assert_eq!(o.verbosity, Verbosity::Verbose);
        let two = run(&["-s", "coap://127.0.0.1:1", "-s", "coap://[::1]:2", "-q"]);
        assert_eq!(two.servers.len(), 2);
        assert_eq!(two.verbosity, Verbosity::Quiet);
    }

    #[test]
    fn bad_options_are_one_line() {
        assert!(error(&["--server", "http://x"]).contains("coap://HOST"));
        assert!(error(&["--server", "coaps://127.0.0.1"]).contains("DTLS"));
        assert!(error(&["--server", "coap://h:1/rd"]).contains("no path"));
        assert!(error(&["--lifetime", "0"]).contains("--lifetime"));
        assert!(error(&["--lifetime", "soon"]).contains("--lifetime"));
        assert!(error(&["--binding", "T"]).contains("--binding"));
        assert!(error(&["--version", "2.0"]).contains("1.0, 1.1 or 1.2"));
        assert!(error(&["--endpoint", "a=b"]).contains("--endpoint"));
        assert!(error(&["--bootstrap"]).contains("--bootstrap"));
        assert!(error(&["--frobnicate"]).contains("--frobnicate"));
        assert!(error(&["-q", "-v"]).contains("--quiet"));
        assert!(error(&["--sensor-period", "0"]).contains("--sensor-period"));
    }

    #[test]
    fn help_is_printed() {
        match parse(["--help"]) {
            Parsed::Print(h) => {
                assert!(h.contains("--server <URI>") && h.contains("--bootstrap"));
                assert!(h.contains("tour"));
            }
            other => panic!("{other:?}"),
        }
    }
}

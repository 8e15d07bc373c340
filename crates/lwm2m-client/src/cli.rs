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
#[cfg(feature = "dtls")]
use openssl::pkey::PKey;
#[cfg(feature = "dtls")]
use openssl::x509::X509;

/// What a DTLS option or a `coaps://` server says in a build without the
/// `dtls` feature (the options stay, so that they fail clearly instead of
/// being unknown).
pub const NO_DTLS: &str = "this build has no DTLS support: rebuild with `--features dtls`";

/// The end of `--help` in a build without the `dtls` feature.
#[cfg(not(feature = "dtls"))]
const NO_DTLS_HELP: &str = "This build has no DTLS support (coaps://, --psk-identity, --psk-key, \
--cert, --key, --server-cert): rebuild with `--features dtls`.";

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
///   lwm2m-client -s coaps://127.0.0.1:5684 --psk-identity dev1 --psk-key 000102030405060708090a0b0c0d0e0f
///   lwm2m-client -s coaps://lwm2m.example:5684 --cert dev.pem --key dev.key --server-cert server.pem
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
#[cfg_attr(not(feature = "dtls"), command(after_help = NO_DTLS_HELP))]
struct Args {
    /// Endpoint Client Name (ep=).
    #[arg(short, long, value_name = "NAME", default_value = "lwm2m-rs-demo",
          value_parser = parse_endpoint)]
    endpoint: String,

    /// LwM2M server, coap://HOST[:PORT] or coaps://HOST[:PORT] (DTLS);
    /// repeat it for several servers.
    ///
    /// The port is 5683 (coaps: 5684) when left out. A coaps:// server
    /// needs --psk-identity and --psk-key, or --cert and --key. Servers get Short Server IDs 1, 2, ...
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

    /// DTLS pre-shared key identity (text) for the coaps:// servers.
    #[arg(long, value_name = "TEXT", requires = "psk_key",
          conflicts_with_all = ["cert", "key", "server_cert"])]
    psk_identity: Option<String>,

    /// DTLS pre-shared key, in hexadecimal (with --psk-identity).
    #[arg(long, value_name = "HEX", requires = "psk_identity")]
    psk_key: Option<String>,

    /// The client's certificate (PEM) for the coaps:// servers
    /// (ECDHE-ECDSA); with --key.
    #[arg(long, value_name = "PEM", requires = "key", verbatim_doc_comment)]
    cert: Option<PathBuf>,

    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "PEM", requires = "cert")]
    key: Option<PathBuf>,

    /// The server's certificate (PEM): the server must present exactly it.
    ///
    /// Without it the server's certificate must chain to the system's trust
    /// store and name the URI's host.
    #[arg(long, value_name = "PEM", requires = "cert", verbatim_doc_comment)]
    server_cert: Option<PathBuf>,
}

/// DTLS credentials of the coaps:// servers (Security Mode /0/x/2 and the
/// keys /0/x/3-5). `Debug` never shows a key. Without the `dtls` feature
/// it is always `None`.
#[derive(Clone, Default, PartialEq, Eq)]
#[cfg_attr(not(feature = "dtls"), allow(dead_code))]
pub enum Dtls {
    /// None (every server is coap://).
    #[default]
    None,
    /// Pre-shared key (mode 0).
    Psk {
        /// PSK identity.
        identity: Vec<u8>,
        /// The key.
        key: Vec<u8>,
    },
    /// Certificates (mode 2), DER.
    Certificate {
        /// Ours.
        certificate: Vec<u8>,
        /// Our private key (PKCS#8).
        private_key: Vec<u8>,
        /// The server's, pinned (Certificate Usage 3); `None`: the system
        /// trust store (Certificate Usage 1).
        server: Option<Vec<u8>>,
    },
}

impl std::fmt::Debug for Dtls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dtls::None => f.write_str("None"),
            Dtls::Psk { identity, .. } => write!(
                f,
                "Psk {{ identity: \"{}\", key: <redacted> }}",
                identity.escape_ascii()
            ),
            Dtls::Certificate { server, .. } => write!(
                f,
                "Certificate {{ private_key: <redacted>, server pinned: {} }}",
                server.is_some()
            ),
        }
    }
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
    /// DTLS credentials for the coaps:// servers.
    pub dtls: Dtls,
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
    #[cfg(not(feature = "dtls"))]
    if let Some(what) = dtls_asked(&a) {
        return Parsed::Error(format!("lwm2m-client: {what}: {NO_DTLS}"));
    }
    let dtls = match dtls(&a) {
        Ok(d) => d,
        Err(e) => return Parsed::Error(one_line(&format!("error: {e}"))),
    };
    let secure = a
        .servers
        .iter()
        .any(|s| uri::parse(s).is_some_and(|u| u.secure));
    if secure && dtls == Dtls::None {
        return Parsed::Error(one_line(
            "error: a coaps:// server needs --psk-identity and --psk-key, or --cert and --key",
        ));
    }
    if !secure && dtls != Dtls::None {
        return Parsed::Error(one_line(
            "error: DTLS credentials are for coaps:// servers, and no --server is one",
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
        dtls,
    }))
}

/// The first DTLS option or `coaps://` server on the command line, if any.
#[cfg(not(feature = "dtls"))]
fn dtls_asked(a: &Args) -> Option<&'static str> {
    let coaps = a
        .servers
        .iter()
        .any(|s| uri::parse(s).is_some_and(|u| u.secure));
    [
        (a.psk_identity.is_some(), "--psk-identity"),
        (a.psk_key.is_some(), "--psk-key"),
        (a.cert.is_some(), "--cert"),
        (a.key.is_some(), "--key"),
        (a.server_cert.is_some(), "--server-cert"),
        (coaps, "coaps://"),
    ]
    .into_iter()
    .find_map(|(given, what)| given.then_some(what))
}

/// Without the `dtls` feature there are no credentials ([`dtls_asked`]
/// refused the options).
#[cfg(not(feature = "dtls"))]
fn dtls(_: &Args) -> Result<Dtls, String> {
    Ok(Dtls::None)
}

/// The DTLS options, read and checked. Errors name the option or the file,
/// never a key.
#[cfg(feature = "dtls")]
fn dtls(a: &Args) -> Result<Dtls, String> {
    if let (Some(id), Some(hex)) = (&a.psk_identity, &a.psk_key) {
        if id.is_empty() || id.len() > 128 {
            return Err("--psk-identity: 1 to 128 bytes".into());
        }
        let key = parse_hex(hex)
            .ok_or("--psk-key: expected an even number of hexadecimal digits (1 to 256 bytes)")?;
        return Ok(Dtls::Psk {
            identity: id.as_bytes().to_vec(),
            key,
        });
    }
    if let (Some(cert), Some(key)) = (&a.cert, &a.key) {
        let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
        let certificate = X509::from_pem(&read(cert)?)
            .and_then(|c| c.to_der())
            .map_err(|_| format!("--cert {}: not a PEM certificate", cert.display()))?;
        let private_key = PKey::private_key_from_pem(&read(key)?)
            .and_then(|k| k.private_key_to_pkcs8())
            .map_err(|_| format!("--key {}: not a PEM private key", key.display()))?;
        let server =
            match &a.server_cert {
                Some(p) => Some(X509::from_pem(&read(p)?).and_then(|c| c.to_der()).map_err(
                    |_| format!("--server-cert {}: not a PEM certificate", p.display()),
                )?),
                None => None,
            };
        return Ok(Dtls::Certificate {
            certificate,
            private_key,
            server,
        });
    }
    Ok(Dtls::None)
}

/// Hexadecimal digits to 1 to 256 bytes.
#[cfg(feature = "dtls")]
fn parse_hex(s: &str) -> Option<Vec<u8>> {
    let digits = s.as_bytes();
    if digits.is_empty() || digits.len() > 512 || !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

/// The first line of a clap error, as `lwm2m-client: <what> (see --help)`.
fn one_line(rendered: &str) -> String {
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or("error: bad arguments");
    let mut what = first.strip_prefix("error: ").unwrap_or(first).to_string();
    // "the following required arguments were not provided:" and "cannot be
    // used with:" name the options on the lines that follow.
    if what.ends_with(':') {
        let named: Vec<&str> = lines.map(str::trim).take_while(|l| !l.is_empty()).collect();
        what = format!("{what} {}", named.join(", "));
    }
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
        Some(u) if u.host.is_empty() => Err("no host".into()),
        Some(u) if u.path != "/" && !u.path.is_empty() => {
            Err("a server URI has no path: coap://HOST[:PORT]".into())
        }
        Some(_) => Ok(s.to_string()),
        None => Err("expected coap://HOST[:PORT] or coaps://HOST[:PORT]".into()),
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
        let coaps = error(&["--server", "coaps://127.0.0.1"]);
        let needle = if cfg!(feature = "dtls") {
            "--psk-identity"
        } else {
            "--features dtls"
        };
        assert!(coaps.contains(needle), "{coaps}");
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
    #[cfg(feature = "dtls")]
    fn dtls_options() {
        let o = run(&[
            "-s",
            "coaps://127.0.0.1:5684",
            "--psk-identity",
            "dev-1",
            "--psk-key",
            "00ff10",
        ]);
        assert_eq!(
            o.dtls,
            Dtls::Psk {
                identity: b"dev-1".to_vec(),
                key: vec![0x00, 0xff, 0x10]
            }
        );
        let shown = format!("{o:?}");
        assert!(
            shown.contains("<redacted>") && !shown.contains("255"),
            "{shown}"
        );
        let e = error(&[
            "-s",
            "coaps://h",
            "--psk-identity",
            "x",
            "--psk-key",
            "c0ffeeZZ",
        ]);
        assert!(e.contains("--psk-key") && !e.contains("c0ffee"), "{e}");
        assert!(error(&["-s", "coaps://h", "--psk-identity", "x"]).contains("--psk-key"));
        assert!(
            error(&["-s", "coap://h", "--psk-identity", "x", "--psk-key", "00"])
                .contains("coaps://")
        );
        let e = error(&[
            "-s",
            "coaps://h",
            "--cert",
            "/nonexistent.pem",
            "--key",
            "/k",
        ]);
        assert!(e.contains("/nonexistent.pem"), "{e}");
        assert!(error(&["-s", "coaps://h", "--server-cert", "/s.pem"]).contains("--cert"));
        assert!(
            error(&[
                "-s",
                "coaps://h",
                "--psk-identity",
                "x",
                "--psk-key",
                "00",
                "--cert",
                "c",
                "--key",
                "k"
            ])
            .contains("cannot be used with")
        );
    }

    #[test]
    #[cfg(not(feature = "dtls"))]
    fn without_dtls_every_dtls_option_says_how_to_rebuild() {
        for args in [
            &["-s", "coaps://127.0.0.1:5684"][..],
            &["-s", "coap://h", "-s", "coaps://h"][..],
            &["-b", "-s", "coaps://h:5784"][..],
            &["-s", "coap://h", "--psk-identity", "x", "--psk-key", "00"][..],
            &["-s", "coaps://h", "--psk-identity", "x", "--psk-key", "00"][..],
            &["--cert", "c.pem", "--key", "k.pem"][..],
            &["--cert", "c", "--key", "k", "--server-cert", "s"][..],
        ] {
            let e = error(args);
            assert!(e.ends_with(NO_DTLS), "{args:?}: {e}");
        }
        assert!(error(&["--psk-identity", "x", "--psk-key", "00"]).contains("--psk-identity: "));
        assert!(error(&["-s", "coaps://h"]).contains("coaps://: "));
        match parse(["--help"]) {
            Parsed::Print(h) => {
                assert!(h.contains("--psk-identity") && h.contains("--features dtls"))
            }
            other => panic!("{other:?}"),
        }
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

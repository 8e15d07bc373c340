//! The `lwm2m-server` command line: options, starting the servers, the
//! event printer and the prompt.
//!
//! Option parsing uses `clap` (derive): it gives a `--help` a person can
//! follow and precise errors for bad options at little cost in code here;
//! the binary is a desk tool, so its size does not matter.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches, Parser};

use lwm2m_server::ServerEvent;
use lwm2m_server::config_file::load_bootstrap_toml;
use lwm2m_server::core::{BootstrapConfig, ServerConfig};
use lwm2m_server::driver::{DirFiles, Driver, ServerHandle};
#[cfg(feature = "dtls")]
use lwm2m_server::dtls::{Credentials, DtlsEvent, DtlsSessions, parse_psk_option};

mod commands;
mod json;
mod values;

#[cfg(test)]
mod tests {
    #[test]
    fn the_example_config_parses() {
        let c = lwm2m_server::config_file::parse_bootstrap_toml(super::EXAMPLE_CONFIG).unwrap();
        assert_eq!(c.default.unwrap().servers[0].lifetime, 300);
        assert_eq!(c.clients["urn:dev:42"].acls[0].acl, vec![(7, 31)]);
    }
}

use commands::{Ctx, Outcome};

/// The bundled OMA LwM2M server: a Device Management server (Register,
/// Update, Read, Write, Execute, Observe, Send...) and a Bootstrap Server,
/// over CoAP/UDP, with an interactive prompt.
///
/// Type `help` at the prompt for the commands. Example:
///
///   lwm2m-server --bootstrap-config bs.toml --serve-dir ./firmware
///
/// then point a client at coap://HOST:5683 (or coap://HOST:5783 to
/// bootstrap) and type `list`, `read dev1 /3/0`, `observe dev1 /3303/0/5700`.
///
/// With DTLS credentials (--psk, --cert/--key, or PSK Security instances in
/// the bootstrap configuration) the servers also listen on coaps://HOST:5684
/// (DM) and coaps://HOST:5784 (Bootstrap):
///
///   lwm2m-server --psk dev1:000102030405060708090a0b0c0d0e0f
#[derive(Parser, Debug)]
#[command(
    name = "lwm2m-server",
    version,
    about,
    long_about,
    verbatim_doc_comment
)]
#[cfg_attr(not(feature = "dtls"), command(after_help = NO_DTLS_HELP))]
struct Args {
    /// Address of the Device Management server (IPv4 or IPv6, port 0 for any).
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:5683")]
    listen: SocketAddr,

    /// Address of the Bootstrap Server (started with --bootstrap-config).
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:5783")]
    bootstrap_listen: SocketAddr,

    /// Security / Server instances to provision, per endpoint (TOML; print
    /// an annotated example with --example-config). Starts the Bootstrap
    /// Server.
    #[arg(long, value_name = "FILE.toml")]
    bootstrap_config: Option<PathBuf>,

    /// Serve Bootstrap and DM on the --listen socket alone.
    #[arg(long)]
    combined: bool,

    /// Serve the files of DIR at coap://HOST:PORT/fw/NAME (block-wise, with
    /// an ETag), for firmware PULL.
    #[arg(long, value_name = "DIR")]
    serve_dir: Option<PathBuf>,

    /// Print one JSON object per line for every event and command result.
    #[arg(long)]
    json: bool,

    /// Do not read commands from standard input; just serve.
    #[arg(long)]
    no_prompt: bool,

    /// Print an annotated bootstrap configuration file and exit.
    #[arg(long)]
    example_config: bool,

    /// How long a command waits for the client's answer, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    timeout: u64,

    /// coaps:// address of the DM server (DTLS 1.2), used when there are
    /// DTLS credentials; the same server as --listen.
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:5684")]
    coaps_listen: SocketAddr,

    /// coaps:// address of the Bootstrap Server, used with
    /// --bootstrap-config when there are DTLS credentials.
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:5784")]
    bootstrap_coaps_listen: SocketAddr,

    /// Accept DTLS clients with this PSK identity and key (hexadecimal
    /// after the last colon); repeatable. The PSK Security instances of
    /// --bootstrap-config are accepted too.
    #[arg(long, value_name = "IDENTITY:HEXKEY")]
    psk: Vec<String>,

    /// The server's certificate (PEM) for DTLS certificate mode
    /// (ECDHE-ECDSA); needs --key.
    #[arg(long, value_name = "PEM", requires = "key")]
    cert: Option<PathBuf>,

    /// The private key (PEM) of --cert.
    #[arg(long, value_name = "PEM", requires = "cert")]
    key: Option<PathBuf>,

    /// Accept only client certificates issued by these CA certificates
    /// (PEM); without it any client certificate whose holder proves its key
    /// is accepted.
    #[arg(long, value_name = "PEM", requires = "cert")]
    client_ca: Option<PathBuf>,
}

/// What a DTLS option says in a build without the `dtls` feature (it keeps
/// the options, so that they fail clearly instead of being unknown).
#[cfg(not(feature = "dtls"))]
const NO_DTLS: &str = "this build has no DTLS support: rebuild with `--features dtls`";

/// The end of `--help` in a build without the `dtls` feature.
#[cfg(not(feature = "dtls"))]
const NO_DTLS_HELP: &str = "This build has no DTLS support (coaps://, --psk, --cert, --key, \
--client-ca, --coaps-listen, --bootstrap-coaps-listen): rebuild with `--features dtls`.";

/// The first DTLS option given on the command line, if any.
#[cfg(not(feature = "dtls"))]
fn dtls_option(m: &clap::ArgMatches) -> Option<&'static str> {
    use clap::parser::ValueSource;
    [
        ("psk", "--psk"),
        ("cert", "--cert"),
        ("key", "--key"),
        ("client_ca", "--client-ca"),
        ("coaps_listen", "--coaps-listen"),
        ("bootstrap_coaps_listen", "--bootstrap-coaps-listen"),
    ]
    .into_iter()
    .find(|(id, _)| m.value_source(id) == Some(ValueSource::CommandLine))
    .map(|(_, option)| option)
}

/// The DTLS credentials the options and the bootstrap configuration give;
/// `None` when there are none (no coaps:// socket then).
#[cfg(feature = "dtls")]
fn credentials(
    args: &Args,
    bootstrap: Option<&BootstrapConfig>,
) -> Result<Option<Credentials>, String> {
    let mut creds = Credentials::new();
    for p in &args.psk {
        let (id, key) = parse_psk_option(p).map_err(|e| e.to_string())?;
        creds.add_psk(&id, &key).map_err(|e| e.to_string())?;
    }
    if let Some(b) = bootstrap {
        creds.add_bootstrap_psks(b).map_err(|e| e.to_string())?;
    }
    if let (Some(c), Some(k)) = (&args.cert, &args.key) {
        creds.load_certificate(c, k).map_err(|e| e.to_string())?;
    }
    if let Some(ca) = &args.client_ca {
        creds.load_client_cas(ca).map_err(|e| e.to_string())?;
    }
    Ok((!creds.is_empty()).then_some(creds))
}

/// Prints a DTLS event the way the other events are printed.
#[cfg(feature = "dtls")]
fn dtls_printer(name: &'static str, json: bool) -> impl FnMut(&DtlsEvent) + Send + 'static {
    move |e| {
        if json {
            let kind = match e {
                DtlsEvent::Established { .. } => "dtls_established",
                DtlsEvent::Failed { .. } => "dtls_failed",
                DtlsEvent::Closed { .. } => "dtls_closed",
                DtlsEvent::Evicted { .. } => "dtls_evicted",
                DtlsEvent::Refused { .. } => "dtls_refused",
                _ => "dtls",
            };
            println!(
                "{}",
                serde_json::json!({"event": kind, "server": name,
                    "address": e.peer().to_string(), "message": e.to_string()})
            );
        } else {
            println!("[{name}] {e}");
        }
    }
}

/// A `coaps://` socket to add: its address, the DTLS backend, the name the
/// printer shows, and whether it prints JSON.
type Secure = (
    SocketAddr,
    Arc<dyn lwm2m_core::session::ServerSessionFactory>,
    &'static str,
    bool,
);

#[cfg_attr(not(feature = "dtls"), allow(unused_variables, unused_mut))]
fn start(
    addr: SocketAddr,
    secure: Option<Secure>,
    config: ServerConfig,
    timeout: Duration,
    what: &str,
) -> Result<ServerHandle, String> {
    let mut d = Driver::bind(addr, config, std::process::id().into())
        .map_err(|e| format!("cannot listen on {addr} ({what}): {e}"))?;
    #[cfg(feature = "dtls")]
    if let Some((saddr, backend, name, json)) = secure {
        let hook = DtlsSessions::new(backend).with_observer(dtls_printer(name, json));
        d.bind_secure(saddr, Box::new(hook))
            .map_err(|e| format!("cannot listen on {saddr} ({what}, coaps): {e}"))?;
    }
    let h = d
        .spawn()
        .map_err(|e| format!("cannot start the {what} server: {e}"))?;
    Ok(h.with_timeout(timeout))
}

fn printer(
    rx: std::sync::mpsc::Receiver<ServerEvent>,
    name: &'static str,
    json: bool,
    ctx_peers: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, SocketAddr>>>,
) {
    std::thread::spawn(move || {
        for e in rx {
            if let ServerEvent::BootstrapStarted { endpoint, peer, .. } = &e
                && let Ok(mut m) = ctx_peers.lock()
            {
                m.insert(endpoint.clone(), *peer);
            }
            if json {
                println!("{}", json::event(&e, name));
            } else {
                let s = commands::show_event(&e, name);
                if !s.is_empty() {
                    println!("{s}");
                }
            }
        }
    });
}

/// Runs the binary; returns the process exit code.
pub fn main() -> i32 {
    let matches = Args::command().get_matches();
    let args = match Args::from_arg_matches(&matches) {
        Ok(a) => a,
        Err(e) => e.exit(),
    };
    #[cfg(not(feature = "dtls"))]
    if let Some(option) = dtls_option(&matches) {
        eprintln!("lwm2m-server: {option}: {NO_DTLS}");
        return 1;
    }
    match run(args) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("lwm2m-server: {e}");
            1
        }
    }
}

/// The example printed by `--example-config`.
const EXAMPLE_CONFIG: &str = r#"# lwm2m-server bootstrap configuration (TOML).
# Endpoints not listed under [clients] get [default]; without a [default]
# section they are refused (4.00 Bad Request).

[default]
# delete = ["/0", "/1"]   # Bootstrap-Delete targets first (this is the default)
# discover = false        # Bootstrap-Discover "/" before anything else
# read = ["/1"]           # Bootstrap-Read after the writes (/1 and /2 only)
# format = "tlv"          # tlv | senml-json | senml-cbor | lwm2m-cbor

# A Security instance (/0/1) for the DM server...
[[default.security]]
id = 1
uri = "coap://127.0.0.1:5683"
short_server_id = 1
mode = "nosec"            # nosec | psk | rpk | cert | est
# identity = "dev-1"      # PSK identity (text), or identity_hex = "..."
# secret_key_hex = "000102030405060708090a0b0c0d0e0f"

# ...and its Server instance (/1/0).
[[default.server]]
id = 0
short_server_id = 1
lifetime = 300
binding = "U"             # "UQ" for queue mode
# default_pmin = 1
# default_pmax = 60
# notification_storing = false

# One endpoint with its own settings and an Access Control instance.
[clients."urn:dev:42"]
[[clients."urn:dev:42".security]]
id = 1
uri = "coap://192.0.2.10:5683"
short_server_id = 7
[[clients."urn:dev:42".server]]
id = 0
short_server_id = 7
lifetime = 60
[[clients."urn:dev:42".acl]]
id = 0
object = 3
instance = 0
acl = { "7" = 31 }        # Short Server ID = access bits (R=1 W=2 E=4 D=8 C=16)
owner = 7
"#;

fn run(args: Args) -> Result<(), String> {
    if args.example_config {
        print!("{EXAMPLE_CONFIG}");
        return Ok(());
    }
    let timeout = Duration::from_secs(args.timeout.max(1));
    let bootstrap: Option<BootstrapConfig> = match &args.bootstrap_config {
        Some(p) => Some(load_bootstrap_toml(p).map_err(|e| e.to_string())?),
        None => None,
    };
    #[cfg(feature = "dtls")]
    let dtls: Option<Arc<dyn lwm2m_core::session::ServerSessionFactory>> =
        match credentials(&args, bootstrap.as_ref())? {
            Some(c) => Some(Arc::new(c.openssl_server().map_err(|e| e.to_string())?)),
            None => None,
        };
    #[cfg(not(feature = "dtls"))]
    let dtls: Option<Arc<dyn lwm2m_core::session::ServerSessionFactory>> = {
        // A DTLS build would also listen on coaps:// for these; say why
        // this one does not (the configuration itself is still served).
        // Security Mode 0 (/0/x/2): PSK.
        let psk = |c: &lwm2m_server::core::ClientConfig| c.security.iter().any(|s| s.mode == 0);
        if let Some(b) = &bootstrap
            && b.default.iter().chain(b.clients.values()).any(psk)
        {
            eprintln!(
                "lwm2m-server: note: no coaps:// socket for the PSK Security instances of --bootstrap-config: {NO_DTLS}"
            );
        }
        None
    };
    let secure = |addr: SocketAddr, name: &'static str| -> Option<Secure> {
        dtls.clone().map(|b| (addr, b, name, args.json))
    };
    if let Some(dir) = &args.serve_dir
        && !dir.is_dir()
    {
        return Err(format!("--serve-dir {}: not a directory", dir.display()));
    }
    let mut dm_cfg = ServerConfig::dm();
    if let Some(dir) = &args.serve_dir {
        dm_cfg.files = Some(Box::new(DirFiles(dir.clone())));
    }
    let (dm, bs) = if args.combined {
        dm_cfg.bootstrap = Some(bootstrap.unwrap_or_default());
        let dm = start(
            args.listen,
            secure(args.coaps_listen, "lwm2m"),
            dm_cfg,
            timeout,
            "LwM2M",
        )?;
        (dm, None)
    } else {
        let dm = start(
            args.listen,
            secure(args.coaps_listen, "dm"),
            dm_cfg,
            timeout,
            "DM",
        )?;
        let bs = match bootstrap {
            Some(c) => Some(start(
                args.bootstrap_listen,
                secure(args.bootstrap_coaps_listen, "bs"),
                ServerConfig::bootstrap(c),
                timeout,
                "Bootstrap",
            )?),
            None => None,
        };
        (dm, bs)
    };
    let mut ctx = Ctx::new(Some(dm.clone()), bs.clone(), args.json);
    // Subscribe before announcing the address, so that nothing a client
    // does after reading it is missed.
    printer(
        dm.subscribe().map_err(|e| e.to_string())?,
        "dm",
        args.json,
        ctx.bs_peers.clone(),
    );
    if let Some(b) = &bs {
        printer(
            b.subscribe().map_err(|e| e.to_string())?,
            "bs",
            args.json,
            ctx.bs_peers.clone(),
        );
    }
    let announce = |what: &str, h: &ServerHandle| {
        let secure = h.secure_addr();
        if args.json {
            let mut j = serde_json::json!({"event": "listening", "server": what, "address": h.local_addr().to_string()});
            if let (Some(a), Some(m)) = (secure, j.as_object_mut()) {
                m.insert("secure_address".into(), a.to_string().into());
            }
            println!("{j}");
        } else {
            match secure {
                Some(a) => println!(
                    "{what} server listening on coap://{} and coaps://{a}",
                    h.local_addr()
                ),
                None => println!("{what} server listening on coap://{}", h.local_addr()),
            }
        }
    };
    announce(
        if args.combined {
            "LwM2M (DM + Bootstrap)"
        } else {
            "DM"
        },
        &dm,
    );
    if let Some(b) = &bs {
        announce("Bootstrap", b);
    }
    if let Some(dir) = &args.serve_dir
        && !args.json
    {
        println!(
            "serving {} at coap://{}/fw/NAME",
            dir.display(),
            dm.local_addr()
        );
    }
    if args.no_prompt {
        loop {
            std::thread::park();
        }
    }
    if !args.json {
        println!("type help for the commands");
    }
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        if let Outcome::Quit = ctx.run(&line) {
            dm.shutdown();
            if let Some(b) = &bs {
                b.shutdown();
            }
            return Ok(());
        }
    }
    // Standard input closed: keep serving until killed.
    loop {
        std::thread::park();
    }
}

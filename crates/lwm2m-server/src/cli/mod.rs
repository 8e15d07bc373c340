//! The `lwm2m-server` command line: options, starting the servers, the
//! event printer and the prompt.
//!
//! Option parsing uses `clap` (derive): it gives a `--help` a person can
//! follow and precise errors for bad options at little cost in code here;
//! the binary is a desk tool, so its size does not matter.

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use lwm2m_server::ServerEvent;
use lwm2m_server::config_file::load_bootstrap_toml;
use lwm2m_server::core::{BootstrapConfig, ServerConfig};
use lwm2m_server::driver::{DirFiles, Driver, ServerHandle};

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
#[derive(Parser, Debug)]
#[command(
    name = "lwm2m-server",
    version,
    about,
    long_about,
    verbatim_doc_comment
)]
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
}

fn start(
    addr: SocketAddr,
    config: ServerConfig,
    timeout: Duration,
    what: &str,
) -> Result<ServerHandle, String> {
    let d = Driver::bind(addr, config, std::process::id().into())
        .map_err(|e| format!("cannot listen on {addr} ({what}): {e}"))?;
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
    let args = Args::parse();
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
        (start(args.listen, dm_cfg, timeout, "LwM2M")?, None)
    } else {
        let dm = start(args.listen, dm_cfg, timeout, "DM")?;
        let bs = match bootstrap {
            Some(c) => Some(start(
                args.bootstrap_listen,
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
        if args.json {
            println!(
                "{}",
                serde_json::json!({"event": "listening", "server": what, "address": h.local_addr().to_string()})
            );
        } else {
            println!("{what} server listening on coap://{}", h.local_addr());
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

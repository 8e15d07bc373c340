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

use lwm2m_server::config_file::load_bootstrap_toml;
use lwm2m_server::core::{BootstrapConfig, ServerConfig};
use lwm2m_server::driver::{DirFiles, Driver, ServerHandle};
use lwm2m_server::ServerEvent;

mod commands;
mod json;
mod values;

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
#[command(name = "lwm2m-server", version, about, long_about, verbatim_doc_comment)]
struct Args {
    /// Address of the Device Management server (IPv4 or IPv6, port 0 for any).
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:5683")]
    listen: SocketAddr,

    /// Address of the Bootstrap Server (started with --bootstrap-config).
    #[arg(long, value_name = "ADDR:PORT", default_value = "0.0.0.0:5783")]
    bootstrap_listen: SocketAddr,

    /// Security / Server instances to provision, per endpoint (TOML; see the
    /// crate documentation of `lwm2m_server::config_file` for the format).
    /// Starts the Bootstrap Server.
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
    let h = d.spawn().map_err(|e| format!("cannot start the {what} server: {e}"))?;
    Ok(h.with_timeout(timeout))
}

fn printer(rx: std::sync::mpsc::Receiver<ServerEvent>, name: &'static str, json: bool, ctx_peers: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, SocketAddr>>>) {
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

fn run(args: Args) -> Result<(), String> {
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
            Some(c) => Some(start(args.bootstrap_listen, ServerConfig::bootstrap(c), timeout, "Bootstrap")?),
            None => None,
        };
        (dm, bs)
    };
    let mut ctx = Ctx::new(Some(dm.clone()), bs.clone(), args.json);
    let announce = |what: &str, h: &ServerHandle| {
        if args.json {
            println!("{}", serde_json::json!({"event": "listening", "server": what, "address": h.local_addr().to_string()}));
        } else {
            println!("{what} server listening on coap://{}", h.local_addr());
        }
    };
    announce(if args.combined { "LwM2M (DM + Bootstrap)" } else { "DM" }, &dm);
    if let Some(b) = &bs {
        announce("Bootstrap", b);
    }
    if let Some(dir) = &args.serve_dir
        && !args.json
    {
        println!("serving {} at coap://{}/fw/NAME", dir.display(), dm.local_addr());
    }
    printer(dm.subscribe().map_err(|e| e.to_string())?, "dm", args.json, ctx.bs_peers.clone());
    if let Some(b) = &bs {
        printer(b.subscribe().map_err(|e| e.to_string())?, "bs", args.json, ctx.bs_peers.clone());
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

//! `lwm2m-client`: the demo LwM2M client. Run with `--help`; with no
//! option it runs the zero-set-up tour against the bundled server.
//!
//! | module | job |
//! |---|---|
//! | `cli` | options, `--help`, one-line errors |
//! | `app` | the driver, the loop, events, signals, restarts |
//! | `tour` | the in-process server and the printed tour |
//! | `objects` | the data model: built-ins, Temperature, Test object |
//! | `state` | the state file |
//! | `stop` | SIGINT / SIGTERM and the tour stop the loop |
//! | `log`, `clock` | readable log lines; the only clock reads |

mod app;
mod cli;
mod clock;
mod log;
mod objects;
mod state;
mod stop;
mod tour;

use std::io::Write as _;

use cli::{Parsed, Verbosity};

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let o = match cli::parse(std::env::args_os().skip(1)) {
        Parsed::Run(o) => o,
        Parsed::Print(text) => {
            // `--help | head` closes the pipe early: not an error.
            let _ = std::io::stdout().write_all(text.as_bytes());
            return 0;
        }
        Parsed::Error(line) => {
            eprintln!("{line}");
            return 2;
        }
    };
    let clock = clock::Clock::start();
    let r = if o.servers.is_empty() {
        tour::run(&o, clock)
    } else {
        let log = log::Log::new(clock, o.verbosity != Verbosity::Quiet);
        stop::stop_pipe()
            .and_then(|(stopper, pipe)| stopper.on_signals().map(|()| pipe))
            .map_err(|e| format!("cannot catch signals: {e}"))
            .and_then(|pipe| app::run(&o, &pipe, log, clock))
    };
    match r {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("lwm2m-client: {e}");
            1
        }
    }
}

//! `lwm2m-server`: the bundled LwM2M server with an interactive prompt.
//! Run with `--help`.

mod cli;

fn main() {
    std::process::exit(cli::main());
}

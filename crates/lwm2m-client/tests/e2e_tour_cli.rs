//! The binary's faces: the zero-set-up tour runs to completion (the
//! README's first command), `--help` a person can follow, and one-line
//! errors with exit code 2 for bad options.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;

use common::{BIN, Client};

#[test]
fn the_tour_runs_to_completion() {
    let mut tour = Client::start(&["--endpoint", "e2e-tour"]);
    let status = tour.wait_exit();
    tour.wait_stdout("Done in");
    let out = tour.stdout();
    assert_eq!(
        status.code(),
        Some(0),
        "stdout:\n{out}\nstderr:\n{}",
        tour.log()
    );
    for step in [
        "1. Register",
        "registered as rd/",
        "2. Read /3/0",
        "Manufacturer: lwm2m-rs",
        "3. Write /1/0/1",
        "lifetime now 60 s",
        "4. Observe /3303/0/5700",
        "(notification 3)",
        "observation cancelled",
        "5. Execute /1/0/8",
        "6. De-register",
        "the client has left",
    ] {
        assert!(out.contains(step), "{step:?} missing from the tour:\n{out}");
    }
    assert!(out.lines().count() <= 40, "short:\n{out}");
    // Quiet by default: the client's own log stays out of the way.
    assert_eq!(tour.log(), "", "stderr");
}

#[test]
fn help_is_printed_and_exits_zero() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8(out.stdout).unwrap();
    for opt in [
        "--endpoint <NAME>",
        "--server <URI>",
        "--bootstrap",
        "--lifetime <S>",
        "--state-file <FILE>",
        "--binding <U|UQ>",
        "--version <1.0|1.1|1.2>",
        "Examples:",
    ] {
        assert!(help.contains(opt), "{opt:?} missing from --help:\n{help}");
    }
}

#[test]
fn bad_options_are_one_line_and_exit_two() {
    for (args, needle) in [
        (&["--server", "http://127.0.0.1"][..], "coap://HOST"),
        (&["--lifetime", "0"][..], "--lifetime"),
        (&["--binding", "S"][..], "--binding"),
        (&["--version", "1.3"][..], "--version"),
        (&["--bootstrap"][..], "--bootstrap"),
        (&["--no-such-option"][..], "--no-such-option"),
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("lwm2m-client: "), "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

/// Without the `dtls` feature a `coaps://` server or a DTLS option is one
/// line saying how to rebuild, exit code 2, like any bad option.
#[cfg(not(feature = "dtls"))]
#[test]
fn without_dtls_coaps_says_how_to_rebuild() {
    for (args, what) in [
        (&["--server", "coaps://127.0.0.1:5684"][..], "coaps://"),
        (
            &[
                "-s",
                "coaps://127.0.0.1",
                "--psk-identity",
                "dev1",
                "--psk-key",
                "00ff",
            ][..],
            "--psk-identity",
        ),
        (
            &["-s", "coaps://h", "--cert", "d.pem", "--key", "d.key"][..],
            "--cert",
        ),
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            err,
            format!(
                "lwm2m-client: {what}: this build has no DTLS support: rebuild with `--features dtls`\n"
            ),
            "{args:?}"
        );
        assert!(out.stdout.is_empty());
    }
}

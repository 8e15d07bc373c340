//! The load benchmark runs end to end with tiny counts: every case
//! completes without errors and prints its figure beside its floor. No
//! speed is checked (DEVELOPERS.md rule 4: speed is measured, not
//! asserted); the heap allocations per Read, a count, are.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;

#[test]
fn load_runs_every_case_with_tiny_counts() {
    let out = Command::new(env!("CARGO_BIN_EXE_load"))
        .args([
            "--quick",
            "--requests",
            "200",
            "--window",
            "4",
            "--write-kib",
            "32",
            "--registers",
            "40",
            "--register-pool",
            "8",
            "--notifications",
            "20",
            "--fleet",
            "10",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "load failed: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    for case in [
        "Read /3/0 TLV, 1 in flight (raw)",
        "Read /3/0 TLV, 4 in flight (server)",
        "Block1 32 KiB to /5/0/0, 1 KiB blocks (server)",
        "Register, 8 endpoints in turn (raw)",
        "Register, new sans-IO client each (8 names)",
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(case))
            .unwrap_or_else(|| panic!("no `{case}` line in\n{text}"));
        assert!(!line.contains("errors"), "{line}");
    }
    assert!(text.contains("20 of 20 sent"), "{text}");
    // Counted, not timed: the client answers Reads without a heap
    // allocation (issue 5 item 4; STYLE "Hot paths don't allocate").
    let allocs = text
        .lines()
        .find(|l| l.contains("heap allocations per Read"))
        .unwrap_or_else(|| panic!("no allocation line in\n{text}"));
    assert!(
        allocs.contains("0.0000 (0.0 B) raw, 0.0000 (0.0 B) server-driven"),
        "{allocs}"
    );
    assert!(text.contains("10 registered"), "{text}");
}

//! Benchmark harness: each benchmark prints its figure beside a floor
//! measured in the same run.
//!
//! No framework: [`median_ns`] runs a closure in batches and reports the
//! median time per call, which is steady enough for ratios against a floor
//! measured the same way a moment earlier.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Instant;

/// Runs `f` `iters` times per batch, `batches` times, and returns the
/// median nanoseconds per call.
pub fn median_ns(batches: usize, iters: u64, mut f: impl FnMut()) -> f64 {
    // Warm caches and branch predictors first.
    for _ in 0..iters.min(10_000) {
        f();
    }
    let mut per_call: Vec<f64> = (0..batches.max(1))
        .map(|_| {
            let t = Instant::now();
            for _ in 0..iters {
                f();
            }
            t.elapsed().as_nanos() as f64 / iters as f64
        })
        .collect();
    per_call.sort_by(|a, b| a.total_cmp(b));
    per_call[per_call.len() / 2]
}

/// One result line: the figure, its floor, and their ratio.
pub fn report(name: &str, bytes: usize, ns: f64, floor_name: &str, floor_ns: f64) {
    println!(
        "{name:<34} {bytes:>5} B  {ns:>8.1} ns/msg   {floor_name} {floor_ns:>7.1} ns   ratio {:>6.1}x",
        ns / floor_ns.max(0.001)
    );
}

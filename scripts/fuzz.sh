#!/usr/bin/env bash
# Fuzzes one target (or every target) for a bounded time on the stable
# toolchain without sanitizers. New corpus entries land in fuzz/corpus/,
# which the stable test `fuzz_corpus` replays in CI.
#   scripts/fuzz.sh                 # every target, 60 s each
#   scripts/fuzz.sh coap_message 600
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
secs="${2:-60}"
targets="${1:-$(cargo fuzz list)}"
for t in $targets; do
    echo "== fuzzing $t for ${secs}s"
    cargo fuzz run -s none "$t" "corpus/$t" -- -max_total_time="$secs" -max_len=4096
done

#!/usr/bin/env bash
# CPU instructions per Read of /3/0 (TLV) in the client, beside a bare UDP
# echo floor, both counted by callgrind for two request counts and
# differenced (issue 5 item 4); then where the client's instructions go,
# per Read and per function, from the same two runs.
#
#   scripts/callgrind-read.sh                   # counts 1000 and 11000
#   scripts/callgrind-read.sh --counts 500,5500
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind is not installed (Debian: apt-get install valgrind)" >&2
    exit 2
fi

counts="1000,11000"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    [ "${args[$i]}" = "--counts" ] && counts="${args[$((i + 1))]}"
done
a="${counts%,*}"
b="${counts#*,}"

cargo build --release --locked -p lwm2m-bench --bin load
target/release/load --callgrind "$@"

command -v callgrind_annotate >/dev/null 2>&1 || exit 0
dir=target/release/callgrind
# Per-function instructions per Read: (run b - run a) / (b - a), by
# function name (callgrind_annotate splits a function by the source file of
# its inlined lines; self costs of the parts are added up, inclusive ones
# are not additive and the largest part is shown).
per_read() {
    local mode=$1
    paste -d'\n' \
        <(callgrind_annotate --auto=no --inclusive="$mode" --threshold=100 "$dir/client.$a.out" 2>/dev/null | sed 's/^/A /') \
        <(callgrind_annotate --auto=no --inclusive="$mode" --threshold=100 "$dir/client.$b.out" 2>/dev/null | sed 's/^/B /') |
        awk -v mode="$mode" -v n=$((b - a)) '
            $1 != "A" && $1 != "B" { next }
            $2 ~ /^[0-9,]+$/ && $3 ~ /^\(/ {
                side = $1; ir = $2; gsub(",", "", ir); ir += 0
                line = $0; sub(/^[AB] +[0-9,]+ +\( *[0-9.]+%\) +/, "", line)
                if (line ~ /PROGRAM TOTALS/) next
                sub(/ \[[^]]*\]$/, "", line); sub(/ \([0-9,]+x\)$/, "", line)
                fn = line; if (index(fn, ":") > 0) fn = substr(fn, index(fn, ":") + 1)
                if (mode == "yes") { if (ir > v[side, fn]) v[side, fn] = ir }
                else v[side, fn] += ir
                seen[fn] = 1
            }
            END { for (f in seen) { d = (v["B", f] - v["A", f]) / n; if (d >= 20) printf "%8.0f  %s\n", d, f } }' |
        sort -rn | head -"$2"
}
echo
echo "== client: self instructions per Read, by function"
per_read no 30
echo
echo "== client: inclusive instructions per Read, by function"
per_read yes 40

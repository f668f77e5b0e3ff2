#!/usr/bin/env bash
# Reproduce the README "Performance" numbers (issue 13).
#
# Primary figure: callgrind marginal instructions per customer on bench-v1, one thread:
# (instructions at 51,000 customers - instructions at 1,000) / 50,000, for the control alone
# and for control + points (the points design's cost is the difference). Instruction counts
# do not depend on the load of a shared machine; times do.
# Then, unless --no-criterion is given, the criterion bench (bench_v1/engine vs bench_v1/bare).
#
# Usage: scripts/bench.sh [--no-criterion]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "bench.sh: valgrind is needed" >&2; exit 1; }
cargo build --profile profiling --quiet
bin=target/profiling/loyalsim
work=target/bench
mkdir -p "$work"
# Control-only variant of bench-v1: the file up to its second [[designs]] table.
awk '/^\[\[designs\]\]/{n++} n<2' scenarios/bench-v1.toml > "$work/bench-v1-control.toml"

count() { # scenario customers -> instructions
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" run "$1" \
    --customers "$2" --threads 1 --no-charts --quiet --out "$work/out-$2" 2>&1 \
    | sed -n 's/.*refs: *//p' | tr -d ,
}
marginal() { # scenario -> instructions per customer
  local small big
  small=$(count "$1" 1000)
  big=$(count "$1" 51000)
  echo $(( (big - small) / 50000 ))
}
control=$(marginal "$work/bench-v1-control.toml")
both=$(marginal scenarios/bench-v1.toml)
echo "bench-v1 marginal instructions per customer (callgrind, 1 thread):"
echo "  control only        $control"
echo "  control + points    $both"
echo "  points design alone $(( both - control ))"
if [[ "${1:-}" != "--no-criterion" ]]; then
  cargo bench --bench engine -- bench_v1
fi

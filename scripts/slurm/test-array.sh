#!/usr/bin/env bash
# The real-scheduler test of issue 7: a small sweep as a 4-task Slurm job array plus a
# dependent merge job, whose output must be byte-identical to the single-process sweep.
# Installs and starts a single-node cluster (scripts/slurm/local-cluster.sh) and stops the
# daemons it started. With CI=true, failing to get Slurm is a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=$(pwd)
cluster=scripts/slurm/local-cluster.sh
if ! bash "$cluster" install; then
  if [ "${CI:-}" = true ]; then echo "slurm test: could not install Slurm" >&2; exit 1; fi
  echo "slurm test: skipped (no Slurm)"; exit 0
fi
t0=$SECONDS
trap 'bash "$here/$cluster" stop' EXIT
bash "$cluster" start
echo "slurm test: cluster up in $((SECONDS - t0)) s"
cargo build --release --locked -q
bin="${CARGO_TARGET_DIR:-$here/target}/release/loyalsim"
work=$(mktemp -d /tmp/loyalsim-slurm.XXXXXX)
chmod 755 "$work"
sweep="$here/tests/fixtures/sweep-small.toml"
"$bin" sweep "$sweep" --out "$work/local" --quiet
LOYALSIM="$bin" SWEEP="$sweep" SHARDS=4 OUT="$work/array" bash scripts/slurm/sweep.sbatch
read -r array merge < "$work/array/jobs"
for _ in $(seq 360); do
  state=$(scontrol show job "$merge" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 || true)
  case "$state" in COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL) break;; esac
  sleep 0.5
done
if [ "$state" != COMPLETED ]; then
  echo "slurm test: merge job $merge ended as '$state'" >&2
  cat "$work"/array/logs/*.log >&2 || true
  exit 1
fi
ls "$work/array/parts" | grep -c partial- | grep -qx 4 || { echo "slurm test: expected 4 partials" >&2; exit 1; }
if diff -r -x .loyalsim-output "$work/local" "$work/array/results" >/dev/null; then
  echo "slurm test: 4-task job array + merge job: byte-identical to the local sweep ($((SECONDS - t0)) s in all)"
  rm -rf "$work"
else
  echo "slurm test: merged array output differs from the local sweep" >&2
  diff -rq -x .loyalsim-output "$work/local" "$work/array/results" >&2 || true
  exit 1
fi

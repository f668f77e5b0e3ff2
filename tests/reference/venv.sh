#!/usr/bin/env bash
# Create (once) the Python venv of the issue-16 reference test and print its python.
# Packages come from PyPI, pinned; the venv lives under target/ so `cargo clean` removes it.
# Several tests call this at once: an exclusive lock makes one build and the others wait, and
# the stamp is written last, so a killed build is rebuilt from scratch next time.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${LOYALSIM_AB_VENV:-$root/target/ab-reference-venv}"
stamp="$venv/.installed-v1"
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [ ! -f "$stamp" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    gbstats==0.8.0 statsmodels==0.15.0 mpmath==1.4.1 >&2
  touch "$stamp"
fi
echo "$venv/bin/python"

#!/usr/bin/env bash
# The KdGat benchmark: bash bench/run.sh [--quick] [--reps N] [--big N] [--hash-gb G]
# Installs its peers (Debian's snakemake 7.21, GNU make, GNU time) when missing, then runs
# bench/bench.py, which prints the table and writes bench/out/results.md and bench/out/raw.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v snakemake >/dev/null || need+=(snakemake)
command -v make >/dev/null || need+=(make)
[ -x /usr/bin/time ] || need+=(time)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  # --no-install-recommends: snakemake's recommends pull in hundreds of MB it does not need here
  $SUDO apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${need[@]}"
fi
mkdir -p bench/out
exec python3 bench/bench.py "$@"

#!/usr/bin/env bash
# Runs every test: starts what the tests need (a real single-node SLURM, Chromium for the
# report screenshot), runs `dotnet test KdGat.sln`, then stops only what it started.
# Usage: bash scripts/test.sh [extra dotnet test args]
set -euo pipefail
cd "$(dirname "$0")/.."

started_slurm=0
cleanup() {
  if [ "$started_slurm" = 1 ]; then bash scripts/slurm/stop-local-slurm.sh || true; fi
}
trap cleanup EXIT

if [ -f scripts/slurm/start-local-slurm.sh ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== starting a local single-node SLURM (scripts/slurm/start-local-slurm.sh)"
    bash scripts/slurm/start-local-slurm.sh
    started_slurm=1
  else
    echo "== not root: SLURM tests use an already running cluster or are skipped (CI=true makes them fail instead)"
  fi
fi
if [ -f scripts/chromium/ensure-chromium.sh ] && [ "$(id -u)" = 0 ]; then
  echo "== ensuring headless Chromium (scripts/chromium/ensure-chromium.sh)"
  bash scripts/chromium/ensure-chromium.sh
fi
if [ -f scripts/strace/ensure-strace.sh ] && [ "$(id -u)" = 0 ]; then bash scripts/strace/ensure-strace.sh; fi

echo "== dotnet test KdGat.sln"
dotnet test KdGat.sln -c Release --logger "console;verbosity=normal" "$@"

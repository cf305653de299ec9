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

echo "== dotnet build KdGat.sln, then dotnet test KdGat.sln"
# Built first, then tested with --no-build and -maxcpucount: the test projects run side by side, one per
# core. `dotnet test` that builds ran them one after another, even with -maxcpucount (17.6 min on 2 cores,
# of which the end-to-end suite's CPU-bound builds and the SLURM suite's waiting on jobs were 14).
# Test projects that build the repository's tools take a lock (KdGat.Testing/Tools).
dotnet build KdGat.sln -c Release -nologo -v:q
dotnet test KdGat.sln -c Release --no-build -maxcpucount --logger "console;verbosity=normal" "$@"

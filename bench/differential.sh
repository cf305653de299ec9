#!/usr/bin/env bash
# The long differential run: bash bench/differential.sh [MUTATIONS] [SEED]
# Runs the suite's differential test (tests/KdGat.EndToEnd.Tests/Differential) with 300 seeded
# mutations by default: after each one, the incremental build must be byte-identical to a
# from-scratch build of the same tree. On a failure it prints the seed and every mutation, and
# KDGAT_DIFF_SEED=<seed> KDGAT_DIFF_MUTATIONS=<n> replays exactly that sequence. With
# KDGAT_DIFF_SERVER=1 the incremental builds go through one MSBuild server (README "Faster no-ops").
set -euo pipefail
cd "$(dirname "$0")/.."
export KDGAT_DIFF_MUTATIONS="${1:-${KDGAT_DIFF_MUTATIONS:-300}}"
export KDGAT_DIFF_SEED="${2:-${KDGAT_DIFF_SEED:-$(date +%s)}}"
echo "differential: $KDGAT_DIFF_MUTATIONS mutations, seed $KDGAT_DIFF_SEED${KDGAT_DIFF_SERVER:+, server $KDGAT_DIFF_SERVER}"
dotnet build tests/KdGat.EndToEnd.Tests -c Release -v:q -nologo
exec dotnet test tests/KdGat.EndToEnd.Tests -c Release --no-build \
  --filter "FullyQualifiedName~Differential.DifferentialTests" --logger "console;verbosity=detailed"

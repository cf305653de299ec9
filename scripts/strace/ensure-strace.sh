#!/usr/bin/env bash
# Makes Debian's `strace` available for -t:Audit and its tests (tests/KdGat.Core.Tests/Auditing,
# tests/KdGat.EndToEnd.Tests/AuditTests.cs). Idempotent and quiet: does nothing when strace is on
# PATH. Needs root (or passwordless sudo) only when it has to install.
set -euo pipefail

if command -v strace >/dev/null 2>&1; then
  echo "strace: $(command -v strace) ($(strace -V 2>/dev/null | head -n1))"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "ensure-strace: strace is missing and this is not root; install the Debian package 'strace' (apt-get install strace)." >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends strace >/dev/null

command -v strace >/dev/null 2>&1 || { echo "ensure-strace: installed, but no strace on PATH" >&2; exit 1; }
echo "strace: $(command -v strace) ($(strace -V 2>/dev/null | head -n1))"

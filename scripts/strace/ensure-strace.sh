#!/usr/bin/env bash
# Makes Debian's `strace` available for -t:Audit and its tests (tests/KdGat.Core.Tests/Auditing,
# tests/KdGat.EndToEnd.Tests/AuditTests.cs). Idempotent and quiet: does nothing when strace is on
# PATH. Needs root (or passwordless sudo) only when it has to install.
set -euo pipefail

if command -v strace >/dev/null 2>&1; then
  echo "strace: $(command -v strace) ($(strace -V 2>/dev/null | head -n1))"
  exit 0
fi

. "$(dirname "$0")/../lib/apt-install.sh"
apt_install ensure-strace strace

command -v strace >/dev/null 2>&1 || { echo "ensure-strace: installed, but no strace on PATH" >&2; exit 1; }
echo "strace: $(command -v strace) ($(strace -V 2>/dev/null | head -n1))"

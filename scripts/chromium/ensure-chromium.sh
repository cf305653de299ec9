#!/usr/bin/env bash
# Makes Debian's `chromium` available for the Report screenshot test (tests/KdGat.Tracking.Tests).
# Idempotent: does nothing when a chromium binary is already on PATH (or $KDGAT_CHROMIUM is set).
# Needs root (or passwordless sudo) only when it has to install.
set -euo pipefail

find_chromium() {
  if [[ -n "${KDGAT_CHROMIUM:-}" && -x "${KDGAT_CHROMIUM}" ]]; then echo "$KDGAT_CHROMIUM"; return 0; fi
  for c in chromium chromium-browser google-chrome-stable google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
  done
  return 1
}

if path=$(find_chromium); then
  echo "chromium: $path ($("$path" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "ensure-chromium: chromium is missing and this is not root; install the Debian package 'chromium'." >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# fonts-dejavu-core: the report's text must render with a real font in the screenshot.
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null

path=$(find_chromium) || { echo "ensure-chromium: installed, but no chromium binary on PATH" >&2; exit 1; }
echo "chromium: $path ($("$path" --version 2>/dev/null || echo 'version unknown'))"

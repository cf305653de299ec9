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

# fonts-dejavu-core: the report's text must render with a real font in the screenshot.
. "$(dirname "$0")/../lib/apt-install.sh"
apt_install ensure-chromium chromium fonts-dejavu-core

path=$(find_chromium) || { echo "ensure-chromium: installed, but no chromium binary on PATH" >&2; exit 1; }
echo "chromium: $path ($("$path" --version 2>/dev/null || echo 'version unknown'))"

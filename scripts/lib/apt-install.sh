#!/usr/bin/env bash
# Sourced by scripts/*/ensure-*.sh: apt_install WHO PACKAGE... installs Debian packages as root,
# or through passwordless sudo, and fails with one line naming the packages otherwise.
apt_install() {
  local who=$1; shift
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; else
      echo "$who: $* missing and this is not root; install the Debian package(s) $* (apt-get install $*)." >&2
      return 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

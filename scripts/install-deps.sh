#!/usr/bin/env bash
# Installs the Debian 12 packages the build needs (.ci/packages lists them, with the ones the
# test suite needs: Debian's gearmand, PHP, Perl). Skips what is installed; needs root for apt.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
pkgs=$(grep -v '^\s*#' .ci/packages | grep -v '^\s*$' | tr '\n' ' ')
missing=$(for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
done)
if [ -n "$missing" ]; then
  echo "Installing: $missing"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  # policy-rc.d keeps Debian's gearman-job-server from starting a service on port 4730.
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
  $sudo rm -f /usr/sbin/policy-rc.d
fi

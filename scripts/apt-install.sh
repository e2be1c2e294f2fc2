#!/usr/bin/env bash
# Installs Debian packages with apt-get (as root, or with sudo), saying why; used by the set-up scripts.
#   scripts/apt-install.sh "<what they are for>" package...
set -euo pipefail
why=$1; shift
echo "==> Installing Debian's $* $why (apt-get install)"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "error: $* missing, and installing needs root: run 'apt-get install $*' as root." >&2
    exit 1
  fi
fi
${SUDO:-} apt-get update -qq
# A package's own service is not started: the project starts its own servers, on free ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  echo exit 101 | ${SUDO:-} tee /usr/sbin/policy-rc.d >/dev/null && ${SUDO:-} chmod +x /usr/sbin/policy-rc.d
  trap '${SUDO:-} rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive ${SUDO:-} apt-get install -y -qq "$@"

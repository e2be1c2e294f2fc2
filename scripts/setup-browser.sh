#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (Playwright's own browser download cannot work offline).
set -euo pipefail
[ -x /usr/bin/chromium ] || exec "$(dirname "$0")/apt-install.sh" "for the browser tests" chromium

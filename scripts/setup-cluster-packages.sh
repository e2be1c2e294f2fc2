#!/usr/bin/env bash
# The production-like cluster (make cluster) and its tests use Debian's PostgreSQL, Redis and nginx.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ ${#missing[@]} -eq 0 ] || exec "$(dirname "$0")/apt-install.sh" "for the cluster" "${missing[@]}"

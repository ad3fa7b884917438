#!/usr/bin/env bash
# As in the official image: `docker run IMAGE -m 256` means `memcached -m 256`.
set -euo pipefail

if [[ ${1:-} == -* ]]; then
    set -- memcached "$@"
fi
exec "$@"

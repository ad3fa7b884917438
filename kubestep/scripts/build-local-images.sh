#!/usr/bin/env bash
# Build backing services' images (PostgreSQL, MariaDB, Redis, memcached, RabbitMQ) from
# Debian packages on top of the local base image: nothing can be pulled from a registry here.
# Each one takes the official image's environment variables; kubestep/catalog.py names them.
#
# usage: build-local-images.sh [NAME...]   (default: all)
#        build-local-images.sh --list      (each name and its tag)
# env:   FORCE=1 rebuilds images that are present; BASE_IMAGE overrides the base.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
images_dir=$(cd "$here/../images" && pwd)
base_image=${BASE_IMAGE:-kubestep-local/python:3.11-bookworm}

# name -> tag; the tag says the version Debian bookworm packages.
declare -A tags=(
    [postgres]=kubestep-local/postgres:15
    [mariadb]=kubestep-local/mariadb:10.11
    [redis]=kubestep-local/redis:7
    [memcached]=kubestep-local/memcached:1.6
    [rabbitmq]=kubestep-local/rabbitmq:3.10
)
all_names=(postgres mariadb redis memcached rabbitmq)

image_tag() {
    if [[ -z $1 || -z ${tags[$1]:-} ]]; then
        local valid
        valid=$(printf ', %s' "${all_names[@]}")
        echo "error: unknown image '$1' (valid: ${valid:2})" >&2
        return 1
    fi
    echo "${tags[$1]}"
}

run() {
    echo "+ $*"
    "$@"
}

# The classic builder is this script's choice (these machines have no buildx), so its
# "DEPRECATED: The legacy builder is deprecated" banner says nothing the user can act on.
# The banner is a first line, lines indented under it, and one empty line.
without_builder_banner() {
    awk '
        banner && /^ / { next }
        banner && /^$/ { banner = 0; next }
        { banner = 0 }
        /^DEPRECATED: The legacy builder is deprecated/ { banner = 1; next }
        { print; fflush() }
    '
}

if [ "${1:-}" = --list ]; then
    for name in "${all_names[@]}"; do
        echo "$name ${tags[$name]}"
    done
    exit 0
fi

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    names=("${all_names[@]}")
fi
# Check every name before building anything.
for name in "${names[@]}"; do
    image_tag "$name" >/dev/null
done

bash "$here/build-base-image.sh" "$base_image"

for name in "${names[@]}"; do
    tag=$(image_tag "$name")
    if [ "${FORCE:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
        echo "image $tag is present (FORCE=1 rebuilds it)"
        continue
    fi
    # stderr goes through the filter, stdout as it is; pipefail keeps docker's exit status.
    {
        DOCKER_BUILDKIT=0 run docker build --force-rm --build-arg "BASE_IMAGE=$base_image" \
            -t "$tag" "$images_dir/$name" 2>&1 1>&3 3>&- | without_builder_banner >&2
    } 3>&1
done

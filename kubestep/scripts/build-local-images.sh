#!/usr/bin/env bash
# Build the backing services that compose tests need (PostgreSQL, Redis) from Debian
# packages on top of the local base image: nothing can be pulled from a registry here.
#
# usage: build-local-images.sh [postgres] [redis]   (default: all)
# env:   FORCE=1 rebuilds images that are present; BASE_IMAGE overrides the base.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
images_dir=$(cd "$here/../images" && pwd)
base_image=${BASE_IMAGE:-kubestep-local/python:3.11-bookworm}

image_tag() {
    case "$1" in
        postgres) echo kubestep-local/postgres:15 ;;
        redis) echo kubestep-local/redis:7 ;;
        *) echo "error: unknown image '$1' (valid: postgres, redis)" >&2; return 1 ;;
    esac
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

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
    names=(postgres redis)
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

#!/usr/bin/env bash
# Build a Debian-based Python image with no registry at all: air-gapped networks and CI
# have Debian packages (or a mirror of them) but cannot pull from Docker Hub.
set -euo pipefail

tag=${1:-kubestep-local/python:3.11-bookworm}
suite=${DEBIAN_SUITE:-bookworm}
cache_dir=${KUBESTEP_CACHE:-$HOME/.cache/kubestep}
cache_file="$cache_dir/$(printf '%s' "$tag" | tr '/:' '__').tar.zst"

default_mirror() {
    local sources=/etc/apt/sources.list.d/debian.sources
    if [ -r "$sources" ]; then
        awk '/^URIs:/ { print $2; exit }' "$sources"
    else
        echo http://deb.debian.org/debian
    fi
}
mirror=${DEBIAN_MIRROR:-$(default_mirror)}

if docker image inspect "$tag" >/dev/null 2>&1; then
    echo "base image $tag is present"
    exit 0
fi
if [ -s "$cache_file" ]; then
    echo "+ zstd -dc $cache_file | docker load"
    zstd -dc "$cache_file" | docker load
    exit 0
fi

for tool in debootstrap zstd; do
    command -v "$tool" >/dev/null || { echo "error: $tool is missing (apt-get install $tool)" >&2; exit 1; }
done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
echo "+ debootstrap --variant=minbase $suite $root $mirror"
debootstrap --variant=minbase \
    --include=python3,python3-venv,python3-pip,ca-certificates,procps,iproute2 \
    "$suite" "$root" "$mirror" >"$root.log" 2>&1 || { tail -20 "$root.log" >&2; exit 1; }
rm -f "$root.log"

# Trim what an image never needs: apt caches and lists, docs, man pages, locales.
rm -rf "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'C.*' -exec rm -rf {} +
rm -f "$root"/usr/lib/python3.*/EXTERNALLY-MANAGED
ln -sf python3 "$root/usr/bin/python"
# Keep the image's apt on the same mirror, over plain http, for derived images.
echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"

echo "+ docker import $tag"
tar -C "$root" -c . | docker import \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["python3"]' - "$tag"

mkdir -p "$cache_dir"
docker save "$tag" | zstd -q -T0 -o "$cache_file.tmp" && mv "$cache_file.tmp" "$cache_file"
echo "saved $cache_file"

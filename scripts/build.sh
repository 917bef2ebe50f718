#!/usr/bin/env bash
# Configures and builds nvmfd (preset "release" into build/ unless NVMFD_PRESET says otherwise).
# Arguments, if any, are the targets to build (default: everything).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
preset=${NVMFD_PRESET:-release}
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/nvmfd-ccache}
# Paths relative to the checkout, so that any clone (CI's included) shares the cache.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-1}
cmake --preset "$preset" >/dev/null
case "$preset" in
  asan) dir=build-asan ;; fuzz) dir=build-fuzz ;; *) dir=build ;;
esac
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$dir" -j"$(nproc)" "${targets[@]}"

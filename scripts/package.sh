#!/usr/bin/env bash
# Builds the Debian package: build/nvmfd_VERSION_amd64.deb (CPack, packaging/CMakeLists.txt),
# with nvmfd, nvmfctl, nvmf-perf, nvmfd.service, /etc/nvmfd/nvmfd.json, the man pages and
# nvmfctl's bash completion. Builds only what the package holds (not the tests).
# Install it with: apt install ./build/nvmfd_VERSION_amd64.deb
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh nvmfd nvmfctl nvmf-perf nvmfd_docs nvmfd_changelog
cd build
cpack -G DEB
ls -1 "$PWD"/nvmfd_*_amd64.deb

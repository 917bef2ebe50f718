#!/usr/bin/env bash
# Builds nvmfd and runs every test: unit, integration, and interop with the Linux kernel.
# Quick inner loop without the slow ones: scripts/test.sh -LE slow
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
cd build
ctest --output-on-failure -j2 --timeout 900 "$@"

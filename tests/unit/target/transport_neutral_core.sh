#!/usr/bin/env bash
# Checks that the target core is transport-neutral (docs/architecture.md, "Target core and
# transports"): no file of src/target outside the transports includes, directly or through
# other headers, anything of NVMe/TCP (nvme_tcp/, target/tcp/), and none names anything
# tcp_* (or socket_address) outside comments. The transports live in their own directories
# (target/tcp/) and are not checked; the connection registry (nvmf_target) is core: it holds
# target_queue and target_transport only.
# Usage: transport_neutral_core.sh SRC_DIR
set -euo pipefail
src=${1:?usage: transport_neutral_core.sh SRC_DIR}
cd "$src"

is_transport() {
  case "$1" in
    target/tcp/*) return 0 ;;
    *) return 1 ;;
  esac
}

declare -A seen
# Prints each header reached from $1 (paths relative to src), once.
walk() {
  local inc
  for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$1"); do
    [ -f "$inc" ] || continue  # not ours (tests/..., system headers in quotes)
    [ -n "${seen[$inc]:-}" ] && continue
    seen[$inc]=1
    echo "$inc"
    walk "$inc"
  done
}

status=0
checked=0
for f in target/*.h target/*.cc target/*/*.h target/*/*.cc; do
  [ -f "$f" ] || continue
  is_transport "$f" && continue
  checked=$((checked + 1))
  if sed 's://.*$::' "$f" | grep -nE '\b(tcp_[A-Za-z0-9_]*|socket_address)\b'; then
    echo "FAIL: $f names a TCP type" >&2
    status=1
  fi
  seen=()
  for h in $(walk "$f"); do
    case "$h" in
      nvme_tcp/*|target/tcp/*)
        echo "FAIL: $f reaches $h" >&2
        status=1 ;;
    esac
  done
done
[ "$checked" -gt 0 ] || { echo "FAIL: no core files under $src/target" >&2; exit 1; }
[ "$status" -eq 0 ] && echo "ok: $checked target core files include no transport"
exit "$status"

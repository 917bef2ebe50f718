#!/usr/bin/env bash
# Checks that the target core is transport-neutral (docs/architecture.md, "Target core and
# transports"): no file of src/target outside the transports includes, directly or through
# other headers, anything of NVMe/TCP (nvme_tcp/, target/tcp/) or NVMe/RDMA (target/rdma/,
# proto/nvme_rdma.h), and none names anything tcp_*, rdma_*, ibv_* (or socket_address) outside
# comments. The transports live in their own directories (target/tcp/, target/rdma/) and carry
# commands only: none names an opcode group or a command group's handler (they call the steps
# of command_handlers.h, begin_command, execute_command, io_step_done, and nothing else); the connection registry (nvmf_target) is core: it holds
# target_queue and target_transport only.
# Usage: transport_neutral_core.sh SRC_DIR
set -euo pipefail
src=${1:?usage: transport_neutral_core.sh SRC_DIR}
cd "$src"

is_transport() {
  case "$1" in
    target/tcp/*|target/rdma/*) return 0 ;;
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
  if is_transport "$f"; then
    if sed 's://.*$::' "$f" | grep -nE '\b(admin_opcode|io_opcode|fabrics_type|execute_(fabrics|admin|io|get_log_page|reservation|auth_send|auth_receive)|prepare_(command|io|reservation))\b'; then
      echo "FAIL: transport file $f handles NVMe commands itself" >&2
      status=1
    fi
    continue
  fi
  checked=$((checked + 1))
  if sed 's://.*$::' "$f" | grep -nE '\b(tcp_[A-Za-z0-9_]*|rdma_[A-Za-z0-9_]*|ibv_[A-Za-z0-9_]*|socket_address)\b'; then
    echo "FAIL: $f names a TCP or RDMA type" >&2
    status=1
  fi
  seen=()
  for h in $(walk "$f"); do
    case "$h" in
      nvme_tcp/*|target/tcp/*|target/rdma/*|proto/nvme_rdma.h)
        echo "FAIL: $f reaches $h" >&2
        status=1 ;;
    esac
  done
done
[ "$checked" -gt 0 ] || { echo "FAIL: no core files under $src/target" >&2; exit 1; }
[ "$status" -eq 0 ] && echo "ok: $checked target core files include no transport"
exit "$status"

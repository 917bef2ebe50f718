#!/usr/bin/env bash
# Interop: per-host namespace visibility and namespace change events, seen by the Linux kernel
# host (6.1 nvme-tcp, nvme-cli 2.3, in a QEMU guest, slirp) connected to nvmfd. nvmfd exports
# one subsystem with namespaces 1-3 added with no_auto_visible (1 visible to host A, 2 to host
# B, 3 to nobody) and namespace 4 on a logical volume (visible to all). The guest connects as
# host A and host B (two controllers, one kernel) and, in ONE boot (guest_kernel_ns_visibility.sh):
#   - each controller has exactly its namespaces (A: 1 4, B: 2 4), in the kernel's block
#     devices and in nvme list-ns
#   - nvmf_ns_add_host 3 for A (RPC on the host side through `lp-host hook`, the guest stays
#     connected): the kernel rescans on the Namespace Attribute Changed AEN and namespace 3
#     appears for A (written and read back), not for B
#   - nvmf_ns_remove_host 1 for A: namespace 1 disappears from A
#   - bdev_lvol_resize of namespace 4's volume 8 -> 16 MiB: /sys/block size, nvme id-ns NSZE
#     and nvme list show the new size on both controllers
#   - nvmf_subsystem_add_ns 5 (visible to all) appears on both; nvmf_subsystem_remove_ns 3
#     disappears from A
#   - each change sent the Namespace Attribute Changed event (the kernel's nvme_async_event
#     trace point: 0x040002) to exactly the controllers whose host sees the namespace
#   - no reconnect: both controllers keep their cntlid and stay live throughout
#   kernel_ns_visibility.sh BIN_DIR GUEST_DIR               (ctest: interop_kernel_ns_visibility)
#   kernel_ns_visibility.sh --hook BIN_DIR RPC_SOCK ACTION ARGS...   (run by the guest's lp-host)
# NVMFD_INTEROP_GUEST_ARGS adds run-guest options (e.g. "--loglevel 7").
set -euo pipefail
self=$(readlink -f "$0")
here=$(dirname "$self")
NQN=nqn.2016-06.io.nvmfd:vis
HOST_A=nqn.2014-08.org.nvmexpress:uuid:6a0c1f7e-0000-4000-8000-0000000000c1
HOST_B=nqn.2014-08.org.nvmexpress:uuid:6a0c1f7e-0000-4000-8000-0000000000c2

fail() { echo "CHECK FAILED (host): $*" >&2; exit 1; }
. "$here/../lib/nvmfd_proc.sh"

# One host-side change per guest request (run by lp-host hook); its RPC reply goes to the log.
hook() {
  local bin=$1 sock=$2 action=$3
  shift 3
  local ctl=(timeout 30 "$bin/nvmfctl" -s "$sock")
  case "$action" in
    add_host)     # NSID A|B: make NSID visible to that host
      "${ctl[@]}" nvmf_ns_add_host --nqn "$NQN" --nsid "$1" --host "$(host_nqn "$2")" >&2 ||
        fail "nvmf_ns_add_host $*" ;;
    remove_host)  # NSID A|B
      "${ctl[@]}" nvmf_ns_remove_host --nqn "$NQN" --nsid "$1" --host "$(host_nqn "$2")" >&2 ||
        fail "nvmf_ns_remove_host $*" ;;
    resize)       # MIB: resize namespace 4's logical volume
      "${ctl[@]}" bdev_lvol_resize --name lvs0/vol0 --size_in_mib "$1" >&2 || fail "bdev_lvol_resize $*" ;;
    add_ns)       # NSID: a new 8 MiB RAM bdev as namespace NSID, visible to every host
      "${ctl[@]}" bdev_malloc_create --name "Extra$1" --num_blocks 16384 --block_size 512 >&2 ||
        fail "bdev_malloc_create Extra$1"
      "${ctl[@]}" nvmf_subsystem_add_ns --nqn "$NQN" --namespace.nsid "$1" --namespace.bdev_name "Extra$1" >&2 ||
        fail "nvmf_subsystem_add_ns $*" ;;
    remove_ns)    # NSID
      "${ctl[@]}" nvmf_subsystem_remove_ns --nqn "$NQN" --nsid "$1" >&2 || fail "nvmf_subsystem_remove_ns $*" ;;
    *) fail "unknown hook action $action" ;;
  esac
}
host_nqn() {
  case "$1" in A) echo "$HOST_A" ;; B) echo "$HOST_B" ;; *) fail "unknown host $1" ;; esac
}

if [ "${1:-}" = --hook ]; then
  shift
  hook "$@"
  exit 0
fi

bin=$1
peer=$2
for b in nvmfd nvmfctl; do [ -x "$bin/$b" ] || fail "$bin/$b is not built"; done
work=$(mktemp -d /tmp/nvmfd-interop-vis.XXXXXX)
sock=$work/rpc.sock
cleanup() {
  stop_pidfile "$work/nvmfd.pid"
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ns() {  # NSID BDEV [no_auto_visible]
  echo "{\"method\": \"nvmf_subsystem_add_ns\", \"params\": {\"nqn\": \"$NQN\", \"namespace\": {\"nsid\": $1,"
  echo " \"bdev_name\": \"$2\"${3:+, \"no_auto_visible\": true}}}},"
}
visible() {  # NSID HOSTNQN
  echo "{\"method\": \"nvmf_ns_add_host\", \"params\": {\"nqn\": \"$NQN\", \"nsid\": $1, \"host\": \"$2\"}},"
}
cat > "$work/config.json" <<JSON
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "Malloc1", "num_blocks": 16384, "block_size": 512}},
    {"method": "bdev_malloc_create", "params": {"name": "Malloc2", "num_blocks": 16384, "block_size": 512}},
    {"method": "bdev_malloc_create", "params": {"name": "Malloc3", "num_blocks": 16384, "block_size": 512}},
    {"method": "bdev_malloc_create", "params": {"name": "LvsBase", "num_blocks": 131072, "block_size": 512}},
    {"method": "bdev_lvol_create_lvstore", "params": {"bdev_name": "LvsBase", "lvs_name": "lvs0", "cluster_sz": 1048576}},
    {"method": "bdev_lvol_create", "params": {"lvs_name": "lvs0", "lvol_name": "vol0", "size_in_mib": 8}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN", "allow_any_host": true, "serial_number": "NVMFDVIS0001"}},
    $(ns 1 Malloc1 hidden) $(ns 2 Malloc2 hidden) $(ns 3 Malloc3 hidden) $(ns 4 lvs0/vol0)
    $(visible 1 "$HOST_A") $(visible 2 "$HOST_B")
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN",
       "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}}]}]}
JSON

"$bin/nvmfd" -c "$work/config.json" -r "$sock" > "$work/nvmfd.log" 2>&1 &
echo $! > "$work/nvmfd.pid"
wait_rpc "$bin" "$sock" || { cat "$work/nvmfd.log"; fail "nvmfd did not come up"; }

start=$(date +%s)
rc=0
read -r -a extra <<< "${NVMFD_INTEROP_GUEST_ARGS:-}"
timeout 600 "$peer/run-guest" --timeout 540 "${extra[@]}" \
  --hook "bash $self --hook $bin $sock" --add "$here/guest_hosts.sh" \
  "$here/guest_kernel_ns_visibility.sh" "$port" "$NQN" "$HOST_A" "$HOST_B" || rc=$?
echo "kernel_ns_visibility: guest run took $(( $(date +%s) - start )) s"
echo "--- nvmfd log (last 40 lines) ---"
tail -n 40 "$work/nvmfd.log" || true
[ "$rc" -eq 0 ] || fail "guest script rc=$rc"
echo "interop_kernel_ns_visibility: PASS"

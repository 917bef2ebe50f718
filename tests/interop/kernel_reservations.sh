#!/usr/bin/env bash
# Interop: NVMe reservations from the Linux kernel host (nvme-cli 2.3 in the QEMU guest)
# against nvmfd, with a ptpl_file. Two host identities (host NQN and Host ID) connected at the
# same time from one kernel (nvme_core.multipath=N: one block device per controller), in ONE
# guest boot (guest_kernel_reservations.sh):
#   - host 1 registers (CPTPL: persist), acquires Write Exclusive, writes
#   - host 2 is refused writes (Reservation Conflict) but reads, registers, cannot acquire the
#     held reservation, preempts host 1 (racqa 1): host 1's registration is gone, host 1 is
#     refused writes, host 2 writes
#   - host 1 registers again and preempts-and-aborts host 2 (racqa 2): host 2's registration
#     is gone (its key no longer works), host 1 holds and writes, host 2 is refused writes
#   - each preempted host's controller gets one Reservation Notification event (the kernel's
#     nvme_async_event trace point) and its log page 80h says Registration Preempted, nsid 1
#   - the report (extended data structure) shows the keys, type, holder and PTPL
#   - nvmfd is killed with SIGKILL and restarted from its config (`lp-host hook restart`): both
#     controllers reconnect and the reservation is back for host 1; released, unregistered
#   kernel_reservations.sh BIN_DIR GUEST_DIR               (ctest: interop_kernel_reservations)
#   kernel_reservations.sh --hook BIN_DIR WORK_DIR PORT restart  (run by the guest's lp-host)
# NVMFD_INTEROP_GUEST_ARGS adds run-guest options (e.g. "--loglevel 7").
set -euo pipefail
self=$(readlink -f "$0")
here=$(dirname "$self")
fail() { echo "CHECK FAILED (host): $*" >&2; exit 1; }
. "$here/../lib/nvmfd_proc.sh"

start_nvmfd() {  # BIN WORK: nvmfd from WORK/config.json, its PID in WORK/nvmfd.pid
  "$1/nvmfd" -c "$2/config.json" -r "$2/rpc.sock" >> "$2/nvmfd.log" 2>&1 &
  echo $! > "$2/nvmfd.pid"
  wait_rpc "$1" "$2/rpc.sock" || { tail -n 20 "$2/nvmfd.log" >&2; fail "nvmfd did not come up"; }
}

if [ "${1:-}" = --hook ]; then
  [ "${5:-}" = restart ] || fail "unknown hook action ${5:-}"
  stop_pidfile "$3/nvmfd.pid" 0   # SIGKILL: no chance to write anything more
  echo "nvmfd killed with SIGKILL; ptpl file: $(cat "$3/ns1.ptpl")" >&2
  # The killed nvmfd's listening socket outlives the process for a moment (the io_uring ring
  # with its pending accept is torn down asynchronously): a restart before it is gone fails
  # to bind with "Address already in use".
  waits=0
  while ss -Hltn "sport = :$4" | grep -q . && [ "$waits" -lt 200 ]; do sleep 0.05; waits=$((waits + 1)); done
  echo "port $4 free after $waits waits of 50 ms" >&2
  start_nvmfd "$2" "$3"
  echo "nvmfd restarted from its config (pid $(cat "$3/nvmfd.pid"))" >&2
  exit 0
fi

bin=$1
peer=$2
for b in nvmfd nvmfctl; do [ -x "$bin/$b" ] || fail "$bin/$b is not built"; done
work=$(mktemp -d /tmp/nvmfd-interop-resv.XXXXXX)
cleanup() { stop_pidfile "$work/nvmfd.pid"; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/config.json" <<JSON
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 32768, "block_size": 512,
                                                "uuid": "7b0c5e2a-1d3f-4a5b-8c6d-7e8f90a1b2c3"}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "nqn.2016-06.io.nvmfd:resv", "allow_any_host": true,
                                                   "serial_number": "NVMFDRESV0001"}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "nqn.2016-06.io.nvmfd:resv",
       "namespace": {"bdev_name": "Malloc0", "ptpl_file": "$work/ns1.ptpl"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2016-06.io.nvmfd:resv",
       "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}}]}]}
JSON
start_nvmfd "$bin" "$work"
first=$(cat "$work/nvmfd.pid")

start=$(date +%s)
rc=0
read -r -a extra <<< "${NVMFD_INTEROP_GUEST_ARGS:-}"
timeout 600 "$peer/run-guest" --timeout 540 --append nvme_core.multipath=N "${extra[@]}" \
  --hook "bash $self --hook $bin $work $port" --add "$here/guest_hosts.sh" \
  "$here/guest_kernel_reservations.sh" "$port" || rc=$?
echo "kernel_reservations: guest run took $(( $(date +%s) - start )) s"
echo "--- ptpl file ---"; cat "$work/ns1.ptpl" || true
echo "--- nvmfd log ---"; tail -n 40 "$work/nvmfd.log"
[ "$(cat "$work/nvmfd.pid")" != "$first" ] || fail "nvmfd was never killed and restarted"
[ "$rc" -eq 0 ] || fail "guest script rc=$rc"
echo "interop_kernel_reservations: PASS"

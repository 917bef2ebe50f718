#!/usr/bin/env bash
# Interop: NVMe reservations from the Linux kernel host (nvme-cli 2.3 in the QEMU guest)
# against nvmfd, with a ptpl_file. Host 1 registers (CPTPL: persist), acquires Write
# Exclusive, writes; host 2 (another host NQN and Host ID, connected after host 1 left) is
# refused writes (Reservation Conflict) but reads, registers, preempts host 1 and writes;
# the report (extended data structure) shows the keys, type and holder; nvmfd is killed
# with SIGKILL and restarted from its config, and the reservation is back for host 2.
set -euo pipefail
bin=$1
peer=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/nvmfd-interop-resv.XXXXXX)
pid=""
stop_nvmfd() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid"; wait "$pid" 2>/dev/null || true; fi
  pid=""
}
cleanup() { stop_nvmfd; rm -rf "$work"; }
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

start_nvmfd() {
  "$bin/nvmfd" -c "$work/config.json" -r "$work/rpc.sock" >> "$work/nvmfd.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    "$bin/nvmfctl" -s "$work/rpc.sock" nvmf_get_subsystems > /dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$work/nvmfd.log"; echo "nvmfd died"; exit 1; }
    sleep 0.1
  done
  echo "nvmfd did not come up"; exit 1
}
start_nvmfd

# One guest boot: when the ptpl file shows host 2 holding the reservation (the guest has
# then finished its first phase and polls for the controller to come back), nvmfd is killed
# with SIGKILL and started again from the same config.
first=$pid
(
  for _ in $(seq 3000); do
    if grep -q '"holder_uuid": "6a0c1f7e-0000-4000-8000-0000000000b2"' "$work/ns1.ptpl" 2>/dev/null; then
      sleep 1
      kill -9 "$first"
      sleep 0.5
      "$bin/nvmfd" -c "$work/config.json" -r "$work/rpc2.sock" >> "$work/nvmfd.log" 2>&1 &
      echo $! > "$work/pid2"
      exit 0
    fi
    sleep 0.2
  done
) &
restarter=$!
rc=0
timeout 600 "$peer/run-guest" --timeout 540 "$here/guest_kernel_reservations.sh" "$port" || rc=$?
kill "$restarter" 2>/dev/null || true
if [ -s "$work/pid2" ]; then kill "$(cat "$work/pid2")" 2>/dev/null || true; fi
echo "--- ptpl file ---"; cat "$work/ns1.ptpl" || true
echo "--- nvmfd log ---"; tail -n 40 "$work/nvmfd.log"
[ -s "$work/pid2" ] || { echo "FAIL: nvmfd was never killed and restarted"; exit 1; }
[ "$rc" -eq 0 ] || { echo "FAIL: guest script rc=$rc"; exit 1; }
echo "interop_kernel_reservations: PASS"

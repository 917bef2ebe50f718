#!/usr/bin/env bash
# Our host across processes: nvmf-perf drives an nvmfd process; nvmfd is killed with SIGKILL
# mid-run. The host must report errors for the outstanding I/O, say the controller failed,
# and end by itself with exit status 1 — no crash, no hang.
set -euo pipefail
bin=$1
work=$(mktemp -d /tmp/nvmfd-killed.XXXXXX)
tpid=""
ppid_=""
cleanup() {
  for p in $ppid_ $tpid; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/config.json" <<CFG
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 16384, "block_size": 4096}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "nqn.2016-06.io.nvmfd:killed", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "nqn.2016-06.io.nvmfd:killed", "namespace": {"bdev_name": "Malloc0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2016-06.io.nvmfd:killed",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}}]}]}
CFG
"$bin/nvmfd" -c "$work/config.json" -r "$work/rpc.sock" -m 0x1 > "$work/nvmfd.log" 2>&1 &
tpid=$!
for _ in $(seq 100); do
  "$bin/nvmfctl" -s "$work/rpc.sock" nvmf_get_subsystems > /dev/null 2>&1 && break
  sleep 0.1  # a poll period
done
"$bin/nvmf-perf" -q 32 -o 65536 -w randrw -M 50 -t 20 \
  -r "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:nqn.2016-06.io.nvmfd:killed" \
  > "$work/perf.out" 2>&1 &
ppid_=$!
# Kill the target mid-run: once the host's controller is there (its I/O queues follow)...
for _ in $(seq 300); do
  "$bin/nvmfctl" -s "$work/rpc.sock" call nvmf_subsystem_get_controllers '{"nqn": "nqn.2016-06.io.nvmfd:killed"}' 2>/dev/null |
    grep -q cntlid && break
  sleep 0.1
done
sleep 1  # ...and after a second of I/O (load, not a synchronisation: any point of the run will do)
kill -9 "$tpid"
tpid=""
rc=0
for _ in $(seq 150); do kill -0 "$ppid_" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$ppid_" 2>/dev/null; then echo "FAIL: the host did not end within 15 s of the target's death"; cat "$work/perf.out"; exit 1; fi
wait "$ppid_" || rc=$?
ppid_=""
cat "$work/perf.out"
[ "$rc" -eq 1 ] || { echo "FAIL: nvmf-perf exit status $rc (want 1: I/O errors reported)"; exit 1; }
grep -qi "controller failed" "$work/perf.out" || { echo "FAIL: no 'controller failed' report"; exit 1; }
grep -qiE "error" "$work/perf.out" || { echo "FAIL: no I/O errors reported"; exit 1; }
echo "target_killed: PASS"

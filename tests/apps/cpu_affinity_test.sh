#!/usr/bin/env bash
# CPU defaults follow the process's affinity (issue 13, item 6): under `taskset -c F`
#   - nvmfd without -m starts one reactor, and every one of its threads may run on F only
#     (none is pinned to another CPU, e.g. the one a client was given);
#   - nvmfd -m naming another CPU fails at once (exit 2) saying which core is not available;
#   - nvmf-perf without -c runs on F (its default is the first allowed CPU), and with a -c
#     naming another CPU it fails (exit 2) with the same message.
# F is the first CPU this test may use; G is a CPU outside {F}.
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/nvmfd_proc.sh"
work=$(mktemp -d /tmp/nvmfd-affinity.XXXXXX)
cleanup() {
  stop_pidfile "$work/nvmfd.pid" 0
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- nvmfd log ---"; cat "$work/nvmfd.log" 2>/dev/null || true; exit 1; }

F=$(python3 -c 'import os; print(min(os.sched_getaffinity(0)))')
G=$((F + 2))
gmask=$(printf '0x%x' $((1 << G)))
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nqn=nqn.2016-06.io.nvmfd:affinity
cat > "$work/config.json" <<CFG
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_null_create", "params": {"name": "Null0", "num_blocks": 262144, "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$nqn", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$nqn", "namespace": {"bdev_name": "Null0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$nqn",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}}]}]}
CFG

# 1. -m outside the allowed CPUs: refused before anything starts.
rc=0
taskset -c "$F" "$bin/nvmfd" -c "$work/config.json" -r "$work/bad.sock" -m "$gmask" > "$work/bad.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || { cat "$work/bad.out"; fail "nvmfd -m $gmask under taskset -c $F: exit $rc, want 2"; }
grep -qF "core $G is not available to this process (allowed: $F)" "$work/bad.out" \
  || { cat "$work/bad.out"; fail "nvmfd -m $gmask: no 'core $G is not available' message"; }
echo "nvmfd -m $gmask under taskset -c $F: $(cat "$work/bad.out")"

# 2. No -m: one reactor, every thread on F only.
taskset -c "$F" "$bin/nvmfd" -c "$work/config.json" -r "$work/rpc.sock" > "$work/nvmfd.log" 2>&1 &
echo $! > "$work/nvmfd.pid"
pid=$(cat "$work/nvmfd.pid")
wait_rpc "$bin" "$work/rpc.sock" || fail "nvmfd did not answer on its RPC socket"
grep -qF "running on 1 reactor(s), core(s) $F," "$work/nvmfd.log" || fail "nvmfd did not say it runs 1 reactor on core $F"
threads=0
for t in /proc/"$pid"/task/*; do
  list=$(awk '/^Cpus_allowed_list:/ {print $2}' "$t/status")
  [ "$list" = "$F" ] || fail "thread ${t##*/} of nvmfd may run on CPUs '$list', want only $F"
  threads=$((threads + 1))
done
echo "nvmfd under taskset -c $F: $threads thread(s), all on CPU $F"

# 3. nvmf-perf under taskset: no -c runs on F; -c naming G is refused.
trid="trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:$nqn"
rc=0
taskset -c "$F" "$bin/nvmf-perf" -q 4 -o 4096 -w randread -t 1 -r "$trid" > "$work/perf.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || { cat "$work/perf.out"; fail "nvmf-perf without -c under taskset -c $F: exit $rc"; }
grep -q "with lcore $F\$" "$work/perf.out" || { cat "$work/perf.out"; fail "nvmf-perf did not run on core $F"; }
rc=0
taskset -c "$F" "$bin/nvmf-perf" -q 4 -o 4096 -w randread -t 1 -r "$trid" -c "$gmask" > "$work/perf-bad.out" 2>&1 || rc=$?
[ "$rc" -eq 2 ] || { cat "$work/perf-bad.out"; fail "nvmf-perf -c $gmask under taskset -c $F: exit $rc, want 2"; }
grep -qF "core $G is not available to this process (allowed: $F)" "$work/perf-bad.out" \
  || { cat "$work/perf-bad.out"; fail "nvmf-perf -c $gmask: no 'core $G is not available' message"; }
echo "nvmf-perf under taskset -c $F: default core $F; -c $gmask refused"

stop_pidfile "$work/nvmfd.pid"
echo "cpu_affinity: PASS"

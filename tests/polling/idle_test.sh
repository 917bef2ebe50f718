#!/usr/bin/env bash
# An idle nvmfd sleeps: a target with one connected host (another nvmfd attached with
# bdev_nvme_attach_controller, Keep Alive every 0.5 s) and nothing else to do uses almost no
# CPU in the adaptive (default) and event polling modes, while --poll-mode always keeps a
# reactor busy: its loop never blocks over the window (framework_get_reactors: passes grow,
# sleeps do not), which shows that the measurement can fail. The always mode is judged by
# those counters, not by its CPU time: on a loaded machine a busy poller gets what the
# scheduler leaves it. CPU time comes from /proc/PID/stat over a window of a few seconds.
# Every process started here is stopped by PID.
set -euo pipefail
bin=$1
window=${IDLE_WINDOW_S:-3}
work=$(mktemp -d /tmp/nvmfd-idle.XXXXXX)
tpid="" hpid=""
stop() {
  local p
  for p in "$@"; do
    [ -n "$p" ] || continue
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}
cleanup() { stop "$hpid" "$tpid"; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime of the whole process
wait_rpc() {
  for _ in $(seq 100); do "$bin/nvmfctl" -s "$1" rpc_get_methods > /dev/null 2>&1 && return 0; sleep 0.1; done
  echo "FAIL: no RPC on $1"; return 1
}
# "PASSES SLEEPS" of the daemon's reactors, summed.
reactor_loops() {
  "$bin/nvmfctl" -s "$1" framework_get_reactors |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["reactors"]; print(sum(x["passes"] for x in r), sum(x["sleeps"] for x in r))'
}
hz=$(getconf CLK_TCK)
first_cpu=$(python3 -c 'import os; print(min(os.sched_getaffinity(0)))')
mask=$(printf '0x%x' $((1 << first_cpu)))
fail=0

for mode in adaptive event always; do
  port=$(free_port)
  cat > "$work/target.json" <<CFG
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_null_create", "params": {"name": "Null0", "num_blocks": 262144, "block_size": 4096}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "nqn.2016-06.io.nvmfd:idle", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "nqn.2016-06.io.nvmfd:idle", "namespace": {"bdev_name": "Null0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2016-06.io.nvmfd:idle",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}}]}]}
CFG
  echo '{"subsystems": []}' > "$work/host.json"
  "$bin/nvmfd" -c "$work/target.json" -r "$work/t.sock" -m "$mask" --poll-mode "$mode" > "$work/target-$mode.log" 2>&1 &
  tpid=$!
  "$bin/nvmfd" -c "$work/host.json" -r "$work/h.sock" -m "$mask" --poll-mode "$mode" > "$work/host-$mode.log" 2>&1 &
  hpid=$!
  wait_rpc "$work/t.sock"
  wait_rpc "$work/h.sock"
  "$bin/nvmfctl" -s "$work/h.sock" bdev_nvme_set_options --keep_alive_timeout_ms 1000 > /dev/null
  "$bin/nvmfctl" -s "$work/h.sock" bdev_nvme_attach_controller --name Idle --trtype tcp --adrfam ipv4 \
    --traddr 127.0.0.1 --trsvcid "$port" --subnqn nqn.2016-06.io.nvmfd:idle > /dev/null
  "$bin/nvmfctl" -s "$work/h.sock" bdev_get_bdevs --name Idlen1 > /dev/null || { echo "FAIL: Idlen1 missing"; fail=1; }
  sleep 1  # not a synchronisation: the connect's follow-up work ends before the idle window starts
  loops0=$(reactor_loops "$work/t.sock")
  t0=$(cpu_ticks "$tpid") h0=$(cpu_ticks "$hpid")
  sleep "$window"  # the measured idle window (real CPU time is what this test is about)
  t1=$(cpu_ticks "$tpid") h1=$(cpu_ticks "$hpid")
  loops1=$(reactor_loops "$work/t.sock")
  # The host is still connected after the window (Keep Alive kept it alive).
  "$bin/nvmfctl" -s "$work/h.sock" bdev_nvme_get_controllers --name Idle | grep -q '"state": "enabled"' ||
    { echo "FAIL: $mode: the host's controller is not enabled after the idle window"; fail=1; }
  tcpu=$(python3 -c "print(f'{($t1-$t0)/$hz/$window:.4f}')")
  hcpu=$(python3 -c "print(f'{($h1-$h0)/$hz/$window:.4f}')")
  reactors=$("$bin/nvmfctl" -s "$work/t.sock" framework_get_reactors)
  read -r p0 s0 <<< "$loops0"
  read -r p1 s1 <<< "$loops1"
  echo "$mode: target $tcpu cores, host $hcpu cores over ${window} s idle; target loop passes +$((p1 - p0)), sleeps +$((s1 - s0))"
  case $mode in
    always)
      [ "$s1" = "$s0" ] && [ $((p1 - p0)) -gt 1000 ] ||
        { echo "FAIL: always: the target's reactor blocked or did not loop (passes +$((p1 - p0)), sleeps +$((s1 - s0)))"; fail=1; } ;;
    *)
      for who in "target:$tcpu" "host:$hcpu"; do
        python3 -c "import sys; sys.exit(0 if ${who#*:} <= 0.05 else 1)" ||
          { echo "FAIL: $mode: idle ${who%%:*} used ${who#*:} of a core (want <= 0.05)"; fail=1; }
      done
      [ "$mode" = event ] && { echo "$reactors" | grep -q '"in_interrupt": true' || { echo "FAIL: event: in_interrupt not reported"; fail=1; }; }
      ;;
  esac
  stop "$hpid" "$tpid"
  hpid="" tpid=""
done
[ "$fail" = 0 ] && echo "idle_test: PASS" || { echo "idle_test: FAIL"; exit 1; }

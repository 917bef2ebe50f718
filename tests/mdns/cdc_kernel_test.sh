#!/usr/bin/env bash
# Issue 5's end-to-end test: mDNS discovery, a Centralized Discovery Controller and the Linux
# kernel host, all real. the guest harness's (tests/guest) netns mode makes the network namespace (guest on
# 10.77.1.2 behind lptap1 = 10.77.1.1); in it avahi_netns.sh --here adds veth-a 10.78.0.1 and
# veth-b 10.78.0.2 and runs a real dbus-daemon and avahi-daemon (private mount namespace), and
# three nvmfd:
#   T1: subsystem cdc-t1 on 10.78.0.1:4420, discovery 10.78.0.1:8009, announced over mDNS
#   T2: subsystem cdc-t2 on 10.78.0.2:4420, discovery 10.78.0.2:8009, announced over mDNS
#   C:  the CDC, from its config file: discovery listener 10.77.1.1:8009,
#       nvmf_discovery_enable_cdc direct, bdev_nvme_start_mdns_discovery; and over RPC T1's
#       subsystem registered explicitly
#       (nvmf_discovery_register): two sources, one entry
# Measured on the host: T1 and T2 started -> both subsystems in C's discovery log.
# The guest (guest_cdc_kernel.sh; routes 10.78.0.0/24 via 10.77.1.1) runs nvme discover and
# nvme connect-all against C only, does verified I/O on both targets, keeps a persistent
# discovery controller on C, asks the host (lp-host hook) to stop T2 and checks that C sends
# the Discovery Log Page Change AEN and that T2's entry has left C's log, T1 still serving.
# Then C goes to referral mode: its log holds a referral to T1's discovery controller, and
# nvme connect-all against C follows it to T1.
#   cdc_kernel_test.sh BIN_DIR GUEST_DIR           (ctest: mdns_cdc_kernel)
#   cdc_kernel_test.sh --servers BIN_DIR WORK           (run-guest --host-cmd, under avahi_netns.sh)
#   cdc_kernel_test.sh --hook BIN_DIR WORK ACTION       (lp-host hook, in the netns)
# Needs root; exits 77 (ctest: skipped) without it or without avahi/dbus.
set -euo pipefail
self=$(readlink -f "$0")
here=$(dirname "$self")
DISC=nqn.2014-08.org.nvmexpress.discovery
NQN1=nqn.2016-06.io.nvmfd:cdc-t1
NQN2=nqn.2016-06.io.nvmfd:cdc-t2
CDC_ADDR=10.77.1.1

fail() { echo "CHECK FAILED (host): $*" >&2; exit 1; }
. "$here/../lib/nvmfd_proc.sh"
now_ms() { date +%s%3N; }
cdc_log() { "$bin/nvmfctl" discover -t tcp -a "$CDC_ADDR" -s 8009 -o json 2>/dev/null; }

target_config() {  # NAME ADDR: a target with one RAM namespace, announcing its discovery listener
  cat <<CFG
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 32768, "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "nqn.2016-06.io.nvmfd:$1", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "nqn.2016-06.io.nvmfd:$1",
      "namespace": {"bdev_name": "Malloc0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2016-06.io.nvmfd:$1",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "$2", "trsvcid": "4420"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$DISC",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "$2", "trsvcid": "8009"}}}]},
  {"subsystem": "nvmf_mdns", "config": [{"method": "nvmf_publish_mdns_prr", "params": {}}]}]}
CFG
}

cdc_config() {
  cat <<CFG
{"subsystems": [
  {"subsystem": "bdev_nvme", "config": [
    {"method": "bdev_nvme_start_mdns_discovery", "params": {"name": "mdns", "svcname": "_nvme-disc._tcp"}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$DISC",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "$CDC_ADDR", "trsvcid": "8009"}}}]},
  {"subsystem": "nvmf_cdc", "config": [{"method": "nvmf_discovery_enable_cdc", "params": {"mode": "direct"}}]}]}
CFG
}

# Inside the netns and avahi_netns.sh's mount namespace: start C, then T1 and T2; measure; stay
# until run-guest stops this process group (it also stops every process left in the netns).
servers() {
  local work=$2 t0 t1 n
  cdc_config > "$work/c.json"
  target_config cdc-t1 10.78.0.1 > "$work/t1.json"
  target_config cdc-t2 10.78.0.2 > "$work/t2.json"
  "$bin/nvmfd" -c "$work/c.json" -r "$work/c.sock" -m 0x1 > "$work/c.log" 2>&1 &
  echo $! > "$work/c.pid"
  wait_rpc "$bin" "$work/c.sock" || fail "the CDC nvmfd does not answer"
  "$bin/nvmfctl" -s "$work/c.sock" call nvmf_discovery_register "{\"subnqn\": \"$NQN1\", \"listen_address\":
    {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"10.78.0.1\", \"trsvcid\": \"4420\"}}" > /dev/null ||
    fail "nvmf_discovery_register"
  t0=$(now_ms)
  for n in 1 2; do
    "$bin/nvmfd" -c "$work/t$n.json" -r "$work/t$n.sock" -m 0x1 > "$work/t$n.log" 2>&1 &
    echo $! > "$work/t$n.pid"
  done
  for _ in $(seq 600); do
    cdc_log > "$work/cdc-log.json" || true
    grep -q "$NQN2" "$work/cdc-log.json" && grep -q "$NQN1" "$work/cdc-log.json" && break
    sleep 0.05
  done
  t1=$(now_ms)
  if grep -q "$NQN2" "$work/cdc-log.json"; then
    echo "$((t1 - t0))" > "$work/measured_ms"
  else
    echo "never" > "$work/measured_ms"
  fi
  touch "$work/servers-ready"
  sleep infinity & wait $!
}

hook() {  # runs in the netns (lp-host hook); WORK holds the PIDs and RPC sockets
  local work=$2 action=$3
  case "$action" in
    stop-t2)  # stop T2 by its PID; its mDNS goodbye takes it out of C
      local pid
      pid=$(cat "$work/t2.pid")
      grep -q nvmfd "/proc/$pid/cmdline" 2>/dev/null || fail "T2 (pid $pid) is not running"
      kill -TERM "$pid"  # a clean stop: its mDNS goodbye is what takes it out of C
      for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && fail "T2 did not stop"
      echo "T2 stopped" >&2 ;;
    cdc-referral)  # C to referral mode; T1's explicit registration withdrawn (referrals only)
      local c=("$bin/nvmfctl" -s "$work/c.sock")
      "${c[@]}" call nvmf_discovery_enable_cdc '{"mode": "referral"}' > /dev/null || fail "enable_cdc referral"
      "${c[@]}" call nvmf_discovery_deregister "{\"subnqn\": \"$NQN1\", \"listen_address\":
        {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"10.78.0.1\", \"trsvcid\": \"4420\"}}" > /dev/null ||
        fail "nvmf_discovery_deregister"
      echo "C in referral mode" >&2 ;;
    cdc-state)  # what C says: its log, registrations and mDNS findings
      echo "--- C's discovery log ---" >&2
      cdc_log >&2 || fail "C's discovery log"
      "$bin/nvmfctl" -s "$work/c.sock" bdev_nvme_get_mdns_discovery_info >&2 || fail "mdns_discovery_info"
      "$bin/nvmfctl" -s "$work/c.sock" bdev_get_bdevs | grep '"name"' >&2 || true ;;
    *) fail "unknown hook action $action" ;;
  esac
}

case "${1:-}" in
  --servers) shift; bin=$1; servers "$@"; exit 0 ;;
  --hook) shift; bin=$1; hook "$@"; exit 0 ;;
esac

bin=$1
peer=$2
for b in nvmfd nvmfctl; do [ -x "$bin/$b" ] || fail "$bin/$b is not built"; done
require_root mdns_cdc_kernel
for t in dbus-daemon avahi-daemon; do
  command -v "$t" > /dev/null || { echo "mdns_cdc_kernel: SKIPPED ($t not installed)"; exit 77; }
done
work=$(mktemp -d /tmp/nvmfd-cdc-kernel.XXXXXX)
cleanup() {
  # run-guest stops its host commands and everything in its netns; this catches daemons that
  # outlived it (run-guest itself killed).
  local f
  for f in "$work"/*.pid; do [ -e "$f" ] && stop_pidfile "$f" 0; done
  rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s)
rc=0
read -r -a extra <<< "${NVMFD_INTEROP_GUEST_ARGS:-}"
timeout 400 "$peer/run-guest" --mode netns --paths 1 --timeout 300 "${extra[@]}" \
  --host-cmd "exec bash $here/avahi_netns.sh --here -- bash $self --servers $bin $work" \
  --wait-listen 8009 \
  --hook "bash $self --hook $bin $work" \
  "$here/guest_cdc_kernel.sh" "$NQN1" "$NQN2" "$CDC_ADDR" || rc=$?
echo "mdns_cdc_kernel: guest run took $(( $(date +%s) - start )) s"
for n in c t1 t2; do
  echo "--- nvmfd $n log (last 25 lines) ---"
  tail -n 25 "$work/$n.log" 2>/dev/null || true
done
measured=$(cat "$work/measured_ms" 2>/dev/null || echo "not measured")
echo "mdns_cdc_kernel: T1 and T2 started -> both subsystems in the CDC's discovery log: $measured ms"
[ "$rc" -eq 0 ] || fail "guest script rc=$rc"
echo "mdns_cdc_kernel: PASS"

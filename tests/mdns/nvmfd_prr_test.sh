#!/usr/bin/env bash
# nvmfd's nvmf_publish_mdns_prr / nvmf_stop_mdns_prr seen by avahi-browse (avahi-utils), as a
# host on the link would see them. Runs inside avahi_netns.sh (veth-a 10.78.0.1, veth-b
# 10.78.0.2, a private avahi-daemon):
#   nvmfd_prr_test.sh BIN_DIR            with the daemon: publish, a listener added and removed
#                                        later, stop, save_config
#   nvmfd_prr_test.sh BIN_DIR unavailable   without it: a clear error, nvmfd runs on
set -euo pipefail
bin=$1
mode=${2:-available}
work=$(mktemp -d /tmp/nvmfd-mdns-prr.XXXXXX)
tpid=""
cleanup() {
  [ -n "$tpid" ] && { kill -TERM "$tpid" 2>/dev/null || true; wait "$tpid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- nvmfd log ---"; cat "$work/nvmfd.log"; exit 1; }
ctl() { "$bin/nvmfctl" -s "$work/rpc.sock" "$@"; }
disc=nqn.2014-08.org.nvmexpress.discovery

cat > "$work/config.json" <<CFG
{"subsystems": [
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$disc",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "10.78.0.1", "trsvcid": "8009"}}}]}]}
CFG
"$bin/nvmfd" -c "$work/config.json" -r "$work/rpc.sock" -m 0x1 > "$work/nvmfd.log" 2>&1 &
tpid=$!
for _ in $(seq 100); do ctl rpc_get_methods > /dev/null 2>&1 && break; sleep 0.1; done
ctl rpc_get_methods | grep -q nvmf_publish_mdns_prr || fail "nvmf_publish_mdns_prr is not a method"

# browse: avahi-browse -rtp lines "=;IFACE;IPv4;NAME;_nvme-disc._tcp;local;HOST;ADDR;PORT;TXT"
browse() { avahi-browse -rtp _nvme-disc._tcp 2>/dev/null | grep '^=' || true; }
# wait_for PATTERN [absent]: until a resolved line matches (or, with "absent", none does).
wait_for() {
  for _ in $(seq 20); do
    if [ "${2:-}" = absent ]; then browse | grep -qE "$1" || return 0
    else browse | grep -qE "$1" && return 0; fi
    sleep 0.5
  done
  return 1
}

if [ "$mode" = unavailable ]; then
  if ctl nvmf_publish_mdns_prr > "$work/out" 2> "$work/err"; then fail "publish succeeded without avahi"; fi
  cat "$work/err"
  grep -q "mDNS unavailable: " "$work/err" || fail "no 'mDNS unavailable' error"
  kill -0 "$tpid" || fail "nvmfd died"
  ctl nvmf_get_subsystems > /dev/null || fail "nvmfd does not answer after the failed publish"
  ctl nvmf_stop_mdns_prr > /dev/null || fail "stop failed"
  ctl save_config | grep -q nvmf_publish_mdns_prr && fail "save_config has a publish that failed"
  # A saved config that publishes still starts nvmfd without avahi: it says so and runs on.
  kill -TERM "$tpid"; wait "$tpid" 2>/dev/null || true; tpid=""
  python3 - "$work/config.json" > "$work/config_mdns.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["subsystems"].append({"subsystem": "nvmf_mdns", "config": [{"method": "nvmf_publish_mdns_prr", "params": {}}]})
c["subsystems"].append({"subsystem": "bdev_nvme", "config": [{"method": "bdev_nvme_start_mdns_discovery",
                        "params": {"name": "mdns", "svcname": "_nvme-disc._tcp"}}]})
print(json.dumps(c))
PY
  "$bin/nvmfd" -c "$work/config_mdns.json" -r "$work/rpc.sock" -m 0x1 > "$work/nvmfd.log" 2>&1 &
  tpid=$!
  for _ in $(seq 100); do ctl rpc_get_methods > /dev/null 2>&1 && break; kill -0 "$tpid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$tpid" 2>/dev/null || fail "nvmfd did not start from a config with mDNS while avahi is away"
  ctl nvmf_get_subsystems > /dev/null || fail "nvmfd does not answer"
  grep -q "nvmf_publish_mdns_prr.*mDNS unavailable" "$work/nvmfd.log" || fail "nvmfd did not say that mDNS is unavailable"
  grep -q "bdev_nvme_start_mdns_discovery.*mDNS unavailable" "$work/nvmfd.log" ||
    fail "nvmfd did not say that mDNS browsing is unavailable"
  echo "mdns_prr unavailable: PASS"
  exit 0
fi

[ -z "$(browse)" ] || fail "a service before any publish: $(browse)"
ctl nvmf_publish_mdns_prr > /dev/null || fail "nvmf_publish_mdns_prr"
# (avahi-browse -p escapes names: a space is \032, '.' \., ':' \058.)
wait_for "^=;veth-a;IPv4;nvmfd[^;]*;_nvme-disc\._tcp;local;[^;]*;10\.78\.0\.1;8009;" \
  || fail "service of 10.78.0.1:8009 not seen: $(browse)"
line=$(browse | grep '10.78.0.1;8009;')
echo "$line"
echo "$line" | grep -q '"nqn=nqn.2014-08.org.nvmexpress.discovery"' || fail "TXT nqn missing: $line"
echo "$line" | grep -q '"p=tcp"' || fail "TXT p=tcp missing: $line"
browse | grep -q '^=;veth-b;.*8009;' && fail "published on veth-b too (listener is on veth-a): $(browse)"

# Threads (issue 14): publishing adds none, Avahi runs on the RPC thread's loop: the main
# thread, the reactor (-m 0x1) and the RPC thread, nothing else (io_uring's iou-* workers
# are the kernel's). Browsing is counted below, once nothing is published (a discovery
# controller found would start a discovery service, which has a thread until stage S6).
threads() { cat /proc/"$tpid"/task/*/comm 2>/dev/null | grep -v '^iou-' | sort | tr '\n' ' '; }
[ "$(threads)" = "nvmfd reactor-0 rpc " ] || fail "threads while published: $(threads)"

# A second publish is refused (SPDK: -EEXIST).
ctl nvmf_publish_mdns_prr > /dev/null 2>&1 && fail "a second publish succeeded"

# A discovery listener added later is published; removed, withdrawn.
ctl nvmf_subsystem_add_listener --nqn "$disc" --listen_address.trtype tcp --listen_address.adrfam ipv4 \
  --listen_address.traddr 10.78.0.2 --listen_address.trsvcid 8010 > /dev/null || fail "add_listener"
wait_for "^=;veth-b;IPv4;.*;10\.78\.0\.2;8010;" || fail "later listener not published: $(browse)"
ctl save_config > "$work/saved.json"
grep -q '"nvmf_publish_mdns_prr"' "$work/saved.json" || fail "save_config lacks nvmf_publish_mdns_prr"
ctl nvmf_subsystem_remove_listener --nqn "$disc" --listen_address.trtype tcp --listen_address.adrfam ipv4 \
  --listen_address.traddr 10.78.0.2 --listen_address.trsvcid 8010 > /dev/null || fail "remove_listener"
wait_for ";10\.78\.0\.2;8010;" absent || fail "removed listener still published: $(browse)"
browse | grep -q ';10.78.0.1;8009;' || fail "the first listener went away too"

ctl nvmf_stop_mdns_prr > /dev/null || fail "nvmf_stop_mdns_prr"
wait_for "_nvme-disc" absent || fail "still published after stop: $(browse)"
ctl save_config | grep -q nvmf_publish_mdns_prr && fail "save_config has publish after stop"
ctl bdev_nvme_start_mdns_discovery --name census --svcname _nvme-disc._tcp > /dev/null || fail "start_mdns_discovery"
[ "$(threads)" = "nvmfd reactor-0 rpc " ] || fail "threads while browsing: $(threads)"
ctl bdev_nvme_stop_mdns_discovery --name census > /dev/null || fail "stop_mdns_discovery"

# The saved config publishes again at start.
kill -TERM "$tpid"; wait "$tpid" || true; tpid=""
"$bin/nvmfd" -c "$work/saved.json" -r "$work/rpc.sock" -m 0x1 > "$work/nvmfd.log" 2>&1 &
tpid=$!
wait_for ";10\.78\.0\.1;8009;" || fail "a restart from the saved config did not publish: $(browse)"
echo "mdns_prr: PASS"

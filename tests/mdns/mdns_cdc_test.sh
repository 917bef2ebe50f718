#!/usr/bin/env bash
# Inside avahi_netns.sh's namespace (a real avahi-daemon; veth-a 10.78.0.1, veth-b 10.78.0.2):
# a target nvmfd T announces its discovery controller over mDNS; a second nvmfd C in CDC mode
# browses with bdev_nvme_start_mdns_discovery. Checks: C attaches T's subsystem, lists it in its
# own discovery log (measured: T started -> T's subsystem in C's log), reports it in
# bdev_nvme_get_mdns_discovery_info; T stopped -> its entry leaves C's log and C detaches.
#   mdns_cdc_test.sh BIN_DIR
set -euo pipefail
. "$(dirname "$0")/../lib/nvmfd_proc.sh"
bin=$1
work=$(mktemp -d /tmp/nvmfd-mdns-cdc.XXXXXX)
tpid=""; cpid=""
cleanup() {
  for p in $tpid $cpid; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.log; do echo "--- $f ---"; tail -n 30 "$f"; done; exit 1; }
disc=nqn.2014-08.org.nvmexpress.discovery
nqn=nqn.2016-06.io.nvmfd:mdns-far
now_ms() { date +%s%3N; }
cctl() { "$bin/nvmfctl" -s "$work/c.sock" "$@"; }
tctl() { "$bin/nvmfctl" -s "$work/t.sock" "$@"; }
in_cdc_log() { "$bin/nvmfctl" discover -t tcp -a 10.78.0.2 -s 8009 -o json 2>/dev/null | grep -q "$nqn"; }

cat > "$work/c.json" <<CFG
{"subsystems": [{"subsystem": "nvmf", "config": [
  {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
  {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$disc",
    "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "10.78.0.2", "trsvcid": "8009"}}}]}]}
CFG
cat > "$work/t.json" <<CFG
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 8192, "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$nqn", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$nqn", "namespace": {"bdev_name": "Malloc0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$nqn",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "10.78.0.1", "trsvcid": "4420"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$disc",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "10.78.0.1", "trsvcid": "8009"}}}]},
  {"subsystem": "nvmf_mdns", "config": [{"method": "nvmf_publish_mdns_prr", "params": {}}]}]}
CFG

"$bin/nvmfd" -c "$work/c.json" -r "$work/c.sock" -m 0x1 > "$work/cdc.log" 2>&1 &
cpid=$!
wait_rpc "$bin" "$work/c.sock" || fail "the CDC nvmfd does not answer"
cctl nvmf_discovery_enable_cdc --mode direct > /dev/null || fail "enable_cdc"
cctl bdev_nvme_start_mdns_discovery --name mdns --svcname _nvme-disc._tcp > /dev/null || fail "start_mdns_discovery"
in_cdc_log && fail "the subsystem is in the CDC's log before its target started"

t0=$(now_ms)
"$bin/nvmfd" -c "$work/t.json" -r "$work/t.sock" -m 0x1 > "$work/target.log" 2>&1 &
tpid=$!
for _ in $(seq 400); do in_cdc_log && break; sleep 0.05; done
in_cdc_log || fail "the target's subsystem never reached the CDC's log"
t1=$(now_ms)
echo "mdns_cdc: target started -> its subsystem in the CDC's discovery log: $((t1 - t0)) ms"

info=$(cctl bdev_nvme_get_mdns_discovery_info)
echo "$info"
python3 - "$info" <<'PY' || fail "bdev_nvme_get_mdns_discovery_info: unexpected shape"
import json, sys
i = json.loads(sys.argv[1])
assert len(i) == 1 and i[0]["name"] == "mdns" and i[0]["svcname"] == "_nvme-disc._tcp", i
r = i[0]["referrals"]
assert len(r) == 1 and r[0]["name"] == "mdns0_nvme", r
t = r[0]["trid"]
assert (t["trtype"], t["adrfam"], t["traddr"], t["trsvcid"], t["subnqn"]) == \
    ("TCP", "IPv4", "10.78.0.1", "8009", "nqn.2014-08.org.nvmexpress.discovery"), t
PY
for _ in $(seq 100); do cctl bdev_get_bdevs --name mdns0_nvme0n1 > /dev/null 2>&1 && break; sleep 0.05; done
cctl bdev_get_bdevs --name mdns0_nvme0n1 > /dev/null 2>&1 || fail "bdev mdns0_nvme0n1 not attached"
cctl bdev_nvme_detach_controller --name mdns0_nvme0 > /dev/null 2>&1 && fail "a plain detach took the mDNS owner's controller"
# As SPDK: the service it started is in bdev_nvme_get_discovery_info; save_config keeps the
# browser (bdev_nvme_start_mdns_discovery), not the services or controllers it made.
cctl bdev_nvme_get_discovery_info | grep -q '"name": *"mdns0_nvme"' || fail "get_discovery_info lacks mdns0_nvme"
cctl save_config > "$work/saved.json" || fail "save_config"
python3 - "$work/saved.json" <<'PY' || fail "save_config: mDNS discovery not saved as itself"
import json, sys
calls = [c for s in json.load(open(sys.argv[1]))["subsystems"] for c in (s["config"] or [])]
m = [c for c in calls if c["method"] == "bdev_nvme_start_mdns_discovery"]
assert m == [{"method": "bdev_nvme_start_mdns_discovery", "params": {"name": "mdns", "svcname": "_nvme-disc._tcp"}}], m
assert not [c for c in calls if c["method"] in ("bdev_nvme_start_discovery", "bdev_nvme_attach_controller")], calls
PY

# The target goes away: its goodbye takes its entry out of the CDC, and C detaches.
kill -TERM "$tpid"; wait "$tpid" 2>/dev/null || true; tpid=""
for _ in $(seq 400); do in_cdc_log || break; sleep 0.05; done
in_cdc_log && fail "the stopped target's subsystem is still in the CDC's log"
for _ in $(seq 200); do cctl bdev_get_bdevs --name mdns0_nvme0n1 > /dev/null 2>&1 || break; sleep 0.05; done
cctl bdev_get_bdevs --name mdns0_nvme0n1 > /dev/null 2>&1 && fail "bdev mdns0_nvme0n1 still there"
cctl bdev_nvme_stop_mdns_discovery --name mdns > /dev/null || fail "stop_mdns_discovery"
echo "mdns_cdc: PASS"

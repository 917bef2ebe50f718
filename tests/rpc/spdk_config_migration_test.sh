#!/usr/bin/env bash
# SPDK configuration migration (issue 18 item 6) with SPDK v26.05's own save_config output
# (spdk_configs/*.json, made by spdk_configs/generate.sh; the SPDK peer is not needed here).
#
#   spdk_config_migration_test.sh BIN_DIR
#
# The fixtures' aio file paths and TCP ports are replaced by this test's own (nothing else):
# listeners get fresh ports, bdev_nvme_attach_controller the port of a second nvmfd that
# exports the subsystem it attaches to.
#   1. nvmf_bdevs.json (malloc, null, aio, two subsystems): nvmfd -c loads it, warning once
#      per SPDK tuning method; the namespaces, allowed host and listeners are there.
#   2. unsupported.json (bdev_raid, bdev_passthru, bdev_delay): nvmfd -c refuses it with one
#      message naming the three methods, before anything is created (no bdev, no listener).
#   3. lvol_nvme.json (an SPDK lvol on an aio file, bdev_nvme): nvmfd -c stops at the lvol's
#      namespace, naming its bdev (SPDK's lvol store format is not nvmfd's).
#   4. nvmfctl migrate-config on each: the kept / ignored / refused lists; exit status 0 for
#      nvmf_bdevs, 1 for the others; each OUT loads in nvmfd without a single warning (for
#      lvol_nvme: Nvme0n1 attached through the second nvmfd).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/nvmfd_proc.sh"
nvmfd_workdir nvmfd-spdk-migrate
trap 'stop_pidfile "$work/nvmfd.pid" 0; stop_pidfile "$work/remote.pid" 0; stop_pidfile "$work/ref.pid" 0; rm -rf "$work"' EXIT
fixtures=$here/spdk_configs
fail() {
  echo "FAIL: $*"
  for f in "$work"/*.log; do echo "--- $f (last 20 lines)"; tail -n 20 "$f"; done
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# localize IN OUT REMOTE_PORT: aio files into $work (created at SPDK's size), each listener
# port to a fresh one, bdev_nvme_attach_controller's port to REMOTE_PORT.
localize() {
  python3 - "$1" "$2" "$3" "$work" <<'PY'
import json, os, socket, sys
src, dst, remote, work = sys.argv[1:]
cfg = json.load(open(src))
ports = {}
def fresh(p):
    if p not in ports:
        s = socket.socket(); s.bind(("127.0.0.1", 0)); ports[p] = str(s.getsockname()[1]); s.close()
    return ports[p]
for sec in cfg["subsystems"]:
    for c in sec["config"] or []:
        p = c.get("params", {})
        if c["method"] == "bdev_aio_create":
            p["filename"] = os.path.join(work, os.path.basename(p["filename"]))
            with open(p["filename"], "wb") as f: f.truncate(64 << 20)
        elif c["method"] == "bdev_nvme_attach_controller":
            p["trsvcid"] = remote
        elif c["method"] == "nvmf_subsystem_add_listener":
            p["listen_address"]["trsvcid"] = fresh(p["listen_address"]["trsvcid"])
json.dump(cfg, open(dst, "w"), indent=2)
PY
}

# start NAME CONFIG: nvmfd on one core, its log in $work/NAME.log; 0 once it answers RPCs.
start() {
  "$bin/nvmfd" -m 0x1 -c "$2" -r "$work/$1.sock" > "$work/$1.log" 2>&1 &
  echo $! > "$work/$1.pid"
  wait_rpc "$bin" "$work/$1.sock"
}
# load_fails NAME CONFIG: nvmfd exits 1 on CONFIG; its stderr in $work/NAME.log.
load_fails() {
  local rc=0
  timeout 20 "$bin/nvmfd" -m 0x1 -c "$2" -r "$work/$1.sock" > "$work/$1.log" 2>&1 || rc=$?
  [ "$rc" = 1 ] || fail "$1: nvmfd exited $rc, expected 1"
}
ctl() { "$bin/nvmfctl" -s "$work/$1.sock" "${@:2}"; }

remote_port=$(free_port)
cat > "$work/remote.json" <<CFG
{"subsystems": [
 {"subsystem": "bdev", "config": [
  {"method": "bdev_malloc_create", "params": {"name": "R0", "num_blocks": 16384, "block_size": 512}}]},
 {"subsystem": "nvmf", "config": [
  {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
  {"method": "nvmf_create_subsystem", "params": {"nqn": "nqn.2016-06.io.spdk:remote", "allow_any_host": true}},
  {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "nqn.2016-06.io.spdk:remote", "namespace": {"bdev_name": "R0"}}},
  {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2016-06.io.spdk:remote",
   "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$remote_port"}}}]}]}
CFG
start remote "$work/remote.json" || fail "the remote nvmfd did not start"
echo '{"subsystems": []}' > "$work/empty.json"
start ref "$work/empty.json" || fail "the reference nvmfd (for migrate-config) did not start"

for f in nvmf_bdevs unsupported lvol_nvme; do localize "$fixtures/$f.json" "$work/$f.json" "$remote_port"; done

# 1. SPDK's config as it is
start nvmfd "$work/nvmf_bdevs.json" || fail "nvmf_bdevs.json did not load"
for m in iobuf_set_options sock_impl_set_options sock_set_default_impl accel_set_options bdev_set_options \
         bdev_raid_set_options bdev_nvme_set_hotplug nvmf_set_max_subsystems nvmf_set_crdt framework_set_scheduler; do
  n=$(grep -c "ignoring SPDK's $m " "$work/nvmfd.log" || true)
  [ "$n" = 1 ] || fail "nvmf_bdevs: $n warnings for $m, expected 1"
done
subs=$(ctl nvmfd nvmf_get_subsystems)
python3 - "$subs" <<'PY' || fail "nvmf_bdevs: subsystems as loaded: $subs"
import json, sys
s = {x["nqn"]: x for x in json.loads(sys.argv[1])}
c1, c2 = s["nqn.2016-06.io.spdk:cnode1"], s["nqn.2016-06.io.spdk:cnode2"]
assert [n["bdev_name"] for n in c1["namespaces"]] == ["Malloc0", "Malloc1", "Null0", "AIO0"], c1

assert c1["allow_any_host"] and c1["serial_number"] == "SPDK00000000000001", c1
assert not c2["allow_any_host"] and [h["nqn"] for h in c2["hosts"]] == [
    "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"], c2
assert len(c1["listen_addresses"]) == 1 and len(c2["listen_addresses"]) == 1
PY
stop_pidfile "$work/nvmfd.pid"
echo "1. nvmf_bdevs.json loads, one warning per SPDK tuning method"

# 2. refused before anything is created
load_fails unsupported "$work/unsupported.json"
grep -q "does not support methods 'bdev_delay_create' (section 'bdev'), 'bdev_passthru_create' (section 'bdev'), 'bdev_raid_create' (section 'bdev'); nothing was applied" \
  "$work/unsupported.log" || fail "unsupported: the refusal does not name the three methods"
! grep -q "listening on\|\] bdev \|ignoring SPDK" "$work/unsupported.log" || fail "unsupported: something was created"
echo "2. unsupported.json refused: $(grep -o "does not support.*applied" "$work/unsupported.log")"

# 3. an SPDK lvol cannot come over
load_fails lvol_direct "$work/lvol_nvme.json"
lvol_uuid=$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print([x["params"]["namespace"]["bdev_name"] for s in c["subsystems"] for x in (s["config"] or []) if x["method"]=="nvmf_subsystem_add_ns" and x["params"]["nqn"].endswith("cnode1")][0])' "$work/lvol_nvme.json")
grep -q "nvmf_subsystem_add_ns .*$lvol_uuid.* failed" "$work/lvol_direct.log" || fail "lvol_nvme: no failure naming bdev $lvol_uuid"
echo "3. lvol_nvme.json stops at the SPDK lvol's namespace ($lvol_uuid)"

# 4. migrate-config
for f in nvmf_bdevs unsupported lvol_nvme; do
  rc=0
  ctl ref migrate-config "$work/$f.json" "$work/$f.out.json" > "$work/$f.report" 2>&1 || rc=$?
  echo "--- migrate-config $f.json (exit $rc)"; cat "$work/$f.report"
  want=1; [ "$f" = nvmf_bdevs ] && want=0
  [ "$rc" = "$want" ] || fail "migrate-config $f: exit $rc, expected $want"
  grep -q "^kept ([1-9]" "$work/$f.report" || fail "migrate-config $f: no kept calls"
  grep -q "^ignored: .* (1[0-9])" "$work/$f.report" || fail "migrate-config $f: ignored count"
  grep -q "^  iobuf_set_options (1 call): " "$work/$f.report" || fail "migrate-config $f: iobuf_set_options not reported"
  stop_pidfile "$work/nvmfd.pid"
  start nvmfd "$work/$f.out.json" || fail "$f.out.json did not load"
  ! grep -q "\[warn" "$work/nvmfd.log" || fail "$f.out.json: loaded with warnings"
  case $f in
    nvmf_bdevs) grep -q "^refused (0)" "$work/$f.report" || fail "nvmf_bdevs: refused calls" ;;
    unsupported)
      for m in bdev_delay_create bdev_passthru_create bdev_raid_create; do
        grep -q "^  bdev: $m: nvmfd has no such method" "$work/$f.report" || fail "unsupported: $m not refused"
      done
      grep -q "nvmf_subsystem_add_ns nqn.2016-06.io.spdk:cnode1 nsid 1: bdev 'Raid0'" "$work/$f.report" ||
        fail "unsupported: the raid's namespace not refused"
      grep -q "^refused (4)" "$work/$f.report" || fail "unsupported: refused count"
      [ "$(ctl nvmfd nvmf_get_subsystems | python3 -c 'import json,sys; print([n["bdev_name"] for s in json.load(sys.stdin) for n in s.get("namespaces", [])])')" = "['Null0']" ] ||
        fail "unsupported.out: namespaces" ;;
    lvol_nvme)
      grep -q "^refused (1)" "$work/$f.report" || fail "lvol_nvme: refused count"
      grep -q "bdev '$lvol_uuid' is not created" "$work/$f.report" || fail "lvol_nvme: the lvol namespace not refused"
      ctl nvmfd bdev_get_bdevs --name Nvme0n1 > /dev/null || fail "lvol_nvme.out: no Nvme0n1" ;;
  esac
  stop_pidfile "$work/nvmfd.pid"
done
echo "4. migrate-config: reports as expected; every OUT loads without warnings"
echo PASS

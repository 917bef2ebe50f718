#!/bin/bash
# The statistics RPCs of a running nvmfd have SPDK v26.05's result shapes: every field of
# SPDK's results (tests/fixtures/spdk_stats/, captured from SPDK's nvmf_tgt) is there, with the
# same JSON type, nested the same way (nvmfd may add fields). Taken during nvmf-perf I/O to a
# malloc namespace: bdev_get_iostat (plain and per_channel), nvmf_get_stats,
# nvmf_subsystem_get_qpairs, framework_get_reactors, log_get_level; and a log_set_level.
#
#   tests/rpc/stats_shape_test.sh BIN_DIR
set -u
BIN=${1:?usage: $0 BIN_DIR}
FIX=$(cd "$(dirname "$0")/../fixtures/spdk_stats" && pwd)
. "$(dirname "$0")/../lib/nvmfd_proc.sh"
nvmfd_workdir nvmfd_stats_shape
SOCK=$work/rpc.sock
fail() { echo "FAIL: $*" >&2; tail -5 "$work/nvmfd.log" >&2; exit 1; }
ctl() { "$BIN/nvmfctl" -s "$SOCK" "$@"; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nqn=nqn.2016-06.io.spdk:cnode1
cat >"$work/config.json" <<JSON
{"subsystems":[
 {"subsystem":"bdev","config":[{"method":"bdev_malloc_create","params":{"name":"Malloc0","num_blocks":131072,"block_size":512}}]},
 {"subsystem":"nvmf","config":[
  {"method":"nvmf_create_transport","params":{"trtype":"TCP"}},
  {"method":"nvmf_create_subsystem","params":{"nqn":"$nqn","allow_any_host":true}},
  {"method":"nvmf_subsystem_add_ns","params":{"nqn":"$nqn","namespace":{"bdev_name":"Malloc0"}}},
  {"method":"nvmf_subsystem_add_listener","params":{"nqn":"$nqn",
    "listen_address":{"trtype":"TCP","adrfam":"IPv4","traddr":"127.0.0.1","trsvcid":"$port"}}}]}]}
JSON
"$BIN/nvmfd" -c "$work/config.json" -r "$SOCK" -m 0x1 >"$work/nvmfd.log" 2>&1 &
echo $! >"$work/nvmfd.pid"
wait_rpc "$BIN" "$SOCK" || fail "nvmfd did not answer on $SOCK"

"$BIN/nvmf-perf" -q 8 -o 4096 -w randrw -M 50 -t 4 \
  -r "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:$nqn" >"$work/perf.out" 2>&1 &
perf=$!
# Until the host's queues are up (and I/O has run), then everything while it runs.
for _ in $(seq 100); do
  [ "$(ctl call nvmf_subsystem_get_qpairs "{\"nqn\":\"$nqn\"}" 2>/dev/null | grep -c '"qid"')" -ge 2 ] && break
  sleep 0.1
done
sleep 1
ctl bdev_get_iostat >"$work/bdev_get_iostat.json" || fail bdev_get_iostat
ctl call bdev_get_iostat '{"names":["Malloc0"],"per_channel":true}' >"$work/bdev_get_iostat_per_channel.json" || fail "per_channel"
ctl nvmf_get_stats >"$work/nvmf_get_stats.json" || fail nvmf_get_stats
ctl call nvmf_subsystem_get_qpairs "{\"nqn\":\"$nqn\"}" >"$work/nvmf_subsystem_get_qpairs.json" || fail get_qpairs
ctl framework_get_reactors >"$work/framework_get_reactors.json" || fail framework_get_reactors
# nvmfctl prints a string result bare (rpc.py prints it as JSON, as the fixtures hold it).
level=$(ctl log_get_level) || fail log_get_level
printf '"%s"\n' "$level" >"$work/log_get_level.json"
[ "$(ctl call log_set_level '{"level":"DEBUG"}')" = true ] || fail "log_set_level DEBUG"
level=$(ctl log_get_level) || fail "log_get_level after"
printf '"%s"\n' "$level" >"$work/log_get_level_after.json"
wait $perf || { cat "$work/perf.out"; fail "nvmf-perf failed"; }

python3 - "$FIX" "$work" <<'PY' || fail "shapes differ from SPDK's"
import json, os, sys
fix, ours = sys.argv[1], sys.argv[2]
def kind(v):
    if isinstance(v, bool): return "bool"
    if isinstance(v, (int, float)): return "number"
    return type(v).__name__
def check(spdk, mine, path, errors):
    if kind(spdk) != kind(mine):
        errors.append(f"{path}: SPDK has {kind(spdk)}, nvmfd {kind(mine)}"); return
    if isinstance(spdk, dict):
        for k, v in spdk.items():
            if k not in mine: errors.append(f"{path}.{k}: missing")
            else: check(v, mine[k], f"{path}.{k}", errors)
    elif isinstance(spdk, list):
        if spdk and not mine: errors.append(f"{path}: empty, SPDK's is not")
        elif spdk: check(spdk[0], mine[0], f"{path}[0]", errors)
def load(path):
    try: return json.load(open(path))
    except ValueError as e: sys.exit(f"{path}: not JSON ({e}): {open(path).read()[:200]!r}")
errors = []
for f in sorted(os.listdir(fix)):
    if not f.endswith(".json"): continue
    check(load(os.path.join(fix, f)), load(os.path.join(ours, f)), f, errors)
if json.load(open(os.path.join(ours, "log_get_level_after.json"))) != "DEBUG": errors.append("log_set_level DEBUG not read back")
it = json.load(open(os.path.join(ours, "bdev_get_iostat.json")))["bdevs"][0]
if it["num_read_ops"] == 0 or it["num_write_ops"] == 0: errors.append(f"no I/O counted: {it}")
print("\n".join(errors) or "every SPDK field present with its type")
sys.exit(1 if errors else 0)
PY
echo "stats_shape: PASS"

#!/bin/bash
# SPDK rpc.py against nvmfd: methods, errors, save_config / load_config round trips, nvmfctl
# output identical to rpc.py's, and the refusal of a second daemon on the same socket.
#
#   tests/rpc/rpc_py_compat.sh SPDK_DIR [BUILD_DIR]
#
# SPDK_DIR: an SPDK source tree (scripts/rpc.py and python/). BUILD_DIR: default build.
# Uses 127.0.0.1 ports $PORT and $PORT+1 (PORT=44201 unless set) and a socket under /tmp.
# Exit 0 when every check passes; the failing check is printed otherwise.
set -u
SPDK_DIR=${1:?usage: $0 SPDK_DIR [BUILD_DIR]}
BUILD=${2:-$(cd "$(dirname "$0")/../.." && pwd)/build}
PORT=${PORT:-44201}
NVMFD=$BUILD/bin/nvmfd
NVMFCTL=$BUILD/bin/nvmfctl
WORK=$(mktemp -d /tmp/nvmfd_rpc_py.XXXXXX)
SOCK=$WORK/rpc.sock
export PYTHONPATH=$SPDK_DIR/python
rpc() { python3 "$SPDK_DIR/scripts/rpc.py" -s "$SOCK" "$@"; }
pid=
stop_daemon() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
cleanup() { stop_daemon; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
start_daemon() {  # CONFIG
  "$NVMFD" -c "$1" -r "$SOCK" -m 0x1 >"$WORK/nvmfd.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do [ -S "$SOCK" ] && return 0; sleep 0.1; done
  cat "$WORK/nvmfd.log" >&2
  fail "nvmfd did not create $SOCK"
}

echo '{"subsystems":[{"subsystem":"accel","config":[]},{"subsystem":"bdev","config":[
  {"method":"bdev_malloc_create","params":{"name":"Malloc0","num_blocks":2048,"block_size":512}}]}]}' \
  >"$WORK/start.json"
echo '{"subsystems":[{"subsystem":"bdev","config":[]}]}' >"$WORK/empty.json"

start_daemon "$WORK/start.json"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode is not 0600"
rpc rpc_get_methods >"$WORK/out" && grep -q '"nvmf_create_subsystem"' "$WORK/out" || fail "rpc_get_methods"
rpc spdk_get_version >"$WORK/out" && grep -q '"version"' "$WORK/out" || fail "spdk_get_version"
rpc nvmf_create_transport -t TCP || fail "nvmf_create_transport"
rpc nvmf_create_subsystem nqn.2016-06.io.spdk:cnode1 -a -s SPDK00000000000001 || fail "create subsystem"
rpc nvmf_subsystem_add_ns nqn.2016-06.io.spdk:cnode1 Malloc0 || fail "add_ns"
rpc nvmf_subsystem_add_listener nqn.2016-06.io.spdk:cnode1 -t tcp -a 127.0.0.1 -s "$PORT" || fail "listener"
[ "$(rpc bdev_malloc_create -b Malloc1 8 512)" = Malloc1 ] || fail "bdev_malloc_create prints the name"
"$NVMFCTL" -s "$SOCK" nvmf_subsystem_add_listener --nqn nqn.2016-06.io.spdk:cnode1 \
  --listen_address.trtype tcp --listen_address.traddr 127.0.0.1 \
  --listen_address.trsvcid $((PORT + 1)) >/dev/null || fail "nvmfctl add_listener"
rpc bdev_malloc_delete Nope >"$WORK/err" 2>&1 && fail "deleting a missing bdev succeeded"
grep -q '"code": -19' "$WORK/err" || fail "missing bdev is not -19: $(cat "$WORK/err")"
rpc bdev_set_qos_limit Malloc1 --rw-ios-per-sec 2000 --w-mbytes-per-sec 3 || fail "bdev_set_qos_limit"
rpc bdev_get_bdevs -b Malloc1 >"$WORK/out"
python3 -c 'import json,sys; l = json.load(open(sys.argv[1]))[0]["assigned_rate_limits"]
sys.exit(l != {"rw_ios_per_sec": 2000, "rw_mbytes_per_sec": 0, "r_mbytes_per_sec": 0, "w_mbytes_per_sec": 3})' "$WORK/out" ||
  fail "assigned_rate_limits after bdev_set_qos_limit: $(cat "$WORK/out")"
rpc bdev_set_qos_limit Nope --rw-ios-per-sec 1000 >"$WORK/err" 2>&1 && fail "QoS on a missing bdev succeeded"
grep -q '"code": -19' "$WORK/err" || fail "QoS on a missing bdev is not -19: $(cat "$WORK/err")"
rpc framework_get_config nope >"$WORK/err" 2>&1 && fail "framework_get_config nope succeeded"
grep -q "Subsystem 'nope' not found" "$WORK/err" || fail "framework_get_config message"

rpc save_config >"$WORK/saved.json" || fail "rpc.py save_config"
grep -q '"method": "bdev_set_qos_limit"' "$WORK/saved.json" || fail "save_config lacks the QoS limits"
"$NVMFCTL" -s "$SOCK" save_config >"$WORK/saved_ctl.json" || fail "nvmfctl save_config"
cmp -s "$WORK/saved.json" "$WORK/saved_ctl.json" || fail "nvmfctl save_config differs from rpc.py's"

"$NVMFD" -c "$WORK/empty.json" -r "$SOCK" -m 0x1 2>"$WORK/err" && fail "second nvmfd started"
grep -q "another nvmfd is listening on $SOCK" "$WORK/err" || fail "second nvmfd: $(cat "$WORK/err")"
stop_daemon
[ -e "$SOCK" ] && fail "socket left behind after SIGTERM"

start_daemon "$WORK/saved.json"  # nvmfd -c with a saved config
rpc save_config >"$WORK/saved2.json"
cmp -s "$WORK/saved.json" "$WORK/saved2.json" || fail "-c saved config does not round-trip"
stop_daemon

start_daemon "$WORK/empty.json"  # rpc.py load_config into an empty daemon
rpc load_config -j "$WORK/saved.json" || fail "rpc.py load_config"
rpc save_config >"$WORK/saved3.json"
cmp -s "$WORK/saved.json" "$WORK/saved3.json" || fail "rpc.py load_config does not round-trip"
stop_daemon

start_daemon "$WORK/empty.json"  # nvmfctl load_config from stdin
"$NVMFCTL" -s "$SOCK" load_config <"$WORK/saved.json" || fail "nvmfctl load_config"
rpc save_config >"$WORK/saved4.json"
cmp -s "$WORK/saved.json" "$WORK/saved4.json" || fail "nvmfctl load_config does not round-trip"
rpc spdk_kill_instance SIGTERM >/dev/null 2>&1
echo "rpc_py_compat: all checks passed"

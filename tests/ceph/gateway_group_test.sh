#!/usr/bin/env bash
# Two nvmfd gateways in one gateway group on a real Ceph (run under ceph_cluster.sh run, which
# exports CEPH_CONF, CEPH_KEYRING, CEPH_POOL): the same subsystem, namespace and RBD image on
# each, ANA group 1 optimized on exactly one of them. Checks, in one cluster run:
#  1. a starts first and owns the group (optimized), b joins non-optimized; the group's view
#     lists both members; RPC errors (unknown cluster, duplicate group, a move to a stranger,
#     set_ana_state on a managed group, a bdev with librbd's cache in the group); save_config
#     keeps the group and no managed state.
#  2. a hand move to b: b optimized, a non-optimized, nothing fenced.
#  3. SIGKILL of the owner b: a takes the group after the lease (failover time printed),
#     b's client is on the cluster's blocklist, I/O through a works.
#  4. b restarted: rejoins non-optimized, takes nothing back (no failback configured).
#  5. the owner a frozen (SIGSTOP, a gateway cut off): b takes over and fences it; after SIGCONT
#     a shows inaccessible, says it was fenced, and writes through it fail (no stale data).
#  6. SIGTERM of b (graceful): it hands the group over and leaves.
# usage: gateway_group_test.sh BIN_DIR
set -euo pipefail
bin=$1
: "${CEPH_CONF:?run under ceph_cluster.sh run}"
. "$(dirname "$(readlink -f "$0")")/gateway_lib.sh"
work=$(mktemp -d /tmp/nvmfd-gw.XXXXXX)
declare -A pid
cleanup() {
  for g in "${!pid[@]}"; do
    kill -CONT "${pid[$g]}" 2>/dev/null || true
    kill -KILL "${pid[$g]}" 2>/dev/null || true
    wait "${pid[$g]}" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/*.log; do echo "--- $f (tail)"; tail -n 30 "$f"; done >&2
  exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }

nqn=nqn.2016-06.io.nvmfd:gw-test
image=gwimg-$$
lease_ms=4000
rbd create --size 64M "$CEPH_POOL/$image"
declare -A port=([a]=$(free_port) [b]=$(free_port))

write_config() {  # gateway_id (tests/ceph/gateway_lib.sh: the shared gateway config)
  gw_config "$1" "$nqn" "$image" 127.0.0.1 "${port[$1]}" a001 "$lease_ms" > "$work/$1.json"
}

start() {  # gateway_id
  local gw=$1
  rm -f "$work/$gw.sock"
  "$bin/nvmfd" -c "$work/$gw.json" -r "$work/$gw.sock" >> "$work/$gw.log" 2>&1 &
  pid[$gw]=$!
  for _ in $(seq 200); do
    [ -S "$work/$gw.sock" ] && rpc "$gw" call nvmf_gateway_group_get '{}' > /dev/null 2>&1 && return 0
    kill -0 "${pid[$gw]}" 2>/dev/null || fail "nvmfd $gw exited"
    sleep 0.1
  done
  fail "nvmfd $gw did not start"
}
rpc() { local gw=$1; shift; "$bin/nvmfctl" -s "$work/$gw.sock" -t 30 "$@"; }
ana_of() {  # gateway_id -> ANA state of group 1 on its listener
  rpc "$1" call nvmf_subsystem_get_listeners "{\"nqn\": \"$nqn\"}" |
    python3 -c 'import json,sys; l=json.load(sys.stdin)[0]; print(next(s["ana_state"] for s in l["ana_states"] if s["ana_group"]==1))'
}
view() {  # gateway_id python-expression over g (the group's view)
  rpc "$1" call nvmf_gateway_group_get '{"name": "gw"}' | python3 -c "import json,sys; g=json.load(sys.stdin)[0]; print($2)"
}
wait_state() {  # gateway_id state timeout_s
  local deadline
  deadline=$(python3 -c "print($(now) + $3)")
  while :; do
    [ "$(ana_of "$1" 2>/dev/null)" = "$2" ] && return 0
    python3 -c "import sys; sys.exit(0 if $(now) < $deadline else 1)" || fail "$1 is not $2 after $3 s (is $(ana_of "$1" 2>&1))"
    sleep 0.1
  done
}
perf_write() {  # gateway_id seconds -> nvmf-perf's exit status
  "$bin/nvmf-perf" -q 4 -o 4096 -w randwrite -t "$2" -r "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:${port[$1]} subnqn:$nqn" \
    >> "$work/perf-$1.log" 2>&1
}
expect_error() {  # message command...
  local what=$1; shift
  if out=$("$@" 2>&1); then fail "$what: expected an error, got $out"; fi
  echo "  refused as expected ($what): $(echo "$out" | tr '\n' ' ' | cut -c1-160)"
}

write_config a
write_config b
echo "== 1. a first, then b"
start a
start b
wait_state a optimized 5
wait_state b non_optimized 5
[ "$(view a 'g["ana_groups"][0]["owner"]')" = a ] || fail "owner is not a"
members=$(view b 'sorted(m["gateway_id"] for m in g["members"])')
[ "$members" = "['a', 'b']" ] || fail "members seen by b: $members"
expect_error "unknown cluster" rpc a call nvmf_gateway_group_create '{"name": "x", "gateway_id": "a", "cluster_name": "nope", "ana_groups": [2]}'
expect_error "duplicate group" rpc a call nvmf_gateway_group_create "{\"name\": \"gw\", \"gateway_id\": \"a\", \"cluster_name\": \"ceph\", \"ana_groups\": [2]}"
expect_error "ANA group in another group" rpc a call nvmf_gateway_group_create "{\"name\": \"gw2\", \"gateway_id\": \"a\", \"cluster_name\": \"ceph\", \"pool_name\": \"$CEPH_POOL\", \"ana_groups\": [1]}"
expect_error "bad ana_groups" rpc a call nvmf_gateway_group_create '{"name": "x", "gateway_id": "a", "cluster_name": "ceph", "ana_groups": [0]}'
expect_error "move to a stranger" rpc a call nvmf_gateway_group_move '{"name": "gw", "anagrpid": 1, "gateway_id": "zed"}'
expect_error "managed ANA state" rpc a call nvmf_subsystem_listener_set_ana_state "{\"nqn\": \"$nqn\", \"anagrpid\": 1, \"ana_state\": \"inaccessible\", \"listen_address\": {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"${port[a]}\"}}"
# A private connection (no cluster_name) with Ceph's default: librbd's cache on.
rpc a call bdev_rbd_create "{\"name\": \"cached\", \"pool_name\": \"$CEPH_POOL\", \"rbd_name\": \"$image\", \"block_size\": 4096, \"user_id\": \"admin\"}" > /dev/null
expect_error "a bdev with librbd's cache in a gateway group" rpc a call nvmf_subsystem_add_ns "{\"nqn\": \"$nqn\", \"namespace\": {\"nsid\": 2, \"bdev_name\": \"cached\", \"anagrpid\": 1}}"
rpc a call bdev_rbd_delete '{"name": "cached"}' > /dev/null
rpc a save_config > "$work/saved.json"
python3 - "$work/saved.json" <<'PY' || fail "save_config"
import json, sys
c = json.load(open(sys.argv[1]))
secs = [s["subsystem"] for s in c["subsystems"]]
calls = [x for s in c["subsystems"] for x in (s["config"] or [])]
gw = [x for x in calls if x["method"] == "nvmf_gateway_group_create"]
assert len(gw) == 1 and gw[0]["params"]["gateway_id"] == "a", gw
assert secs.index("nvmf_gateway") < secs.index("nvmf"), secs
assert not [x for x in calls if x["method"] == "nvmf_subsystem_listener_set_ana_state"], "managed state saved"
PY
perf_write a 2 || fail "I/O through the optimized gateway a"

echo "== 2. hand move to b"
rpc a call nvmf_gateway_group_move '{"name": "gw", "anagrpid": 1, "gateway_id": "b"}' > /dev/null
wait_state b optimized 10
wait_state a non_optimized 2
[ "$(view b 'g["ana_groups"][0]["requested"]')" = "" ] || fail "the move is still requested"
ceph osd blocklist ls 2>/dev/null | grep -q . && fail "a move fenced someone: $(ceph osd blocklist ls 2>&1)"
perf_write b 2 || fail "I/O through b after the move"

echo "== 3. SIGKILL of the owner b"
b_addr=$(view a '[m["address"] for m in g["members"] if m["gateway_id"]=="b"][0]')
t0=$(now)
kill -KILL "${pid[b]}"
wait "${pid[b]}" 2>/dev/null || true
unset 'pid[b]'
wait_state a optimized 20
failover=$(python3 -c "print(round($(now) - $t0, 2))")
echo "  a optimized ${failover} s after b was killed (lease ${lease_ms} ms)"
ceph osd blocklist ls 2>/dev/null > "$work/blocklist"
grep -q "fenced gateway 'b'" "$work/a.log" || fail "a did not fence b"
echo "  blocklist: $(tr '\n' ' ' < "$work/blocklist")"
[ -s "$work/blocklist" ] || fail "nothing on the blocklist"
perf_write a 2 || fail "I/O through a after the failover"

echo "== 4. b restarted: rejoins non-optimized, takes nothing back"
start b
wait_state b non_optimized 5
sleep $((lease_ms * 3 / 1000))
[ "$(ana_of b)" = non_optimized ] || fail "b took the group back"
[ "$(ana_of a)" = optimized ] || fail "a lost the group"

echo "== 5. the owner a frozen (cut off), b takes over and fences it"
t0=$(now)
kill -STOP "${pid[a]}"
wait_state b optimized 20
echo "  b optimized $(python3 -c "print(round($(now) - $t0, 2))") s after a froze"
kill -CONT "${pid[a]}"
wait_state a inaccessible 10
[ "$(view a 'g["fenced"]')" = True ] || fail "a does not say it was fenced"
grep -q "was fenced" "$work/a.log" || fail "no log line on a"
if perf_write a 2; then fail "writes through the fenced gateway a succeeded"; fi
echo "  writes through fenced a failed, as they must"
perf_write b 2 || fail "I/O through b after fencing a"

echo "== 6. SIGTERM of b: hands over and leaves"
kill -TERM "${pid[b]}"
wait "${pid[b]}" || fail "b exited with an error"
unset 'pid[b]'
grep -q "handed ANA group 1 over" "$work/b.log" || fail "b did not hand the group over"
echo "PASS (failover ${failover} s)"

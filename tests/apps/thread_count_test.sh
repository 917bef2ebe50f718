#!/usr/bin/env bash
# The threads of a running nvmfd (issue 14): the table "What runs where" in docs/architecture.md
# names every kind of thread; this test runs a host nvmfd (-m with one core) against a target
# nvmfd and checks, from /proc/PID/task/*/comm, that
#   - every thread of the host daemon is a kind the table lists;
#   - the number of threads stays the same after 1 path, 20 paths (one multipath controller over
#     20 listeners 127.0.0.1 .. 127.0.0.20), a discovery service and a background lvol inflate:
#     they all run as state machines on the reactors.
# Usage: thread_count_test.sh BIN_DIR ARCHITECTURE_MD
set -euo pipefail
bin=$1
doc=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/nvmfd_proc.sh"
work=$(mktemp -d /tmp/nvmfd-threads.XXXXXX)
cleanup() {
  stop_pidfile "$work/host.pid" 0
  stop_pidfile "$work/target.pid" 0
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in target host; do echo "--- $f log (tail) ---"; tail -n 30 "$work/$f.log" 2>/dev/null || true; done
  exit 1
}

# The kinds of thread: the first `name` in the first column of each row of the table.
kinds=$(awk '/^ *\| thread \(name\)/ {t = 1; next} t && !/^ *\|/ {exit} t {
  split($0, col, "|"); if (split(col[2], c, "`") >= 3) print c[2] }' "$doc" | sed 's/-N$/-[0-9]+/')
[ -n "$kinds" ] || fail "no thread table (| thread (name) | ...) in $doc"
echo "thread kinds in $doc: $(echo $kinds)"

census() {  # census PID -> "N name,name,..." (names sorted, counted)
  local p=$1
  cat /proc/"$p"/task/*/comm 2>/dev/null | sort | uniq -c | awk '{printf "%s%s x%s", (NR > 1 ? ", " : ""), $2, $1}'
}
thread_total() { ls /proc/"$1"/task | wc -l; }
check_kinds() {  # every thread's comm matches a kind of the table
  local p=$1 name k ok
  while read -r name; do
    ok=0
    for k in $kinds; do [[ $name =~ ^($k)$ ]] && { ok=1; break; }; done
    [ "$ok" = 1 ] || fail "thread '$name' of nvmfd ($2) is not a kind listed in $doc's table"
  done < <(cat /proc/"$p"/task/*/comm)
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
nqn=nqn.2016-06.io.nvmfd:threads
disc=nqn.2014-08.org.nvmexpress.discovery
listeners=""
for i in $(seq 1 20); do
  listeners+="{\"method\": \"nvmf_subsystem_add_listener\", \"params\": {\"nqn\": \"$nqn\", \"listen_address\":
    {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"127.0.0.$i\", \"trsvcid\": \"$port\"}}},"
done
cat > "$work/target.json" <<CFG
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_null_create", "params": {"name": "Null0", "num_blocks": 262144, "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$nqn", "allow_any_host": true, "ana_reporting": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$nqn", "namespace": {"bdev_name": "Null0"}}},
    $listeners
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$disc", "listen_address":
      {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}}]}]}
CFG
echo '{"subsystems": []}' > "$work/host.json"
cpu=$(python3 -c 'import os; print(min(os.sched_getaffinity(0)))')
mask=$(printf '0x%x' $((1 << cpu)))

"$bin/nvmfd" -c "$work/target.json" -r "$work/t.sock" -m "$mask" > "$work/target.log" 2>&1 &
echo $! > "$work/target.pid"
"$bin/nvmfd" -c "$work/host.json" -r "$work/h.sock" -m "$mask" > "$work/host.log" 2>&1 &
echo $! > "$work/host.pid"
hpid=$(cat "$work/host.pid")
wait_rpc "$bin" "$work/t.sock" || fail "the target nvmfd did not answer on its RPC socket"
wait_rpc "$bin" "$work/h.sock" || fail "the host nvmfd did not answer on its RPC socket"
ctl() { "$bin/nvmfctl" -s "$work/h.sock" "$@"; }

base=$(thread_total "$hpid")
echo "host nvmfd at start: $base threads: $(census "$hpid")"
check_kinds "$hpid" "at start"
expect_same() {  # expect_same WHAT
  local now
  now=$(thread_total "$hpid")
  echo "host nvmfd after $1: $now threads: $(census "$hpid")"
  check_kinds "$hpid" "after $1"
  [ "$now" = "$base" ] || fail "after $1 the host nvmfd has $now threads, $base at start"
}

attach() {  # attach I: path I of controller T (127.0.0.I)
  ctl bdev_nvme_attach_controller --name T --trtype tcp --adrfam ipv4 --traddr "127.0.0.$1" \
    --trsvcid "$port" --subnqn "$nqn" --multipath multipath > "$work/attach.out" 2>&1 ||
    { cat "$work/attach.out"; fail "attaching path 127.0.0.$1"; }
}
attach 1
expect_same "1 path"
for i in $(seq 2 20); do attach "$i"; done
paths=$(ctl bdev_nvme_get_io_paths --name Tn1 | python3 -c 'import json,sys
print(sum(1 for g in json.load(sys.stdin)["poll_groups"] for p in g["io_paths"] if p["connected"]))')
[ "$paths" = 20 ] || fail "Tn1 has $paths connected paths, want 20"
expect_same "20 paths"

ctl bdev_nvme_start_discovery --name D --trtype tcp --adrfam ipv4 --traddr 127.0.0.1 --trsvcid "$port" \
  --wait_for_attach true > "$work/disc.out" 2>&1 || { cat "$work/disc.out"; fail "bdev_nvme_start_discovery"; }
expect_same "a discovery service"

ctl bdev_malloc_create --name M0 --num_blocks 16384 --block_size 512 > /dev/null || fail "bdev_malloc_create"
ctl bdev_lvol_create_lvstore --bdev_name M0 --lvs_name lvs --cluster_sz 1048576 > /dev/null || fail "create_lvstore"
ctl bdev_lvol_create --lvs_name lvs --lvol_name v --size_in_mib 4 --thin_provision true > /dev/null || fail "bdev_lvol_create"
ctl bdev_lvol_snapshot --lvol_name lvs/v --snapshot_name s > /dev/null || fail "bdev_lvol_snapshot"
ctl bdev_lvol_clone --snapshot_name lvs/s --clone_name c > /dev/null || fail "bdev_lvol_clone"
ctl bdev_lvol_inflate --name lvs/c > /dev/null || fail "bdev_lvol_inflate"
expect_same "an lvol inflate"

ctl bdev_nvme_stop_discovery --name D > /dev/null || fail "bdev_nvme_stop_discovery"
ctl bdev_nvme_detach_controller --name T > /dev/null || fail "bdev_nvme_detach_controller"
expect_same "detaching everything"
stop_pidfile "$work/host.pid"
stop_pidfile "$work/target.pid"
echo "thread_count: PASS"

#!/usr/bin/env bash
# The test cluster itself (ctest ceph_cluster): ceph_cluster.sh starts a cluster, RBD works on
# it with Ceph's own rbd tool (create, write bench, info, resize, remove), every daemon
# listens on 127.0.0.1 only and keeps its files in DIR, and stop leaves no process and no DIR.
#
#   ceph_cluster_test.sh SOURCE_DIR [OSDS]
#
# Exit 77 (skip) only when the Ceph packages are missing and scripts/deps.sh cannot install them.
set -euo pipefail
src=$1
osds=${2:-1}
cluster=$src/tests/ceph/ceph_cluster.sh

fail() { echo "FAIL: $*" >&2; exit 1; }

if ! command -v ceph-mon >/dev/null || ! command -v ceph-osd >/dev/null || ! command -v rbd >/dev/null; then
  echo "ceph_cluster_test: Ceph not installed; trying scripts/deps.sh" >&2
  if ! bash "$src/scripts/deps.sh" >&2 || ! command -v ceph-mon >/dev/null; then
    echo "SKIP: the Ceph packages (ceph-mon ceph-osd ceph-common) cannot be installed here" >&2
    exit 77
  fi
fi

# What Debian's packages would use if a path escaped DIR: nothing may appear there.
outside() { ls -A /var/log/ceph /var/lib/ceph/mon /var/lib/ceph/osd /var/lib/ceph/crash /run/ceph 2>/dev/null || true; }
outside_before=$(outside)

dir=$(mktemp -d "${TMPDIR:-/tmp}/nvmfd-ceph.XXXXXX")
trap 'bash "$cluster" stop "$dir"' EXIT
trap 'exit 143' TERM INT

t0=$(date +%s%N)
bash "$cluster" start "$dir" --osds "$osds"
t1=$(date +%s%N)
echo "start took $(( (t1 - t0) / 1000000 )) ms"

eval "$(bash "$cluster" env "$dir")"
export CEPH_CONF
pool=$CEPH_POOL
[ "$CEPH_MON_HOST" != "${CEPH_MON_HOST#v2:127.0.0.1:}" ] || fail "mon_host not on 127.0.0.1: $CEPH_MON_HOST"
[ -s "$CEPH_KEYRING" ] && [ -n "$CEPH_KEY" ] || fail "no client.admin keyring/key"

# The daemons: one mon and the OSDs, each by its pid file, each started on this DIR's config.
pids=() names=()
for f in "$dir"/run/*.pid; do pids+=("$(cat "$f")"); names+=("$(basename "$f" .pid)"); done
[ ${#pids[@]} -eq $((1 + osds)) ] || fail "expected $((1 + osds)) pid files, found ${#pids[@]}"
for pid in "${pids[@]}"; do
  kill -0 "$pid" || fail "daemon $pid is not running"
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$dir/ceph.conf" || fail "pid $pid is not ours"
done

# Loopback only: every TCP socket the daemons listen on is bound to 127.0.0.1.
listen=$(ss -Hltnp)
for pid in "${pids[@]}"; do
  mine=$(grep -F "pid=$pid," <<<"$listen" || true)
  [ -n "$mine" ] || fail "daemon $pid listens on nothing"
  bad=$(awk '{print $4}' <<<"$mine" | grep -v '^127\.0\.0\.1:' || true)
  [ -z "$bad" ] || fail "daemon $pid listens beyond loopback: $bad"
done
echo "listening: $(for pid in "${pids[@]}"; do grep -F "pid=$pid," <<<"$listen" | awk '{print $4}'; done | tr '\n' ' ')"

# RBD through Ceph's own tools.
rbd create --size 64M "$pool/img"
rbd bench --io-type write --io-size 4K --io-total 4M --io-pattern rand "$pool/img"
json_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
used=$(rbd du --format json "$pool/img" | python3 -c 'import json,sys; print(json.load(sys.stdin)["images"][0]["used_size"])')
[ "$used" -ge $((4 << 20)) ] || fail "rbd du: $used bytes used after a 4 MiB write bench"
size=$(json_field "$(rbd info --format json "$pool/img")" size)
[ "$size" -eq $((64 << 20)) ] || fail "image size $size after create, want 64 MiB"
rbd resize --no-progress --size 128M "$pool/img"
size=$(json_field "$(rbd info --format json "$pool/img")" size)
[ "$size" -eq $((128 << 20)) ] || fail "image size $size after resize, want 128 MiB"
rbd rm --no-progress "$pool/img"
[ -z "$(rbd ls "$pool")" ] || fail "pool not empty after rbd rm: $(rbd ls "$pool")"

# Cost: the daemons' resident memory after the run.
for i in "${!pids[@]}"; do
  echo "${names[$i]}: $(grep -E '^(VmRSS|Threads)' "/proc/${pids[$i]}/status" | tr -s '\t\n' '  ')"
done

t0=$(date +%s%N)
bash "$cluster" stop "$dir"
t1=$(date +%s%N)
echo "stop took $(( (t1 - t0) / 1000000 )) ms"
trap - EXIT

for pid in "${pids[@]}"; do
  ! kill -0 "$pid" 2>/dev/null || fail "daemon $pid still running after stop"
done
[ ! -e "$dir" ] || fail "$dir still there after stop"
leftover=$(ps -eo pid=,args= | grep -F "$dir" | grep -v grep || true)
[ -z "$leftover" ] || fail "processes naming $dir after stop: $leftover"
[ "$(outside)" = "$outside_before" ] || fail "files appeared outside DIR: $(outside)"
echo "ceph_cluster_test: passed ($osds OSD(s))"

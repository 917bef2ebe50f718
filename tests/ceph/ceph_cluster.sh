#!/usr/bin/env bash
# A throw-away single-node Ceph cluster for tests, from Debian 12's packages (Ceph 16 "pacific"):
#
#   ceph_cluster.sh start DIR [--osds N] [--pool NAME] [--osd-size SIZE]
#   ceph_cluster.sh env DIR      # what a client needs, as shell assignments (see below)
#   ceph_cluster.sh stop DIR
#   ceph_cluster.sh run [START OPTIONS] -- COMMAND [ARGS...]
#   ceph_cluster.sh stop-osd DIR ID | start-osd DIR ID
#
# start: one monitor and N (1..3, default 1) OSDs on sparse bluestore files (default 2G each),
#   no manager (none is needed for pools and RBD; docs/ceph.md), cephx on, a replicated pool
#   (default "rbd", size 1, min_size 1) initialised for RBD. Everything lives in DIR, which must
#   be absent or empty: config, keyrings, mon store, OSD files, logs, admin sockets, pid files.
#   Nothing binds anything but 127.0.0.1: the monitor on a free port (msgr2 only), the OSDs on
#   ports Ceph picks from 6800-7300 on 127.0.0.1. Returns when the pool takes I/O.
#   Exit 0 when up; 77 when the Ceph packages are not installed (scripts/deps.sh installs
#   them); 1 on any other failure, after printing the daemons' log tails and stopping what it
#   started (DIR is then removed too).
# env: prints CEPH_CONF, CEPH_KEYRING (client.admin), CEPH_USER (admin), CEPH_POOL,
#   CEPH_MON_HOST and CEPH_KEY (client.admin's secret), one NAME=value per line, for `eval` or
#   `source <(...)`, and CEPH_DIR (DIR). The ceph, rados and rbd tools find everything
#   through CEPH_CONF alone.
# stop: SIGTERM to every daemon named by DIR/run/*.pid (only if its command line names this
#   DIR's config, so a reused PID is never hit), waits for each to exit (SIGKILL after 20 s),
#   then removes DIR. A DIR that does not exist is already stopped (exit 0). DIR must carry
#   this script's marker, so a wrong argument never removes anything else.
# stop-osd: SIGTERM to osd.ID (by its pid file, as stop), waits until it has exited; the
#   cluster (monitor, other OSDs) stays. start-osd: starts osd.ID again on its existing
#   data and waits until the OSD map shows all OSDs up (60 s at most). For tests of a cluster that
#   goes away and comes back.
# run: start in a new directory under ${TMPDIR:-/tmp}, COMMAND with env's variables exported
#   (and CEPH_CLUSTER_SH, this script's path, for stop-osd and start-osd),
#   stop; exit status COMMAND's (77 if Ceph is not installed, 1 if the start failed).
set -euo pipefail

readonly marker="# made by ceph_cluster.sh"

die() { echo "ceph_cluster: $*" >&2; exit 1; }

usage() {
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

need_tools() {
  local t missing=()
  for t in ceph-mon ceph-osd ceph-authtool monmaptool ceph rbd uuidgen python3 timeout; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "ceph_cluster: not installed: ${missing[*]} (scripts/deps.sh installs ceph-mon ceph-osd ceph-common)" >&2
    exit 77
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

now_ms() { date +%s%3N; }

# phase NAME: notes how long the step that just ended took, for the summary line of start.
phase_t=0
phases=""
phase() {
  local t; t=$(now_ms)
  phases+="${phases:+, }$1 $(( (t - phase_t) / 1000 )).$(printf '%03d' $(( (t - phase_t) % 1000 )))"
  phase_t=$t
}

# adm ARGS...: the ceph CLI as client.admin of this cluster, never waiting forever.
adm() { timeout 60 ceph --conf "$dir/ceph.conf" --connect-timeout 30 "$@"; }

write_conf() {  # write_conf FSID PORT
  local fsid=$1 port=$2
  cat > "$dir/ceph.conf" <<EOF
$marker: a throw-away test cluster; "ceph_cluster.sh stop $dir" ends it.
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:$port]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv4 = true
ms_bind_ipv6 = false
ms_bind_msgr1 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
run_dir = $dir/run
crash_dir = $dir/crash
mon_cluster_log_file = $dir/log/cluster.\$channel.log
# One copy is all a test needs; say so once instead of warning about it.
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
mon_warn_on_insecure_global_id_reclaim = false
mon_warn_on_insecure_global_id_reclaim_allowed = false
osd_crush_chooseleaf_type = 0
# A sparse file of a few GiB is nowhere near full, but the test machine's disk may be.
mon_data_avail_warn = 1
mon_data_avail_crit = 0
# Commit map changes at once instead of batching them for 1 s: OSD boot, pool creation and
# every step of start wait on such commits.
paxos_propose_interval = 0.01
paxos_min_wait = 0.01

log_file = $dir/log/\$name.log
admin_socket = $dir/run/\$name.asok
pid_file = $dir/run/\$name.pid

[client]
keyring = $dir/client.admin.keyring
# Clients (rbd, ceph, nvmfd's librbd) share one log; each has its own admin socket.
log_file = $dir/log/client.log
admin_socket = $dir/run/\$name.\$pid.asok

[mon]
mon_data = $dir/mon.\$id
keyring = $dir/mon.\$id/keyring

[osd]
osd_data = $dir/osd.\$id
keyring = $dir/osd.\$id/keyring
osd_objectstore = bluestore
# The block file is \$osd_data/block (bluestore_block_path left empty: set, it becomes a symlink).
bluestore_block_create = true
bluestore_block_size = $osd_size
bluestore_block_db_create = false
bluestore_block_wal_create = false
bluestore_fsck_on_mkfs = false
bluestore_fsck_on_mount = false
# A small fixed cache instead of autotuning toward osd_memory_target (4 GiB, at least 896 MiB).
bluestore_cache_autotune = false
bluestore_cache_size = 64M
# Tiny files would get a CRUSH weight near 0; every OSD takes an equal share instead.
osd_crush_initial_weight = 1
osd_op_num_shards = 2
osd_op_num_threads_per_shard = 1
EOF
}

# print_logs: the tail of every daemon log, for a start that failed.
print_logs() {
  local f
  for f in "$dir"/log/*.log; do
    [ -f "$f" ] || continue
    echo "---- $f (last 30 lines)" >&2
    tail -n 30 "$f" >&2
  done
}

start_fail() {
  echo "ceph_cluster: start failed: $*" >&2
  exit 1
}

# From the moment start made DIR's skeleton until the cluster is up, any exit (a failed step,
# or an unexpected one under set -e) prints the logs and undoes the start.
start_state=none  # none | making | up
on_exit() {
  local rc=$?
  if [ "$start_state" = making ]; then
    [ $rc -ne 0 ] || rc=1
    echo "ceph_cluster: start did not finish (exit $rc); stopping what it started" >&2
    print_logs
    stop_cluster || true
  fi
  exit $rc
}
trap on_exit EXIT
trap 'exit 143' TERM INT  # so that a killed start or run still stops its daemons

# wait_up N FAIL: until the OSD map shows N OSDs, all up and in (the OSDs boot
# asynchronously); FAIL (start_fail or die) after 60 s.
wait_up() {
  local want=$1 fail=$2 deadline=$(( $(date +%s) + 60 )) stat
  while :; do
    stat=$(adm osd stat -f json 2>/dev/null || true)
    if python3 -c 'import json,sys; s=json.loads(sys.argv[1]); n=int(sys.argv[2]); sys.exit(0 if s["num_osds"]==n and s["num_up_osds"]==n and s["num_in_osds"]==n else 1)' "$stat" "$want" 2>/dev/null; then
      return 0
    fi
    [ "$(date +%s)" -lt "$deadline" ] || "$fail" "OSDs not up after 60 s: $stat"
    sleep 0.2
  done
}

start_cluster() {
  local osds=1 pool=rbd
  osd_size=2G
  while [ $# -gt 0 ]; do
    case "$1" in
      --osds) osds=$2; shift 2 ;;
      --pool) pool=$2; shift 2 ;;
      --osd-size) osd_size=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  case "$osds" in 1|2|3) ;; *) die "--osds must be 1, 2 or 3" ;; esac
  need_tools
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then die "$dir exists and is not empty"; fi
  # Admin sockets are AF_UNIX paths (at most 107 bytes).
  [ ${#dir} -le 80 ] || die "DIR is too long for its admin sockets (${#dir} > 80 characters): $dir"
  local t0; t0=$(now_ms)
  phase_t=$t0
  start_state=making
  mkdir -p "$dir"/{run,log,crash}
  echo "$marker" > "$dir/.ceph_cluster"
  local fsid port; fsid=$(uuidgen); port=$(free_port)
  write_conf "$fsid" "$port"
  echo "$pool" > "$dir/pool"

  # Keys: the monitor's own, and client.admin (all caps) which the monitor learns at mkfs.
  ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool --create-keyring "$dir/client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
  ceph-authtool "$dir/mon.keyring" --import-keyring "$dir/client.admin.keyring" >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$port]" "$dir/monmap" >/dev/null
  ceph-mon --conf "$dir/ceph.conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring" \
    > "$dir/log/mon-mkfs.log" 2>&1 || start_fail "ceph-mon --mkfs"
  rm -f "$dir/monmap" "$dir/mon.keyring"
  # The daemons fork; the parent returns once the child is running and wrote its pid file.
  ceph-mon --conf "$dir/ceph.conf" -i a > "$dir/log/mon-start.log" 2>&1 || start_fail "ceph-mon"
  adm mon stat >/dev/null 2>&1 || start_fail "monitor does not answer on 127.0.0.1:$port"
  phase mon

  # OSDs: registered with a fresh secret, then made (in parallel: bluestore's mkfs is the slow
  # part), then started (in parallel too).
  local i id uuid secret ids=() mkfs_pids=()
  for ((i = 0; i < osds; i++)); do
    uuid=$(uuidgen); secret=$(ceph-authtool --gen-print-key)
    id=$(echo "{\"cephx_secret\": \"$secret\"}" | adm osd new "$uuid" -i -) || start_fail "osd new"
    ids+=("$id")
    mkdir -p "$dir/osd.$id"
    ceph-authtool --create-keyring "$dir/osd.$id/keyring" -n "osd.$id" --add-key "$secret" >/dev/null
    ceph-osd --conf "$dir/ceph.conf" -i "$id" --mkfs --osd-uuid "$uuid" \
      > "$dir/log/osd.$id-mkfs.log" 2>&1 &
    mkfs_pids+=($!)
  done
  for i in "${!mkfs_pids[@]}"; do
    wait "${mkfs_pids[$i]}" || start_fail "ceph-osd --mkfs of osd.${ids[$i]}"
  done
  phase "osd mkfs"
  local start_pids=()
  for id in "${ids[@]}"; do
    ceph-osd --conf "$dir/ceph.conf" -i "$id" > "$dir/log/osd.$id-start.log" 2>&1 &
    start_pids+=($!)
  done
  for i in "${!start_pids[@]}"; do
    wait "${start_pids[$i]}" || start_fail "ceph-osd -i ${ids[$i]}"
  done
  wait_up "$osds" start_fail
  phase "osd boot"

  adm osd pool create "$pool" 8 8 replicated >/dev/null 2>&1 || start_fail "osd pool create $pool"
  phase "pool create"
  # Returns once the pool takes writes (its PGs peered): the cluster is ready.
  timeout 60 rbd --conf "$dir/ceph.conf" pool init "$pool" || start_fail "rbd pool init $pool"
  phase "rbd pool init"
  start_state=up
  local t1; t1=$(now_ms)
  echo "ceph_cluster: up in $(( (t1 - t0) / 1000 )).$(printf '%03d' $(( (t1 - t0) % 1000 ))) s" \
       "($phases): mon 127.0.0.1:$port, $osds OSD(s), pool $pool, $dir" >&2
}

# stop_pids PID...: SIGTERM to all, then wait (SIGKILL after 20 s) until all are gone. They
# are not our children, so kill -0 is the only way to see them go.
stop_pids() {
  local pid i left
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for ((i = 0; i < 300; i++)); do
    left=()
    for pid in "$@"; do if kill -0 "$pid" 2>/dev/null; then left+=("$pid"); fi; done
    [ ${#left[@]} -gt 0 ] || return 0
    if [ "$i" -eq 200 ]; then
      echo "ceph_cluster: ${left[*]} ignored SIGTERM for 20 s; SIGKILL" >&2
      kill -KILL "${left[@]}" 2>/dev/null || true
    fi
    sleep 0.1
  done
  die "${left[*]} did not exit after SIGKILL"
}

# daemon_pids GLOB: the PIDs in DIR/run/GLOB.pid of processes started with this DIR's config
# (so a stale pid file never hits a stranger).
daemon_pids() {
  local f pid
  for f in "$dir"/run/$1.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    if tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" | grep -qF -- "$dir/ceph.conf"; then echo "$pid"; fi
  done
}

stop_cluster() {
  [ -e "$dir" ] || return 0
  grep -qxF "$marker" "$dir/.ceph_cluster" 2>/dev/null || die "$dir was not made by ceph_cluster.sh; not touching it"
  # OSDs first, while the monitor can still take their "marking myself down" (with the monitor
  # gone, each OSD waits osd_mon_shutdown_timeout, 5 s, for it).
  local pids
  pids=$(daemon_pids 'osd.*')
  [ -z "$pids" ] || stop_pids $pids
  pids=$(daemon_pids '*')
  [ -z "$pids" ] || stop_pids $pids
  rm -rf "$dir"
}

print_env() {
  [ -f "$dir/ceph.conf" ] || die "no cluster in $dir"
  echo "CEPH_CONF=$dir/ceph.conf"
  echo "CEPH_KEYRING=$dir/client.admin.keyring"
  echo "CEPH_USER=admin"
  echo "CEPH_POOL=$(cat "$dir/pool")"
  echo "CEPH_MON_HOST=$(sed -n 's/^mon_host = \[\(.*\)\]$/\1/p' "$dir/ceph.conf")"
  echo "CEPH_KEY=$(ceph-authtool -p -n client.admin "$dir/client.admin.keyring")"
  echo "CEPH_DIR=$dir"
}

check_osd_id() {
  [[ "$1" =~ ^[0-9]+$ ]] || die "OSD id must be a number: $1"
  [ -d "$dir/osd.$1" ] || die "no osd.$1 in $dir"
}

stop_osd() {
  check_osd_id "$1"
  local pids
  pids=$(daemon_pids "osd.$1")
  [ -n "$pids" ] || die "osd.$1 of $dir is not running"
  stop_pids $pids
}

# start-osd waits until every OSD is up again (the tests stop one at a time).
start_osd() {
  check_osd_id "$1"
  local id=$1
  [ -z "$(daemon_pids "osd.$id")" ] || die "osd.$id of $dir is already running"
  # Not the client's variables of `run` (a daemon given CEPH_KEYRING fails to authenticate).
  env -u CEPH_ARGS -u CEPH_KEYRING -u CEPH_USER -u CEPH_KEY ceph-osd --conf "$dir/ceph.conf" -i "$id" >> "$dir/log/osd.$id-start.log" 2>&1 \
    || { tail -n 30 "$dir/log/osd.$id-start.log" >&2; die "ceph-osd -i $id did not start"; }
  wait_up "$(ls -d "$dir"/osd.* | wc -l)" die
}

run_with_cluster() {
  local opts=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
  [ $# -ge 2 ] || usage
  shift
  need_tools
  dir=$(mktemp -d "${TMPDIR:-/tmp}/ceph.XXXXXX")
  start_cluster "${opts[@]}"
  start_state=making  # from here on, any exit stops the cluster again
  local rc=0
  ( set -a; eval "$(print_env)"; CEPH_CLUSTER_SH=$(realpath "$0"); set +a; exec "$@" ) || rc=$?
  start_state=none
  stop_cluster
  return $rc
}

[ $# -ge 1 ] || usage
cmd=$1
shift
if [ "$cmd" = run ]; then run_with_cluster "$@"; exit $?; fi
[ $# -ge 1 ] || usage
dir=$(realpath -m -- "$1")
shift
case "$cmd" in
  start) start_cluster "$@" ;;
  stop) [ $# -eq 0 ] || usage; stop_cluster ;;
  env) [ $# -eq 0 ] || usage; print_env ;;
  stop-osd) [ $# -eq 1 ] || usage; stop_osd "$1" ;;
  start-osd) [ $# -eq 1 ] || usage; start_osd "$1" ;;
  *) usage ;;
esac

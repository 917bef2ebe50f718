#!/usr/bin/env bash
# Interop: the Linux kernel's native NVMe multipath (kernel 6.1, nvme-cli 2.3, in a QEMU guest)
# through a gateway group of two nvmfd on one Ceph RBD image (docs/gateway.md), with the
# optimized gateway killed by SIGKILL during verified I/O (issue 17, item 4).
#
# Everything on the host side runs inside the guest harness's network namespace (netns mode,
# two networks): the test Ceph (tests/ceph/ceph_cluster.sh, on the namespace's 127.0.0.1),
# gateway a listening on 10.77.1.1:4420 (path 1) and gateway b on 10.77.2.1:4420 (path 2),
# same NQN, serial, namespace UUID/NGUID and image, one gateway group, ANA group 1 with home a,
# 4 s leases. The guest (guest_kernel_gateway_failover.sh) connects over both paths, checks
# the per-path ANA states, runs a verified write/read-back loop with flushes, has the owner
# killed (`lp-host hook kill-owner`), checks that I/O carries on through the other gateway
# (optimized after the lease) with no I/O error, measures the stall, has the killed gateway
# restarted (`lp-host hook restart`), checks that its path comes back non-optimized, and
# finally reads every block back (those written before a completed flush must match).
#
#   kernel_gateway_failover.sh BIN_DIR GUEST_DIR        (ctest: interop_kernel_gateway_failover)
#   kernel_gateway_failover.sh --host BIN_DIR WORK      (run-guest --host-cmd, in the netns)
#   kernel_gateway_failover.sh --hook BIN_DIR WORK ACTION ARGS...   (the guest's lp-host hook)
# Hook actions (exit status 0 = done/true):
#   ready                     waits until the cluster and both gateways are up (a optimized)
#   owner-is PATH             gateway of path PATH (1 = a, 2 = b) shows group 1 optimized
#   wait-state PATH STATE S   that gateway shows group 1 STATE within S seconds (prints when)
#   kill-owner                SIGKILL to the gateway that shows group 1 optimized
#   report                    prints both gateways' view of the group (nvmf_gateway_group_get)
#   restart                   starts the killed gateway again; returns once it serves
#   stop                      stops both gateways and the cluster
# Exits 77 (ctest: skipped) unless root, or when Ceph's packages are not installed.
# NVMFD_INTEROP_GUEST_ARGS adds run-guest options; GW_RBD_CONFIG the gateways' cluster
# config_param (tests/ceph/gateway_lib.sh).
set -euo pipefail
self=$(readlink -f "$0")
here=$(dirname "$self")
NQN=nqn.2016-06.io.nvmfd:gateway-failover
PORT=4420
LEASE_MS=4000

fail() { echo "CHECK FAILED (host): $*" >&2; exit 1; }
. "$here/../lib/nvmfd_proc.sh"
. "$here/../ceph/gateway_lib.sh"

now() { date +%s.%N; }
gw_of() { case "$1" in 1) echo a ;; 2) echo b ;; *) fail "no path $1" ;; esac; }
addr_of() { case "$1" in a) echo 10.77.1.1 ;; b) echo 10.77.2.1 ;; esac; }

wait_state() {  # BIN WORK GATEWAY STATE SECONDS
  local deadline
  deadline=$(python3 -c "print($(now) + $5)")
  until [ "$(gw_ana_of "$1" "$2" "$3")" = "$4" ]; do
    python3 -c "import sys; sys.exit(0 if $(now) < $deadline else 1)" ||
      { echo "gateway $3 is not $4 after $5 s (is '$(gw_ana_of "$1" "$2" "$3")')" >&2; return 1; }
    sleep 0.1
  done
}

# Host side set-up (in the netns): cluster, image, both gateways; WORK/ready when done,
# WORK/setup.failed when not. Then it idles until run-guest stops it.
host_setup() {
  local bin=$1 work=$2 t0
  t0=$(now)
  if ! bash "$here/../ceph/ceph_cluster.sh" start "$work/ceph" > "$work/ceph.out" 2>&1; then
    echo "$?" > "$work/setup.failed"
    return 1
  fi
  bash "$here/../ceph/ceph_cluster.sh" env "$work/ceph" | sed 's/^/export /' > "$work/ceph.env"
  # shellcheck disable=SC1091
  . "$work/ceph.env"
  rbd create --size 256M "$CEPH_POOL/gwfail" || { echo 1 > "$work/setup.failed"; return 1; }
  for gw in a b; do gw_config "$gw" "$NQN" gwfail "$(addr_of "$gw")" "$PORT" b001 "$LEASE_MS" > "$work/$gw.json"; done
  gw_start "$bin" "$work" a && wait_state "$bin" "$work" a optimized 20 &&
    gw_start "$bin" "$work" b && wait_state "$bin" "$work" b non_optimized 20 ||
    { echo 1 > "$work/setup.failed"; return 1; }
  echo "host side ready in $(python3 -c "print(round($(now) - $t0, 1))") s: cluster up, a optimized, b non-optimized" >&2
  touch "$work/ready"
}

hook() {
  local bin=$1 work=$2 action=$3 gw p t0
  shift 3
  case "$action" in
    ready)
      for _ in $(seq 2400); do
        [ -e "$work/ready" ] && return 0
        if [ -e "$work/setup.failed" ]; then
          echo "host set-up failed" >&2
          tail -n 40 "$work/ceph.out" "$work"/*.log >&2 2>/dev/null || true
          return "$(cat "$work/setup.failed")"
        fi
        sleep 0.1
      done
      echo "host set-up not done after 240 s" >&2
      return 1 ;;
    owner-is)
      [ "$(gw_ana_of "$bin" "$work" "$(gw_of "$1")")" = optimized ] ;;
    wait-state)
      gw=$(gw_of "$1")
      t0=$(now)
      wait_state "$bin" "$work" "$gw" "$2" "$3" || return 1
      echo "gateway $gw shows $2 (waited $(python3 -c "print(round($(now) - $t0, 2))") s)" >&2
      if [ -e "$work/killed.at" ] && [ "$2" = optimized ]; then
        echo "gateway $gw optimized $(python3 -c "print(round($(now) - $(cat "$work/killed.at"), 2))") s after the kill (lease $LEASE_MS ms)" >&2
      fi ;;
    kill-owner)
      for gw in a b; do
        [ "$(gw_ana_of "$bin" "$work" "$gw")" = optimized ] || continue
        p=$(cat "$work/$gw.pid")
        gw_pid_is_nvmfd "$p" || fail "pid $p of gateway $gw is not nvmfd"
        now > "$work/killed.at"
        kill -KILL "$p"
        echo "$gw" > "$work/killed"
        echo "SIGKILL to gateway $gw (pid $p), the owner of ANA group 1" >&2
        return 0
      done
      fail "no gateway shows ANA group 1 optimized" ;;
    report)  # each gateway's view of the group, on the host log
      for gw in a b; do
        echo "gateway $gw: $(gw_rpc "$bin" "$work" "$gw" call nvmf_gateway_group_get '{"name": "gw"}' 2>&1 | tr -d ' \n')" >&2
      done ;;
    restart)
      gw=$(cat "$work/killed")
      gw_start "$bin" "$work" "$gw" || return 1
      echo "gateway $gw restarted: $(gw_ana_of "$bin" "$work" "$gw")" >&2 ;;
    stop)
      stop_pidfile "$work/a.pid"
      stop_pidfile "$work/b.pid"
      bash "$here/../ceph/ceph_cluster.sh" stop "$work/ceph" >&2 ;;
    *) fail "unknown hook action $action" ;;
  esac
}

case "${1:-}" in
  --hook) shift; hook "$@"; exit $? ;;
  --host) shift; host_setup "$@" || true; exec sleep 100000 ;;
esac

bin=$1
peer=$2
for b in nvmfd nvmfctl; do [ -x "$bin/$b" ] || fail "$bin/$b is not built"; done
require_root interop_kernel_gateway_failover
for t in ceph-mon ceph-osd rbd; do
  command -v "$t" > /dev/null || { echo "interop_kernel_gateway_failover: SKIPPED ($t not installed)"; exit 77; }
done
[ -x "$peer/run-guest" ] || { echo "interop_kernel_gateway_failover: SKIPPED (no guest harness in $peer)"; exit 77; }
work=$(mktemp -d /tmp/nvmfd-kgw.XXXXXX)
cleanup() {
  # run-guest stops what runs in its namespace; this catches what outlived it.
  stop_pidfile "$work/a.pid" 0
  stop_pidfile "$work/b.pid" 0
  bash "$here/../ceph/ceph_cluster.sh" stop "$work/ceph" > /dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s)
rc=0
read -r -a extra <<< "${NVMFD_INTEROP_GUEST_ARGS:-}"
timeout 800 "$peer/run-guest" --mode netns --paths 2 --timeout 700 "${extra[@]}" \
  --host-cmd "exec bash $self --host $bin $work" \
  --hook "bash $self --hook $bin $work" --add "$here/guest_paths.sh" \
  "$here/guest_kernel_gateway_failover.sh" "$NQN" "$PORT" || rc=$?
echo "kernel_gateway_failover: guest run took $(( $(date +%s) - start )) s"
for g in a b; do
  echo "--- gateway $g log (last 40 lines) ---"
  tail -n 40 "$work/$g.log" 2>/dev/null || true
done
[ "$rc" -eq 0 ] || { tail -n 30 "$work/ceph.out" 2>/dev/null || true; fail "guest script rc=$rc"; }
echo "interop_kernel_gateway_failover: PASS"

#!/usr/bin/env bash
# nvmfd's own host multipath through a gateway group (issue 17, item 4; the kernel host's
# version is tests/interop/kernel_gateway_failover.sh). Run under ceph_cluster.sh run, which
# exports CEPH_CONF, CEPH_KEYRING, CEPH_POOL. Two nvmfd gateways on 127.0.0.1 (two ports), one
# RBD image, ANA group 1 with home a, 4 s leases; nvmf-gateway-host-io attaches to both with
# multipath and runs verified I/O with flushes while the optimized gateway is SIGKILLed and
# later restarted (see its header for the checks; it prints the failover times).
# The image's bdev runs without librbd's cache, as a gateway group requires: with it, writes
# the killed gateway acknowledged but had not flushed were lost even after a flush through the
# other gateway completed (found by this test; nvmfd now refuses such a bdev in a group).
#   gateway_host_failover.sh BIN_DIR
#   gateway_host_failover.sh --owner-pid|--restart BIN_DIR WORK    (run by nvmf-gateway-host-io)
set -euo pipefail
self=$(readlink -f "$0")
nqn=nqn.2016-06.io.nvmfd:gw-host
lease_ms=${GW_LEASE_MS:-4000}  # the gateways' lease (bench/gateway_failover.sh varies it)

here=$(dirname "$self")
. "$here/gateway_lib.sh"

case "${1:-}" in
  --owner-pid)  # the PID of the gateway that shows ANA group 1 optimized (to be killed)
    for gw in a b; do
      [ "$(gw_ana_of "$2" "$3" "$gw")" = optimized ] || continue
      p=$(cat "$3/$gw.pid")
      gw_pid_is_nvmfd "$p" || { echo "pid $p of $gw is not nvmfd" >&2; exit 1; }
      echo "$gw" > "$3/killed"
      echo "gateway $gw (pid $p) is the owner of ANA group 1" >&2
      echo "$p"
      exit 0
    done
    echo "no gateway shows ANA group 1 optimized" >&2
    exit 1 ;;
  --restart)
    gw=$(cat "$3/killed")
    gw_start "$2" "$3" "$gw" < /dev/null > /dev/null
    echo "gateway $gw restarted: $(gw_ana_of "$2" "$3" "$gw")"
    exit 0 ;;
esac

bin=$1
: "${CEPH_CONF:?run under ceph_cluster.sh run}"
work=$(mktemp -d /tmp/nvmfd-gwhost.XXXXXX)
cleanup() {
  for g in a b; do
    p=$(cat "$work/$g.pid" 2>/dev/null || true)
    if [ -n "$p" ] && grep -q nvmfd "/proc/$p/cmdline" 2>/dev/null; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

image=gwhost-$$
rbd create --size 1G "$CEPH_POOL/$image"
declare -A port=([a]=$(free_port) [b]=$(free_port))
for gw in a b; do gw_config "$gw" "$nqn" "$image" 127.0.0.1 "${port[$gw]}" c001 "$lease_ms" > "$work/$gw.json"; done
gw_start "$bin" "$work" a
for _ in $(seq 100); do [ "$(gw_ana_of "$bin" "$work" a)" = optimized ] && break; sleep 0.1; done
gw_start "$bin" "$work" b
rc=0
"$bin/nvmf-gateway-host-io" --nqn "$nqn" --path "127.0.0.1:${port[a]}" --path "127.0.0.1:${port[b]}" \
  --owner-pid-cmd "bash $self --owner-pid $bin $work" --restart-cmd "bash $self --restart $bin $work" || rc=$?
for g in a b; do
  echo "--- gateway $g log (last 15 lines) ---"
  tail -n 15 "$work/$g.log"
done
[ "$rc" -eq 0 ] || { echo "FAIL: nvmf-gateway-host-io exit status $rc"; exit 1; }
echo "PASS"

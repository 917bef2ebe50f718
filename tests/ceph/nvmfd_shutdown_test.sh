#!/usr/bin/env bash
# nvmfd stopped while its Ceph cluster is gone (issue 17 item 1): run under
#   tests/ceph/ceph_cluster.sh run -- nvmfd_shutdown_test.sh BIN_DIR
# A daemon with three RBD bdevs on one connection with 3 s client timeouts; the cluster's only
# OSD stopped; SIGTERM. The images close in parallel in the background (rbd_image_closer), so
# the daemon exits in about one image's close (~3 op timeouts), not one per image; it logs the
# wait. Also prints the daemon's threads by name with the RBD bdevs open (docs/ceph.md).
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/nvmfd_proc.sh"
nvmfd_workdir nvmfd-rbd-stop
fail() {
  echo "FAIL: $*"
  tail -n 40 "$work/nvmfd.log" 2>/dev/null || true
  exit 1
}

for i in 0 1 2; do rbd create --size 64M "$CEPH_POOL/stop$i"; done
cat > "$work/config.json" <<JSON
{"subsystems": [{"subsystem": "bdev", "config": [
  {"method": "bdev_rbd_register_cluster", "params": {"name": "c", "config_file": "$CEPH_CONF",
   "config_param": {"rados_osd_op_timeout": "3", "rados_mon_op_timeout": "3"}}},
  {"method": "bdev_rbd_create", "params": {"name": "Ceph0", "pool_name": "$CEPH_POOL", "rbd_name": "stop0", "block_size": 512, "cluster_name": "c"}},
  {"method": "bdev_rbd_create", "params": {"name": "Ceph1", "pool_name": "$CEPH_POOL", "rbd_name": "stop1", "block_size": 512, "cluster_name": "c"}},
  {"method": "bdev_rbd_create", "params": {"name": "Ceph2", "pool_name": "$CEPH_POOL", "rbd_name": "stop2", "block_size": 512, "cluster_name": "c"}}
]}]}
JSON
"$bin/nvmfd" -c "$work/config.json" -r "$work/rpc.sock" -m 0x1 > "$work/nvmfd.log" 2>&1 &
pid=$!
echo "$pid" > "$work/nvmfd.pid"
wait_rpc "$bin" "$work/rpc.sock" || fail "nvmfd does not answer"
n=$("$bin/nvmfctl" -s "$work/rpc.sock" bdev_get_bdevs | grep -c '"Ceph Rbd Disk"' || true)
[ "$n" = 3 ] || fail "expected 3 RBD bdevs, got $n"
echo "nvmfd threads with 3 RBD bdevs on one connection: $(cat /proc/$pid/task/*/comm | sort | uniq -c |
  awk '{printf "%s%s%s", sep, $2, ($1 > 1 ? " x" $1 : ""); sep=", "} END {print ""}') ($(ls /proc/$pid/task | wc -l) in all)"

bash "$CEPH_CLUSTER_SH" stop-osd "$CEPH_DIR" 0
t0=$(date +%s%3N)
kill -TERM "$pid"
deadline=$((t0 + 60000))
while pid_running "$pid"; do
  [ "$(date +%s%3N)" -lt "$deadline" ] || fail "nvmfd still running 60 s after SIGTERM"
  sleep 0.1
done
t1=$(date +%s%3N)
ms=$((t1 - t0))
echo "nvmfd exited $((ms / 1000)).$(printf '%03d' $((ms % 1000))) s after SIGTERM with the cluster gone (3 images, 3 s op timeout)"
grep -E 'closing RBD image|RBD image\(s\)|closed RBD image' "$work/nvmfd.log" || true
grep -q 'cluster unreachable, waiting up to' "$work/nvmfd.log" || fail "no 'cluster unreachable' line"
# About one image's close (3 op timeouts, ~10 s) plus the 1 s grace; three in a row would be ~30 s.
[ "$ms" -lt 20000 ] || fail "shutdown took $ms ms: the images did not close in parallel"
bash "$CEPH_CLUSTER_SH" start-osd "$CEPH_DIR" 0
echo PASS

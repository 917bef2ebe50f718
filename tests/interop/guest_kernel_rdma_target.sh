#!/bin/sh
# Guest side of kernel_rdma_target.sh (busybox sh, run-guest --rdma --bin nvmfd --bin nvmfctl
# --bin nvmf-perf). Soft-RoCE rxe0 on eth0; the kernel's nvmet serves a 64 MiB file over
# NVMe/RDMA on eth0's address; nvmfd's host side attaches it over RDMA. Then nvmfd's host
# against nvmfd's target: nvmf-perf over RDMA, and one multipath bdev with an RDMA path and
# a TCP path to the same subsystem (re-exported over TCP for the kernel's verified I/O).
set -e
. /lp/lp-guest.sh
NQN=nqn.2016-06.io.nvmfd:kernel-rdma-target
EXPORT=nqn.2016-06.io.nvmfd:rdma-reexport
fail() { echo "CHECK FAILED: $*"; [ -f /tmp/nvmfd.log ] && tail -n 60 /tmp/nvmfd.log; exit 1; }
check() { echo "ok: $*"; }
T0=$(cut -d' ' -f1 /proc/uptime)
elapsed() { awk -v a="$T0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }'; }

ADDR=$(ip -4 -o addr show eth0 | awk '{ split($4, a, "/"); print a[1]; exit }')
[ -n "$ADDR" ] || fail "eth0 has no IPv4 address"
lp_rxe_up eth0 rxe0 > /dev/null || fail "rxe0 did not come up on eth0"
check "rxe0 on eth0 ($ADDR)"

backing=$(lp_backing_file krt 64)
nvmet_subsys "$NQN" "nvmfd rdma target" "NVMFDKRT0001" || fail "nvmet subsystem"
nvmet_ns "$NQN" 1 "$backing" || fail "nvmet namespace"
nvmet_port_rdma 1 "$ADDR" 4420 || fail "nvmet RDMA port"
nvmet_link 1 "$NQN"
check "nvmet-rdma serves $NQN on $ADDR:4420 ($(elapsed) s)"

echo "== refused: nothing listens on port 4999"
if nvmfctl identify -r "trtype:rdma traddr:$ADDR trsvcid:4999 subnqn:$NQN" > /tmp/out 2> /tmp/err; then
  fail "identify on a port without a listener succeeded"
fi
cat /tmp/err
grep -q "no listener on that port\|UNREACHABLE\|CONNECT_ERROR" /tmp/err || fail "the error does not say the connect was refused"
check "a connect to a port without a listener fails with the CM's reason ($(elapsed) s)"

echo "== nvmfctl discover / identify over RDMA"
nvmfctl discover -t rdma -a "$ADDR" -s 4420 > /tmp/disc || fail "nvmfctl discover -t rdma"
cat /tmp/disc
grep -q "subnqn:  $NQN" /tmp/disc || fail "discovery log lacks $NQN"
nvmfctl identify -r "trtype:rdma traddr:$ADDR trsvcid:4420 subnqn:$NQN" > /tmp/idc || fail "nvmfctl identify over RDMA"
grep -q "NVMFDKRT0001" /tmp/idc || fail "identify lacks the serial number"
check "discover and identify over RDMA ($(elapsed) s)"

echo "== nvmf-perf over RDMA"
nvmf-perf -r "trtype:rdma traddr:$ADDR trsvcid:4420 subnqn:$NQN" -q 16 -o 65536 -w randrw -t 2 > /tmp/perf 2>&1 ||
  { cat /tmp/perf; fail "nvmf-perf over RDMA"; }
tail -n 6 /tmp/perf
check "nvmf-perf randrw 64 KiB over RDMA ($(elapsed) s)"

echo "== nvmfd attaches the controller over RDMA and serves it over TCP on 127.0.0.1"
cat > /tmp/nvmfd.json <<EOF2
{"subsystems": [
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}}]}]}
EOF2
nvmfd -c /tmp/nvmfd.json -r /tmp/rpc.sock -m 0x3 > /tmp/nvmfd.log 2>&1 &
NVMFD=$!
ctl() { nvmfctl -s /tmp/rpc.sock call "$@"; }
lp_wait_for "ctl nvmf_get_subsystems > /dev/null 2>&1" 30 || fail "nvmfd did not start"
ctl bdev_nvme_attach_controller "{\"name\": \"K\", \"trtype\": \"rdma\", \"adrfam\": \"ipv4\", \"traddr\": \"$ADDR\", \"trsvcid\": \"4420\", \"subnqn\": \"$NQN\"}" > /tmp/attach ||
  { cat /tmp/attach; fail "bdev_nvme_attach_controller -t rdma"; }
cat /tmp/attach
grep -q Kn1 /tmp/attach || fail "no bdev Kn1"
ctl bdev_nvme_get_controllers '{"name": "K"}' > /tmp/ctrls || fail "bdev_nvme_get_controllers"
grep -q '"trtype": "RDMA"' /tmp/ctrls || { cat /tmp/ctrls; fail "controller K is not reported as RDMA"; }
check "attached over RDMA: bdev Kn1 ($(elapsed) s)"
ctl nvmf_create_subsystem "{\"nqn\": \"$EXPORT\", \"allow_any_host\": true}" > /dev/null || fail "export subsystem"
ctl nvmf_subsystem_add_ns "{\"nqn\": \"$EXPORT\", \"namespace\": {\"bdev_name\": \"Kn1\"}}" > /dev/null || fail "export namespace"
ctl nvmf_subsystem_add_listener "{\"nqn\": \"$EXPORT\", \"listen_address\": {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"4430\"}}" > /dev/null ||
  fail "export listener"
nvme connect -t tcp -a 127.0.0.1 -s 4430 -n "$EXPORT" || fail "kernel nvme connect to the re-export"
find_dev() {
  for s in /sys/class/nvme-subsystem/nvme-subsys*; do
    [ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$EXPORT" ] || continue
    for b in "$s"/nvme*n[0-9]*; do
      [ -e "$b" ] && [ -b "/dev/$(basename "$b")" ] && DEV=/dev/$(basename "$b") && return 0
    done
  done
  return 1
}
DEV=
lp_wait_for find_dev 20 || fail "no block device for $EXPORT"
find_dev
check "kernel nvme-tcp host sees the RDMA-backed bdev as $DEV ($(elapsed) s)"

verify() {  # $1 bs, $2 count, $3 seek (in bs units)
  dd if=/dev/urandom of=/tmp/pat bs="$1" count="$2" 2>/dev/null
  dd if=/tmp/pat of="$DEV" bs="$1" seek="$3" count="$2" oflag=direct 2>/dev/null || fail "write bs=$1 seek=$3"
  dd if="$DEV" of=/tmp/rb bs="$1" skip="$3" count="$2" iflag=direct 2>/dev/null || fail "read bs=$1 skip=$3"
  [ "$(md5sum < /tmp/pat)" = "$(md5sum < /tmp/rb)" ] || fail "data read back differs (bs=$1 count=$2 seek=$3)"
  # And it is what nvmet's backing file holds (buffered: nvmet writes through the page cache).
  [ "$(dd if="$backing" bs="$1" skip="$3" count="$2" 2>/dev/null | md5sum)" = "$(md5sum < /tmp/pat)" ] ||
    fail "nvmet's backing file differs (bs=$1 count=$2 seek=$3)"
  check "verified $2 x $1 at block $3 (read back and in nvmet's file)"
}
verify 4096 64 0
verify 512 9 7
verify 131072 8 1
verify 1048576 4 2
verify 3584 5 11
nvme flush "$DEV" -n 1 || fail "flush"
check "flush"

echo "== detach"
nvme disconnect -n "$EXPORT" | grep -q "disconnected 1 controller" || fail "kernel disconnect"
lp_wait_for "[ ! -b $DEV ]" 20 || fail "$DEV did not go away"
ctl nvmf_delete_subsystem "{\"nqn\": \"$EXPORT\"}" > /dev/null || fail "delete the export"
ctl bdev_nvme_detach_controller '{"name": "K"}' > /dev/null || fail "bdev_nvme_detach_controller"
ctl bdev_get_bdevs | grep -q Kn1 && fail "Kn1 still there after detach"
kill -0 "$NVMFD" 2>/dev/null || fail "nvmfd died"
grep -iE "warn|error" /tmp/nvmfd.log | head -20 || true
kill "$NVMFD"
wait "$NVMFD" 2>/dev/null || true
check "detached, nvmfd stopped ($(elapsed) s)"
echo "== nvmfd's host against nvmfd's RDMA target (port 4421)"
SELF=nqn.2016-06.io.nvmfd:rdma-self
cat > /tmp/self.json <<EOF2
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 32768, "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "RDMA"}},
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$SELF", "allow_any_host": true, "ana_reporting": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$SELF", "namespace": {"bdev_name": "Malloc0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$SELF",
      "listen_address": {"trtype": "RDMA", "adrfam": "IPv4", "traddr": "$ADDR", "trsvcid": "4421"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$SELF",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "$ADDR", "trsvcid": "4431"}}}]}]}
EOF2
nvmfd -c /tmp/self.json -r /tmp/self.sock -m 0x1 > /tmp/nvmfd.log 2>&1 &
SELFPID=$!
lp_wait_for "nvmfctl -s /tmp/self.sock nvmf_get_subsystems > /dev/null 2>&1" 30 || fail "nvmfd (RDMA target) did not start"
nvmf-perf -r "trtype:rdma traddr:$ADDR trsvcid:4421 subnqn:$SELF" -q 16 -o 131072 -w randrw -t 2 > /tmp/perf 2>&1 ||
  { cat /tmp/perf; fail "nvmf-perf against nvmfd over RDMA"; }
tail -n 3 /tmp/perf
check "nvmf-perf randrw 128 KiB against nvmfd's own RDMA target ($(elapsed) s)"

echo "== one multipath bdev over an RDMA path and a TCP path to nvmfd's subsystem"
printf '{"subsystems": [{"subsystem": "nvmf", "config": [{"method": "nvmf_create_transport", "params": {"trtype": "TCP"}}]}]}\n' > /tmp/mp.json
nvmfd -c /tmp/mp.json -r /tmp/mp.sock -m 0x2 > /tmp/mp.log 2>&1 &
MPPID=$!
mp() { nvmfctl -s /tmp/mp.sock call "$@"; }
lp_wait_for "mp nvmf_get_subsystems > /dev/null 2>&1" 30 || fail "host nvmfd did not start"
mp bdev_nvme_attach_controller "{\"name\": \"M\", \"trtype\": \"rdma\", \"adrfam\": \"ipv4\", \"traddr\": \"$ADDR\", \"trsvcid\": \"4421\", \"subnqn\": \"$SELF\", \"multipath\": \"multipath\"}" > /dev/null ||
  fail "attach path 1 (RDMA)"
mp bdev_nvme_attach_controller "{\"name\": \"M\", \"trtype\": \"tcp\", \"adrfam\": \"ipv4\", \"traddr\": \"$ADDR\", \"trsvcid\": \"4431\", \"subnqn\": \"$SELF\", \"multipath\": \"multipath\"}" > /dev/null ||
  { tail /tmp/mp.log; fail "attach path 2 (TCP)"; }
mp bdev_nvme_get_io_paths '{"name": "Mn1"}' > /tmp/paths || fail "bdev_nvme_get_io_paths"
grep -q '"trtype": "RDMA"' /tmp/paths && grep -q '"trtype": "TCP"' /tmp/paths ||
  { cat /tmp/paths; fail "Mn1 does not have both an RDMA and a TCP path"; }
check "Mn1 has an RDMA path and a TCP path"
MPX=nqn.2016-06.io.nvmfd:mp-export
mp nvmf_create_subsystem "{\"nqn\": \"$MPX\", \"allow_any_host\": true}" > /dev/null || fail "mp export subsystem"
mp nvmf_subsystem_add_ns "{\"nqn\": \"$MPX\", \"namespace\": {\"bdev_name\": \"Mn1\"}}" > /dev/null || fail "mp export ns"
mp nvmf_subsystem_add_listener "{\"nqn\": \"$MPX\", \"listen_address\": {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"4432\"}}" > /dev/null ||
  fail "mp export listener"
nvme connect -t tcp -a 127.0.0.1 -s 4432 -n "$MPX" > /dev/null || fail "kernel connect to the mixed-path export"
EXPORT=$MPX
DEV=
lp_wait_for find_dev 20 || fail "no block device for $MPX"
find_dev
verify_rb() {  # $1 bs, $2 count, $3 seek
  dd if=/dev/urandom of=/tmp/pat bs="$1" count="$2" 2>/dev/null
  dd if=/tmp/pat of="$DEV" bs="$1" seek="$3" count="$2" oflag=direct 2>/dev/null || fail "write bs=$1 seek=$3"
  dd if="$DEV" of=/tmp/rb bs="$1" skip="$3" count="$2" iflag=direct 2>/dev/null || fail "read bs=$1 skip=$3"
  [ "$(md5sum < /tmp/pat)" = "$(md5sum < /tmp/rb)" ] || fail "data read back differs (bs=$1 count=$2 seek=$3)"
}
verify_rb 4096 64 0
verify_rb 131072 8 3
mp bdev_nvme_set_multipath_policy '{"name": "Mn1", "policy": "active_active"}' > /dev/null || fail "active_active"
verify_rb 65536 32 40
mp bdev_nvme_get_path_iostat '{"name": "Mn1"}' > /tmp/pstat 2>&1 || true
check "verified I/O through the mixed RDMA + TCP multipath bdev ($(elapsed) s)"
nvme disconnect -n "$MPX" > /dev/null || fail "kernel disconnect of the mixed-path export"
lp_wait_for "[ ! -b $DEV ]" 20 || fail "$DEV did not go away"
kill "$MPPID"
wait "$MPPID" 2>/dev/null || true
kill "$SELFPID"
wait "$SELFPID" 2>/dev/null || true
check "nvmfd stopped"
echo "ALL GUEST CHECKS PASSED"

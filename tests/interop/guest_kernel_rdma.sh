#!/bin/sh
# Guest side of kernel_rdma.sh (busybox sh, run-guest --rdma --bin nvmfd --bin nvmfctl).
# Soft-RoCE rxe0 on eth0; nvmfd serves a RAM namespace over NVMe/RDMA on eth0's address;
# the kernel host (nvme-rdma) discovers, connects, does verified I/O at several sizes and
# unaligned offsets, flushes and disconnects.
set -e
. /lp/lp-guest.sh
NQN=nqn.2016-06.io.nvmfd:rdma
fail() { echo "CHECK FAILED: $*"; [ -f /tmp/nvmfd.log ] && tail -n 60 /tmp/nvmfd.log; exit 1; }
check() { echo "ok: $*"; }
T0=$(cut -d' ' -f1 /proc/uptime)
elapsed() { awk -v a="$T0" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }'; }

ADDR=$(ip -4 -o addr show eth0 | awk '{ split($4, a, "/"); print a[1]; exit }')
[ -n "$ADDR" ] || fail "eth0 has no IPv4 address"
lp_rxe_up eth0 rxe0 > /dev/null || fail "rxe0 did not come up on eth0"
check "rxe0 on eth0 ($ADDR)"

cat > /tmp/nvmfd.json <<EOF
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 65536, "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "RDMA", "num_shared_buffers": 255}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN", "allow_any_host": true, "serial_number": "NVMFDRDMA0001"}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$NQN", "namespace": {"bdev_name": "Malloc0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN",
      "listen_address": {"trtype": "RDMA", "adrfam": "IPv4", "traddr": "$ADDR", "trsvcid": "4420"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2014-08.org.nvmexpress.discovery",
      "listen_address": {"trtype": "RDMA", "adrfam": "IPv4", "traddr": "$ADDR", "trsvcid": "4420"}}}]}]}
EOF
nvmfd -c /tmp/nvmfd.json -r /tmp/rpc.sock -m 0x3 > /tmp/nvmfd.log 2>&1 &
NVMFD=$!
lp_wait_for "nvmfctl -s /tmp/rpc.sock nvmf_get_subsystems > /dev/null 2>&1" 30 || fail "nvmfd did not start"
check "nvmfd up ($(elapsed) s)"
nvmfctl -s /tmp/rpc.sock nvmf_get_transports | grep -q '"trtype": "RDMA"' || fail "nvmf_get_transports lacks RDMA"

echo "== discover"
nvme discover -t rdma -a "$ADDR" -s 4420 > /tmp/disc || fail "nvme discover -t rdma failed"
cat /tmp/disc
grep -q "trtype:  rdma" /tmp/disc || fail "discovery log entry is not trtype rdma"
grep -q "subnqn:  $NQN" /tmp/disc || fail "discovery log lacks $NQN"
grep -q "rdma_prtype: not specified" /tmp/disc || fail "discovery log lacks the RDMA transport fields"
grep -q "rdma_cms:    rdma-cm" /tmp/disc || fail "discovery log lacks rdma_cms rdma-cm"
check "discovery over RDMA ($(elapsed) s)"

echo "== connect"
nvme connect -t rdma -a "$ADDR" -s 4420 -n "$NQN" || fail "nvme connect -t rdma failed"
# The subsystem's block device (the multipath head) and its controller's transport.
find_dev() {
  for s in /sys/class/nvme-subsystem/nvme-subsys*; do
    [ "$(cat "$s/subsysnqn" 2>/dev/null)" = "$NQN" ] || continue
    for c in "$s"/nvme[0-9]*; do
      case "$c" in *n[0-9]*) continue ;; esac
      [ -e "$c/transport" ] && TRANSPORT=$(cat "$c/transport")
    done
    for b in "$s"/nvme*n[0-9]*; do
      [ -e "$b" ] && [ -b "/dev/$(basename "$b")" ] && DEV=/dev/$(basename "$b") && return 0
    done
  done
  return 1
}
DEV=
TRANSPORT=
lp_wait_for find_dev 20 || fail "no block device for $NQN"
find_dev
[ "$TRANSPORT" = rdma ] || fail "controller transport is '$TRANSPORT'"
[ -n "$DEV" ] || fail "no block device for $NQN"
check "connected over RDMA: $DEV ($(elapsed) s)"
nvme id-ctrl "$DEV" | grep -E "^(sgls|ioccsz|mdts) " || true

verify() {  # $1 bs, $2 count, $3 seek (in bs units)
  dd if=/dev/urandom of=/tmp/pat bs="$1" count="$2" 2>/dev/null
  dd if=/tmp/pat of="$DEV" bs="$1" seek="$3" count="$2" oflag=direct 2>/dev/null || fail "write bs=$1 seek=$3"
  dd if="$DEV" of=/tmp/rb bs="$1" skip="$3" count="$2" iflag=direct 2>/dev/null || fail "read bs=$1 skip=$3"
  [ "$(md5sum < /tmp/pat)" = "$(md5sum < /tmp/rb)" ] || fail "data read back differs (bs=$1 count=$2 seek=$3)"
  check "verified $2 x $1 at block $3"
}
verify 4096 64 0          # in-capsule writes (4 KiB fits the 4 KiB in-capsule size)
verify 512 9 7            # unaligned: 512-byte sectors at an odd offset
verify 65536 16 3         # keyed SGL: RDMA READ / WRITE
verify 131072 8 1         # max_io_size
verify 1048576 4 2        # split by the host into max_io_size commands
verify 3584 5 11          # 7 sectors at an unaligned offset
nvme flush "$DEV" -n 1 || fail "flush"
check "flush"

echo "== disconnect"
nvme disconnect -n "$NQN" | grep -q "disconnected 1 controller" || fail "disconnect"
lp_wait_for "[ ! -b $DEV ]" 20 || fail "$DEV did not go away"
check "disconnected ($(elapsed) s)"
kill -0 "$NVMFD" 2>/dev/null || fail "nvmfd died"
nvmfctl -s /tmp/rpc.sock nvmf_subsystem_get_controllers "{\"nqn\": \"$NQN\"}" > /tmp/ctrls 2>&1 || true
kill "$NVMFD"
wait "$NVMFD" 2>/dev/null || true
check "nvmfd stopped"
echo "guest_kernel_rdma: all checks passed in $(elapsed) s"

#!/bin/sh
# Guest side of kernel_rdma.sh (busybox sh, run-guest --rdma --bin nvmfd --bin nvmfctl).
# Soft-RoCE rxe0 on eth0; nvmfd serves a RAM namespace over NVMe/RDMA on eth0's address;
# the kernel host (nvme-rdma) discovers, connects, does verified I/O at several sizes and
# unaligned offsets, flushes and disconnects. Then multipath: a second rxe device (rxe1) on a
# veth pair inside the guest (10.99.0.1/2, nowhere else), an ANA-reporting subsystem listening
# on both; the kernel's native multipath connects both paths, sees the ANA states nvmfd sets
# over RPC, and verified I/O goes on across the changes.
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

echo "== multipath over two rxe devices (eth0, and a veth pair inside the guest) with ANA"
MP=nqn.2016-06.io.nvmfd:rdma-mp
modprobe veth 2>/dev/null || true
ip link add vra type veth peer name vrb || fail "veth pair"
ip addr add 10.99.0.1/24 dev vra
ip addr add 10.99.0.2/24 dev vrb
ip link set vra up
ip link set vrb up
lp_rxe_up vrb rxe1 > /dev/null || fail "rxe1 on vrb"
ctl() { nvmfctl -s /tmp/rpc.sock call "$@"; }
ctl bdev_malloc_create '{"name": "Malloc1", "num_blocks": 32768, "block_size": 512}' > /dev/null
ctl nvmf_create_subsystem "{\"nqn\": \"$MP\", \"allow_any_host\": true, \"ana_reporting\": true}" > /dev/null
ctl nvmf_subsystem_add_ns "{\"nqn\": \"$MP\", \"namespace\": {\"bdev_name\": \"Malloc1\"}}" > /dev/null
for a in "$ADDR" 10.99.0.2; do
  ctl nvmf_subsystem_add_listener "{\"nqn\": \"$MP\", \"listen_address\": {\"trtype\": \"RDMA\", \"adrfam\": \"IPv4\", \"traddr\": \"$a\", \"trsvcid\": \"4421\"}}" > /dev/null ||
    fail "RDMA listener on $a:4421"
done
set_ana() {  # $1 address, $2 state
  ctl nvmf_subsystem_listener_set_ana_state "{\"nqn\": \"$MP\", \"listen_address\": {\"trtype\": \"RDMA\", \"adrfam\": \"IPv4\", \"traddr\": \"$1\", \"trsvcid\": \"4421\"}, \"ana_state\": \"$2\"}" > /dev/null ||
    fail "set ANA $2 on $1"
}
set_ana 10.99.0.2 non_optimized
for a in "$ADDR" 10.99.0.2; do
  nvme connect -t rdma -a "$a" -s 4421 -n "$MP" > /dev/null || fail "nvme connect -t rdma $a:4421"
done
NQN=$MP
lp_wait_for find_dev 20 || fail "no multipath device for $MP"
find_dev
# The path (controller) through address $1: its ana_state.
path_state() {
  for c in /sys/class/nvme/nvme*; do
    [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$MP" ] || continue
    case "$(cat "$c/address")" in *"traddr=$1,"*) ;; *) continue ;; esac
    for p in "$c"/nvme*c*n*; do [ -e "$p/ana_state" ] && cat "$p/ana_state" && return 0; done
  done
  return 1
}
paths=$(for c in /sys/class/nvme/nvme*; do [ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$MP" ] && [ "$(cat "$c/transport")" = rdma ] && echo x; done | wc -l)
[ "$paths" -eq 2 ] || fail "expected 2 RDMA paths to $MP, found $paths"
lp_nvme_paths
lp_wait_for '[ "$(path_state $ADDR)" = optimized ] && [ "$(path_state 10.99.0.2)" = non-optimized ]' 20 ||
  fail "ANA states at connect: $(path_state $ADDR) / $(path_state 10.99.0.2)"
check "two RDMA paths to one namespace ($DEV): optimized via rxe0, non-optimized via rxe1"
verify 65536 16 0
set_ana "$ADDR" inaccessible
set_ana 10.99.0.2 optimized
lp_wait_for '[ "$(path_state $ADDR)" = inaccessible ] && [ "$(path_state 10.99.0.2)" = optimized ]' 30 ||
  fail "ANA change not seen: $(path_state $ADDR) / $(path_state 10.99.0.2)"
check "ANA change seen by the kernel: inaccessible via rxe0, optimized via rxe1"
verify 131072 8 5
verify 4096 32 100
rd=$(cat /sys/class/infiniband/rxe1/ports/1/hw_counters/rcvd_pkts 2>/dev/null || echo ?)
echo "rxe1 received packets: $rd"
set_ana "$ADDR" optimized
lp_wait_for '[ "$(path_state $ADDR)" = optimized ]' 30 || fail "path via rxe0 not optimized again"
verify 1048576 2 1
check "multipath I/O verified across ANA changes ($(elapsed) s)"
nvme disconnect -n "$MP" | grep -q "disconnected 2 controller" || fail "disconnect of both paths"
lp_wait_for "[ ! -b $DEV ]" 20 || fail "$DEV did not go away"
check "both paths disconnected"
kill -0 "$NVMFD" 2>/dev/null || fail "nvmfd died"
echo "== nvmfd stopped while a host is connected over RDMA"
nvme connect -t rdma -a "$ADDR" -s 4420 -n nqn.2016-06.io.nvmfd:rdma --ctrl-loss-tmo=2 > /dev/null || fail "reconnect"
NQN=nqn.2016-06.io.nvmfd:rdma
lp_wait_for find_dev 20 || fail "no block device after reconnect"
kill "$NVMFD"
lp_wait_for "! kill -0 $NVMFD" 15 || fail "nvmfd did not stop within 15 s with an RDMA connection open"
rc=0
wait "$NVMFD" || rc=$?
[ "$rc" -eq 0 ] || fail "nvmfd exited with status $rc"
check "nvmfd stopped cleanly with a connected RDMA host ($(elapsed) s)"
nvme disconnect -n "$NQN" > /dev/null 2>&1 || true
echo "guest_kernel_rdma: all checks passed in $(elapsed) s"

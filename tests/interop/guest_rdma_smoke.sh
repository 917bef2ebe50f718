#!/bin/sh
# Guest side of rdma_guest_smoke.sh (busybox sh, run-guest --rdma, slirp: eth0 = 10.0.2.15).
# Soft-RoCE inside one guest, each step timed (guest uptime):
#   rxe    rxe0 on eth0 ACTIVE, /dev/infiniband nodes, ibv_devices sees it
#   rping  librdmacm + libibverbs + the rxe provider: rping server and client on eth0's address
#   nvmet  kernel nvmet-rdma on eth0's address, kernel nvme-rdma host: discover, connect,
#          4 KiB and 1 MiB O_DIRECT writes read back equal, disconnect
#   veth   a second rxe device (rxe1) on a veth pair 10.99.0.1/2 inside the guest, a second
#          nvmet-rdma port on it, connect + verified I/O over it
#   nvmfd  when /usr/local/bin/nvmfd exists (run-guest --bin): nvmfd from the build, RAM
#          namespace over TCP on 127.0.0.1:$1 (config /lprun/files/nvmfd.json), kernel nvme-tcp
#          host connected, verified I/O
set -e
. /lp/lp-guest.sh
NVMFD_PORT=${1:-4430}
NQN=nqn.2014-08.org.nvmexpress:rdma-smoke
OPEN=nqn.2016-06.io.nvmfd:open
ADDR=${LP_GUEST_ADDRS%% *}
fail() { echo "CHECK FAILED: $*"; exit 1; }
check() { echo "ok: $*"; }
now() { cut -d' ' -f1 /proc/uptime; }
T=$(now)
step() { t=$(now); echo "time: $1 $(awk -v a="$T" -v b="$t" 'BEGIN{printf "%.2f", b-a}')s"; T=$t; }
wait_dev() { lp_wait_for "[ -b $1 ]" 20 || fail "$1 did not appear"; }
wait_gone() { lp_wait_for "[ ! -e $1 ]" 20 || fail "$1 did not go away"; }

verify_io() {  # $1 = block device: 8 x 1 MiB and 64 x 4 KiB O_DIRECT, read back equal
  dd if=/dev/urandom of=/tmp/pat bs=1M count=8 2>/dev/null
  dd if=/tmp/pat of="$1" bs=1M oflag=direct 2>/dev/null || fail "1 MiB writes to $1"
  dd if="$1" of=/tmp/rb bs=1M count=8 iflag=direct 2>/dev/null || fail "1 MiB reads from $1"
  [ "$(md5sum < /tmp/pat)" = "$(md5sum < /tmp/rb)" ] || fail "1 MiB blocks read back differ on $1"
  dd if=/dev/urandom of=/tmp/pat4 bs=4k count=64 2>/dev/null
  dd if=/tmp/pat4 of="$1" bs=4k seek=3000 oflag=direct 2>/dev/null || fail "4 KiB writes to $1"
  dd if="$1" of=/tmp/rb4 bs=4k skip=3000 count=64 iflag=direct 2>/dev/null || fail "4 KiB reads from $1"
  [ "$(md5sum < /tmp/pat4)" = "$(md5sum < /tmp/rb4)" ] || fail "4 KiB blocks read back differ on $1"
  check "8 x 1 MiB and 64 x 4 KiB O_DIRECT written and read back equal on $1"
}

# connect_io TRTYPE TRADDR TRSVCID NQN   connect, verified I/O, disconnect
connect_io() {
  nvme connect -t "$1" -a "$2" -s "$3" -n "$4" || fail "nvme connect -t $1 -a $2 -s $3"
  wait_dev /dev/nvme0n1
  lp_nvme_paths
  grep -q "traddr=$2" /sys/class/nvme/nvme0/address || fail "controller address is not $2"
  if [ "$1" = rdma ]; then   # which rxe device carries the queue pairs
    rdma resource show qp link "$(cat "/tmp/rxe_of_$2")/1" | head -n 4 || true
  fi
  verify_io /dev/nvme0n1
  nvme disconnect -n "$4" | grep -q "disconnected 1 controller" || fail "disconnect $4"
  wait_gone /dev/nvme0n1
  check "$1 connect to $2:$3, I/O, disconnect"
}

echo "== rxe on eth0 ($ADDR)"
lsmod | grep -E '^(rdma_rxe|rdma_ucm|ib_uverbs|rdma_cm|ib_core|nvme_rdma|nvmet_rdma) ' | awk '{print "module", $1}'
RXE=$(lp_rxe_up eth0 rxe0) || fail "rxe0 on eth0"
echo rxe0 > "/tmp/rxe_of_$ADDR"
rdma link show
ls -l /dev/infiniband
[ -c /dev/infiniband/rdma_cm ] || fail "/dev/infiniband/rdma_cm missing"
[ -c /dev/infiniband/uverbs0 ] || fail "/dev/infiniband/uverbs0 missing"
ibv_devices | tee /tmp/ibv
grep -q rxe0 /tmp/ibv || fail "ibv_devices does not list rxe0"
ibv_devinfo -d rxe0 | grep -E 'transport|state|active_mtu|link_layer' || fail "ibv_devinfo rxe0"
check "$RXE ACTIVE on eth0, verbs device nodes present"
step rxe

echo "== rping (user-space verbs through librdmacm) on $ADDR"
rping -s -a "$ADDR" -C 3 -v > /tmp/rping_s 2>&1 &
spid=$!
ok=0
for _ in 1 2 3 4 5 6 7 8 9 10; do
  sleep 1
  if rping -c -a "$ADDR" -C 3 -v > /tmp/rping_c 2>&1; then ok=1; break; fi
done
cat /tmp/rping_c
lp_wait_for "! kill -0 $spid" 10 || { kill "$spid" 2>/dev/null; fail "rping server did not exit"; }
wait "$spid" || { cat /tmp/rping_s; fail "rping server rc"; }
[ "$ok" = 1 ] || fail "rping client"
[ "$(grep -c 'ping data' /tmp/rping_c)" = 3 ] || fail "rping client: not 3 pings"
check "rping 3 pings server+client over rxe0"
step rping

echo "== kernel nvmet-rdma on $ADDR:4420, kernel nvme-rdma host"
nvmet_subsys "$NQN" rdma-smoke RDMASMOKE01
nvmet_ns "$NQN" 1 "$(lp_backing_file rdma0 64)"
nvmet_port_rdma 1 "$ADDR" 4420
nvmet_link 1 "$NQN" || fail "nvmet rdma port on $ADDR:4420 (enable)"
nvme discover -t rdma -a "$ADDR" -s 4420 > /tmp/disc || fail "nvme discover -t rdma"
cat /tmp/disc
grep -q "subnqn:  $NQN" /tmp/disc || fail "discovery log lacks $NQN"
grep -q "trtype:  rdma" /tmp/disc || fail "discovery log entry is not rdma"
check "rdma discovery"
connect_io rdma "$ADDR" 4420 "$NQN"
step nvmet-rdma

echo "== second rxe device on a veth pair (10.99.0.1 <-> 10.99.0.2)"
modprobe veth
ip link add vra type veth peer name vrb || fail "veth pair"
ip addr add 10.99.0.1/24 dev vra
ip addr add 10.99.0.2/24 dev vrb
ip link set vra up
ip link set vrb up
lp_rxe_up vrb rxe1 > /dev/null || fail "rxe1 on vrb"
echo rxe1 > /tmp/rxe_of_10.99.0.2
rdma link show
nvmet_port_rdma 2 10.99.0.2 4420
nvmet_link 2 "$NQN" || fail "nvmet rdma port on 10.99.0.2:4420 (enable)"
connect_io rdma 10.99.0.2 4420 "$NQN"
step veth-rxe1
nvmet_clear
lp_rxe_down rxe1 || fail "rdma link delete rxe1"
lp_rxe_down rxe0 || fail "rdma link delete rxe0"
check "rxe devices removed"

if [ -x /usr/local/bin/nvmfd ]; then
  echo "== nvmfd (dynamically linked build) in the guest, TCP on 127.0.0.1:$NVMFD_PORT"
  nvmfd -c /lprun/files/nvmfd.json -r /tmp/nvmfd.sock > /tmp/nvmfd.log 2>&1 &
  npid=$!
  if ! lp_wait_for "nvmfctl -s /tmp/nvmfd.sock nvmf_get_subsystems" 30; then
    cat /tmp/nvmfd.log; kill "$npid" 2>/dev/null; fail "nvmfd did not come up"
  fi
  check "nvmfd answers RPC"
  nvme discover -t tcp -a 127.0.0.1 -s "$NVMFD_PORT" | grep -q "subnqn:  $OPEN" || fail "nvmfd discovery"
  connect_io tcp 127.0.0.1 "$NVMFD_PORT" "$OPEN"
  kill "$npid"
  lp_wait_for "! kill -0 $npid" 10 || fail "nvmfd did not stop on SIGTERM"
  wait "$npid" || echo "nvmfd exit status $?"
  tail -n 5 /tmp/nvmfd.log
  step nvmfd-tcp
fi
echo "guest part done"

#!/bin/sh
# Guest side of kernel_host.sh (busybox sh). $1 = nvmfd port on 10.0.2.2, $2 = allowed host NQN.
set -e
. /lp/lp-guest.sh
PORT=$1
ALLOWED=$2
OPEN=nqn.2016-06.io.nvmfd:open
CLOSED=nqn.2016-06.io.nvmfd:closed
fail() { echo "CHECK FAILED: $*"; exit 1; }
check() { echo "ok: $*"; }

echo "== discover"
nvme discover -t tcp -a 10.0.2.2 -s "$PORT" > /tmp/disc
cat /tmp/disc
grep -q "subnqn:  $OPEN" /tmp/disc || fail "discovery log lacks $OPEN"
grep -q "$CLOSED" /tmp/disc && fail "discovery log shows $CLOSED to a host that is not allowed"
grep -q "trsvcid: $PORT" /tmp/disc || fail "discovery log lacks port $PORT"
check "discovery log"
echo "== discover as the allowed host"
nvme discover -t tcp -a 10.0.2.2 -s "$PORT" --hostnqn="$ALLOWED" | grep -q "$CLOSED" || fail "allowed host does not see $CLOSED"
check "discovery log filtered per host"

verify_io() {  # $1 = block device
  dev=$1
  dd if=/dev/urandom of=/tmp/pat bs=1M count=8 2>/dev/null
  dd if=/tmp/pat of="$dev" bs=1M oflag=direct 2>/dev/null
  dd if="$dev" of=/tmp/rb bs=1M count=8 iflag=direct 2>/dev/null
  [ "$(md5sum < /tmp/pat)" = "$(md5sum < /tmp/rb)" ] || fail "1 MiB blocks read back differ on $dev"
  check "8 MiB in 1 MiB blocks written and read back identical on $dev"
  dd if=/dev/urandom of=/tmp/pat4 bs=4k count=300 2>/dev/null
  dd if=/tmp/pat4 of="$dev" bs=4k seek=1000 oflag=direct 2>/dev/null
  dd if="$dev" of=/tmp/rb4 bs=4k skip=1000 count=300 iflag=direct 2>/dev/null
  [ "$(md5sum < /tmp/pat4)" = "$(md5sum < /tmp/rb4)" ] || fail "4 KiB blocks read back differ on $dev"
  check "300 x 4 KiB written and read back identical on $dev"
}

wait_dev() { lp_wait_for "[ -b $1 ]" 20 || fail "$1 did not appear"; }
wait_gone() { lp_wait_for "[ ! -e $1 ]" 20 || fail "$1 did not go away"; }

for mode in plain digests; do
  echo "== connect ($mode)"
  if [ $mode = plain ]; then
    nvme connect -t tcp -a 10.0.2.2 -s "$PORT" -n "$OPEN"
  else
    nvme connect -t tcp -a 10.0.2.2 -s "$PORT" -n "$OPEN" --hdr-digest --data-digest
  fi
  wait_dev /dev/nvme0n1
  nvme list
  nvme id-ctrl /dev/nvme0 > /tmp/idc
  grep -q "^mn *: nvmfd interop" /tmp/idc || fail "id-ctrl model number"
  grep -q "^sn *: NVMFDINTEROP0001" /tmp/idc || fail "id-ctrl serial number"
  grep -q "^subnqn *: $OPEN" /tmp/idc || fail "id-ctrl subnqn"
  check "id-ctrl"
  nvme id-ns /dev/nvme0n1 > /tmp/idn
  grep -q "^nsze *: 0x20000" /tmp/idn || fail "id-ns nsze"
  grep -q "lbads:9" /tmp/idn || fail "id-ns lbads"
  check "id-ns"
  verify_io /dev/nvme0n1
  nvme flush /dev/nvme0n1 -n 1 || fail "flush"
  check "flush"
  nvme disconnect -n "$OPEN" | grep -q "disconnected 1 controller" || fail "disconnect"
  wait_gone /dev/nvme0n1
  check "disconnect ($mode)"
done

echo "== host allow list"
if nvme connect -t tcp -a 10.0.2.2 -s "$PORT" -n "$CLOSED" 2>/tmp/err; then
  fail "a host that is not allowed could connect to $CLOSED"
fi
cat /tmp/err
check "host not on the allow list refused"
nvme connect -t tcp -a 10.0.2.2 -s "$PORT" -n "$CLOSED" --hostnqn="$ALLOWED"
wait_dev /dev/nvme0n1
nvme id-ns /dev/nvme0n1 | grep -q "lbads:12" || fail "4096-byte namespace"
verify_io /dev/nvme0n1
nvme disconnect -n "$CLOSED"
wait_gone /dev/nvme0n1
check "allowed host connects"

echo "== unknown subsystem"
if nvme connect -t tcp -a 10.0.2.2 -s "$PORT" -n nqn.2016-06.io.nvmfd:nope 2>/dev/null; then
  fail "connect to an unknown subsystem succeeded"
fi
check "unknown subsystem refused"
echo "ALL GUEST CHECKS PASSED"

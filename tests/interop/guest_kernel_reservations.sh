#!/bin/sh
# Guest side of kernel_reservations.sh (busybox sh). $1 = nvmfd port on 10.0.2.2.
set -e
. /lp/lp-guest.sh
PORT=$1
NQN=nqn.2016-06.io.nvmfd:resv
H1=nqn.2014-08.org.nvmexpress:uuid:6a0c1f7e-0000-4000-8000-0000000000b1
ID1=6a0c1f7e-0000-4000-8000-0000000000b1
H2=nqn.2014-08.org.nvmexpress:uuid:6a0c1f7e-0000-4000-8000-0000000000b2
ID2=6a0c1f7e-0000-4000-8000-0000000000b2
DEV=/dev/nvme0n1
fail() { echo "CHECK FAILED: $*"; exit 1; }
check() { echo "ok: $*"; }
wait_dev() { lp_wait_for "[ -b $1 ]" 20 || fail "$1 did not appear"; }
wait_gone() { lp_wait_for "[ ! -e $1 ]" 20 || fail "$1 did not go away"; }
connect_as() {
  nvme connect -t tcp -a 10.0.2.2 -s "$PORT" -n "$NQN" --hostnqn="$1" --hostid="$2" --reconnect-delay=1 --ctrl-loss-tmo=120
  wait_dev $DEV
}
disconnect() { nvme disconnect -n "$NQN" > /dev/null; wait_gone $DEV; }
write_ok() { dd if=/dev/urandom of=$DEV bs=4k count=1 seek=$1 oflag=direct 2>/dev/null; }
read_ok() { dd if=$DEV of=/dev/null bs=4k count=1 skip=$1 iflag=direct 2>/dev/null; }
report() { nvme resv-report $DEV -n 1 --eds -o json; }

echo "== host 1: register (persist through power loss), acquire Write Exclusive"
connect_as "$H1" "$ID1"
nvme id-ns $DEV | grep -q "^rescap *: 0xff" || { nvme id-ns $DEV | grep rescap; fail "RESCAP: every type, IEKEY and PTPL"; }
nvme id-ctrl $DEV | grep -q "^oncs *: 0x2c" || { nvme id-ctrl $DEV | grep oncs; fail "ONCS reservations bit"; }
nvme resv-register $DEV -n 1 --nrkey=0x1111 --rrega=0 --cptpl=3 || fail "resv-register"
nvme resv-acquire $DEV -n 1 --crkey=0x1111 --rtype=1 --racqa=0 || fail "resv-acquire"
report > /tmp/r1
cat /tmp/r1
grep -q '"rtype" *: *1' /tmp/r1 || fail "report: rtype 1"
grep -q '"regctl" *: *1' /tmp/r1 || fail "report: one registrant"
grep -q '"ptpls" *: *1' /tmp/r1 || fail "report: PTPLS"
grep -q '"rkey" *: *4369' /tmp/r1 || fail "report: key 0x1111"
write_ok 10 || fail "the holder's write"
check "registered, acquired, holder writes"
disconnect

echo "== host 2: refused writes, then registers and preempts host 1"
connect_as "$H2" "$ID2"
if write_ok 11; then fail "a write from a host that does not hold Write Exclusive succeeded"; fi
dmesg | tail -n 5
read_ok 11 || fail "a read under Write Exclusive"
check "host 2 may read, not write"
nvme resv-register $DEV -n 1 --nrkey=0x2222 --rrega=0 || fail "host 2 registers"
if nvme resv-acquire $DEV -n 1 --crkey=0x2222 --rtype=1 --racqa=0 2>/dev/null; then fail "acquire of a held reservation"; fi
nvme resv-acquire $DEV -n 1 --crkey=0x2222 --prkey=0x1111 --rtype=1 --racqa=1 || fail "preempt"
report > /tmp/r2
cat /tmp/r2
grep -q '"regctl" *: *1' /tmp/r2 || fail "report after preempt: host 1's registration is gone"
grep -q '"rkey" *: *8738' /tmp/r2 || fail "report after preempt: key 0x2222"
write_ok 12 || fail "the new holder's write"
check "host 2 preempted host 1 and writes"

echo "== nvmfd is killed and restarted (by the host side, once the ptpl file names host 2)"
lp_wait_for "dmesg | grep -q 'Successfully reconnected'" 120 || { dmesg | tail -n 20; fail "no reconnect after the restart"; }
read_ok 0 || fail "read after the reconnect"
report > /tmp/r3
cat /tmp/r3
grep -q '"rtype" *: *1' /tmp/r3 || fail "after restart: rtype 1"
grep -q '"rkey" *: *8738' /tmp/r3 || fail "after restart: host 2's key"
write_ok 13 || fail "after restart: the holder's write"
nvme resv-release $DEV -n 1 --crkey=0x2222 --rtype=1 --rrela=0 || fail "release"
nvme resv-register $DEV -n 1 --crkey=0x2222 --rrega=1 --cptpl=2 || fail "unregister"
report | grep -q '"regctl" *: *0' || fail "nobody registered at the end"
disconnect
check "reservation restored after SIGKILL, then released"
echo "ALL GUEST CHECKS PASSED"

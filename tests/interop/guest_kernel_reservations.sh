#!/bin/sh
# Guest side of kernel_reservations.sh (busybox sh, nvme_core.multipath=N: each controller has
# its own block device). $1 = nvmfd port on 10.0.2.2.
set -e
. /lp/lp-guest.sh
. /lprun/files/guest_hosts.sh
export LP_HOST_TIMEOUT=120
PORT=$1
NQN=nqn.2016-06.io.nvmfd:resv
H1=nqn.2014-08.org.nvmexpress:uuid:6a0c1f7e-0000-4000-8000-0000000000b1
ID1=6a0c1f7e-0000-4000-8000-0000000000b1
H2=nqn.2014-08.org.nvmexpress:uuid:6a0c1f7e-0000-4000-8000-0000000000b2
ID2=6a0c1f7e-0000-4000-8000-0000000000b2
stamp() { echo "[t=$(cut -d' ' -f1 /proc/uptime)s] $*"; }
fail() { echo "CHECK FAILED: $*"; exit 1; }
check() { stamp "ok: $*"; }
# ns_dev CTRL: the block device of the controller's namespace 1 (/dev/nvmeXn1)
ns_dev() {
  for n in /sys/class/nvme/"$1"/nvme*n1; do [ -e "$n" ] && { echo "/dev/${n##*/}"; return 0; }; done
  return 1
}
# connect_as HOSTNQN HOSTID VAR: connects, sets VAR to the controller's namespace block device
connect_as() {
  created=$(connect_host 10.0.2.2 "$PORT" "$NQN" "$1" "$2" reconnect_delay=1,ctrl_loss_tmo=120) ||
    fail "connect as $1"
  echo "connected as $1: $created"
  lp_wait_for "ctrl_of $NQN $1" 20 || fail "no controller for $1"
  c=$(ctrl_of "$NQN" "$1")
  lp_wait_for "ns_dev $c" 20 || fail "$c has no namespace device"
  d=$(ns_dev "$c")
  lp_wait_for "[ -b $d ]" 20 || fail "$d did not appear"
  eval "$3=$d"
}
write_ok() { dd if=/dev/urandom of="$1" bs=4k count=1 seek="$2" oflag=direct 2>/dev/null; }
read_ok() { dd if="$1" of=/dev/null bs=4k count=1 skip="$2" iflag=direct 2>/dev/null; }
report() { nvme resv-report "$1" -n 1 --eds -o json; }
ctrl_dev() { basename "$(dirname "$(readlink -f "/sys/block/${1#/dev/}")")"; }  # /dev/nvmeXn1 -> nvmeX
# notified DEV: DEV's controller had the Reservation Notification event (0x800006: I/O command
# set specific, log page 80h) and its Reservation Notification log says Registration Preempted
# (type 1) on namespace 1
notified() {
  c=$(ctrl_dev "$1")
  lp_wait_for "[ \$(aen_count $c 0x800006) = 1 ]" 10 || fail "$c: not one Reservation Notification event"
  # shellcheck disable=SC2046  # the log's bytes as positional parameters
  set -- $(nvme get-log "/dev/$c" --log-id=0x80 --log-len=64 -b | od -A n -t u1 -v)
  echo "$c reservation notification log: count $1, type $9, available ${10}, nsid ${13}"
  if [ "$9" != 1 ] || [ "${13}${14}${15}${16}" != 1000 ]; then
    fail "$c: the Reservation Notification log is not Registration Preempted on namespace 1"
  fi
}
# report_shows DEV FILE "what" PATTERN...: the report from DEV (saved in FILE) matches every PATTERN
report_shows() {
  dev=$1 file=$2 what=$3
  shift 3
  report "$dev" > "$file"
  cat "$file"
  for pat in "$@"; do grep -q "$pat" "$file" || fail "$what: report lacks $pat"; done
}

stamp "== host 1: register (persist through power loss), acquire Write Exclusive"
aen_trace_on || fail "no nvme_async_event trace point"
connect_as "$H1" "$ID1" D1
nvme id-ns "$D1" | grep -q "^rescap *: 0xff" || { nvme id-ns "$D1" | grep rescap; fail "RESCAP: every type, IEKEY and PTPL"; }
nvme id-ctrl "$D1" | grep -q "^oncs *: 0x2c" || { nvme id-ctrl "$D1" | grep oncs; fail "ONCS reservations bit"; }
nvme resv-register "$D1" -n 1 --nrkey=0x1111 --rrega=0 --cptpl=3 || fail "resv-register"
nvme resv-acquire "$D1" -n 1 --crkey=0x1111 --rtype=1 --racqa=0 || fail "resv-acquire"
report_shows "$D1" /tmp/r1 "after acquire" '"rtype" *: *1' '"regctl" *: *1' '"ptpls" *: *1' '"rkey" *: *4369'
write_ok "$D1" 10 || fail "the holder's write"
check "host 1 ($D1) registered, acquired, writes"

stamp "== host 2 connects while host 1 stays: refused writes, then registers and preempts host 1"
connect_as "$H2" "$ID2" D2
[ "$D1" != "$D2" ] || fail "both hosts on one block device $D1"
if write_ok "$D2" 11; then fail "a write from a host that does not hold Write Exclusive succeeded"; fi
read_ok "$D2" 11 || fail "a read under Write Exclusive"
check "host 2 ($D2) may read, not write"
nvme resv-register "$D2" -n 1 --nrkey=0x2222 --rrega=0 || fail "host 2 registers"
report_shows "$D2" /tmp/r2 "both registered" '"regctl" *: *2' '"rkey" *: *4369' '"rkey" *: *8738'
if nvme resv-acquire "$D2" -n 1 --crkey=0x2222 --rtype=1 --racqa=0 2>/dev/null; then fail "acquire of a held reservation"; fi
nvme resv-acquire "$D2" -n 1 --crkey=0x2222 --prkey=0x1111 --rtype=1 --racqa=1 || fail "preempt"
report_shows "$D2" /tmp/r3 "after preempt" '"regctl" *: *1' '"rkey" *: *8738'
grep -q '"rkey" *: *4369' /tmp/r3 && fail "after preempt: host 1's key 0x1111 is still registered"
write_ok "$D2" 12 || fail "the new holder's write"
if write_ok "$D1" 12; then fail "the preempted host 1 still writes"; fi
read_ok "$D1" 12 || fail "the preempted host 1 reads"
notified "$D1"
check "host 2 preempted host 1 (racqa 1) and writes; host 1 only reads, was notified"

stamp "== host 1 registers again and preempts-and-aborts host 2"
nvme resv-register "$D1" -n 1 --nrkey=0x1111 --rrega=0 || fail "host 1 registers again"
nvme resv-acquire "$D1" -n 1 --crkey=0x1111 --prkey=0x2222 --rtype=1 --racqa=2 || fail "preempt and abort"
report_shows "$D1" /tmp/r4 "after preempt-and-abort" '"rtype" *: *1' '"regctl" *: *1' '"rkey" *: *4369'
grep -q '"rkey" *: *8738' /tmp/r4 && fail "after preempt-and-abort: host 2's key 0x2222 is still registered"
grep -q "\"hostid\" *: *\"$(echo "$ID1" | tr -d -)\"" /tmp/r4 || fail "after preempt-and-abort: the registrant is not host 1"
if nvme resv-register "$D2" -n 1 --crkey=0x2222 --nrkey=0x2323 --rrega=2 2>/dev/null; then
  fail "host 2's preempted key 0x2222 still works (register-replace)"
fi
write_ok "$D1" 13 || fail "host 1's write after preempt-and-abort"
if write_ok "$D2" 13; then fail "the aborted host 2 still writes"; fi
notified "$D2"
check "host 1 preempted-and-aborted host 2 (racqa 2): host 2's registration gone and notified, host 1 writes"

stamp "== nvmfd is killed with SIGKILL and restarted (lp-host hook restart)"
lp-host hook restart || fail "the host could not restart nvmfd"
lp_wait_for "[ \$(dmesg | grep -c 'Successfully reconnected') -ge 2 ]" 120 ||
  { dmesg | tail -n 20; fail "both controllers did not reconnect after the restart"; }
read_ok "$D1" 0 || fail "read after the reconnect"
report_shows "$D1" /tmp/r5 "after restart" '"rtype" *: *1' '"regctl" *: *1' '"rkey" *: *4369' '"ptpls" *: *1'
write_ok "$D1" 14 || fail "after restart: the holder's write"
if write_ok "$D2" 14; then fail "after restart: host 2 writes"; fi
check "reservation restored after SIGKILL: host 1 holds and writes, host 2 does not"
nvme resv-release "$D1" -n 1 --crkey=0x1111 --rtype=1 --rrela=0 || fail "release"
write_ok "$D2" 15 || fail "host 2's write after the release"
nvme resv-register "$D1" -n 1 --crkey=0x1111 --rrega=1 --cptpl=2 || fail "unregister"
report "$D1" | grep -q '"regctl" *: *0' || fail "nobody registered at the end"
nvme disconnect -n "$NQN" > /dev/null
lp_wait_for "[ ! -e $D1 ] && [ ! -e $D2 ]" 20 || fail "the block devices did not go away"
check "released, unregistered, disconnected"
echo "ALL GUEST CHECKS PASSED"

#!/bin/sh
# Guest side of kernel_ns_visibility.sh (busybox sh, slirp). $1 = nvmfd port on 10.0.2.2,
# $2 = subsystem NQN, $3/$4 = host NQNs A and B. Host-side changes through `lp-host hook`.
set -e
. /lp/lp-guest.sh
. /lprun/files/guest_hosts.sh
export LP_HOST_TIMEOUT=120
PORT=$1
NQN=$2
HOST_A=$3
HOST_B=$4
stamp() { echo "[t=$(cut -d' ' -f1 /proc/uptime)s] $*"; }
check() { stamp "ok: $*"; }
fail() { echo "CHECK FAILED: $*"; nvme list || true; exit 1; }
hook() { lp-host hook "$@" || fail "host-side change '$*' failed (see the host log)"; }

# nsids CTRL: the namespace IDs the kernel has block devices for on that controller, sorted
nsids() {
  for p in /sys/class/nvme/"$1"/nvme*n*; do [ -e "$p/nsid" ] && cat "$p/nsid"; done | sort -n | tr '\n' ' ' | sed 's/ $//'
}
# listed CTRL: the active namespace list nvmfd gives that controller (Identify CNS 02h)
listed() { nvme list-ns "/dev/$1" | sed 's/.*:0x//' | while read -r n; do printf '%d\n' "0x$n"; done | tr '\n' ' ' | sed 's/ $//'; }
# expect_nsids CTRL "N ..." WHAT: wait (20 s) until the kernel's namespaces of CTRL are exactly these
expect_nsids() {
  lp_wait_for "[ \"\$(nsids $1)\" = \"$2\" ]" 20 || fail "$3: $1 has namespaces '$(nsids "$1")', expected '$2'"
  [ "$(listed "$1")" = "$2" ] || fail "$3: nvme list-ns /dev/$1 gives '$(listed "$1")', expected '$2'"
}
# head_of NSID: the multipath block device (nvmeXnY, shared by the controllers) of NSID
head_of() {
  for d in /sys/block/nvme*n*; do
    case "${d##*/}" in *c*) continue ;; esac
    [ "$(cat "$d/nsid")" = "$1" ] && { echo "${d##*/}"; return 0; }
  done
  return 1
}
# path_of CTRL NSID: that controller's path device of NSID
path_of() {
  for p in /sys/class/nvme/"$1"/nvme*n*; do [ "$(cat "$p/nsid")" = "$2" ] && { echo "${p##*/}"; return 0; }; done
  return 1
}
connect_as() {  # HOSTNQN HOSTID
  created=$(connect_host 10.0.2.2 "$PORT" "$NQN" "$1" "$2") || fail "connect as $1"
  echo "connected as $1: $created"
  lp_wait_for "ctrl_of $NQN $1" 20 || fail "no controller for $1"
}
# unchanged: both controllers are still the ones connected at the start (no reconnect)
unchanged() {
  for c in "$A:$CNTLID_A" "$B:$CNTLID_B"; do
    n=${c%%:*}
    [ "$(cat "/sys/class/nvme/$n/state")" = live ] || fail "$1: $n is $(cat "/sys/class/nvme/$n/state")"
    [ "$(cat "/sys/class/nvme/$n/cntlid")" = "${c#*:}" ] || fail "$1: $n has a new cntlid (reconnected)"
  done
  # the kernel logs "creating N I/O queues" at each (re)connect: once per controller
  if [ "$(dmesg | grep -c 'creating [0-9]* I/O queues')" != 2 ] || dmesg | grep -qiE "nvme[0-9]+: .*(reconnect|resetting)"; then
    dmesg | grep nvme | tail -n 20
    fail "$1: the kernel reset or reconnected a controller"
  fi
}
sectors() { cat "/sys/block/$1/size"; }
# aens_are "NA NB" WHAT: hosts A and B have had NA and NB Namespace Attribute Changed events
# (0x040002: notice, Changed Namespace List log 04h) since they connected (waits 10 s)
aens() { echo "$(aen_count "$A" 0x040002) $(aen_count "$B" 0x040002)"; }
aens_are() {
  lp_wait_for "[ \"\$(aens)\" = \"$1\" ]" 10 || fail "$2: Namespace Attribute Changed events of A and B: '$(aens)', expected '$1'"
}

stamp "== connect as host A and host B: each sees only its namespaces"
aen_trace_on || fail "no nvme_async_event trace point"
connect_as "$HOST_A" 6a0c1f7e-0000-4000-8000-0000000000c1
connect_as "$HOST_B" 6a0c1f7e-0000-4000-8000-0000000000c2
A=$(ctrl_of "$NQN" "$HOST_A")
B=$(ctrl_of "$NQN" "$HOST_B")
CNTLID_A=$(cat "/sys/class/nvme/$A/cntlid")
CNTLID_B=$(cat "/sys/class/nvme/$B/cntlid")
expect_nsids "$A" "1 4" "host A at connect"
expect_nsids "$B" "2 4" "host B at connect"
nvme list
aens_are "0 0" "at connect"
check "host A ($A, cntlid $CNTLID_A) has namespaces 1 4, host B ($B, cntlid $CNTLID_B) 2 4"

stamp "== namespace 3 made visible to host A while connected"
hook add_host 3 A
expect_nsids "$A" "1 3 4" "after nvmf_ns_add_host 3 A"
expect_nsids "$B" "2 4" "host B after nvmf_ns_add_host 3 A"
D3=/dev/$(head_of 3)
dd if=/dev/urandom of=/tmp/pattern bs=4k count=64 2>/dev/null
dd if=/tmp/pattern of="$D3" bs=4k count=64 oflag=direct 2>/dev/null || fail "write to namespace 3 ($D3)"
dd if="$D3" of=/tmp/back bs=4k count=64 iflag=direct 2>/dev/null || fail "read from namespace 3"
[ "$(md5sum < /tmp/pattern)" = "$(md5sum < /tmp/back)" ] || fail "namespace 3 read back differs"
aens_are "1 0" "nvmf_ns_add_host 3 A"
unchanged "after nvmf_ns_add_host"
check "namespace 3 appeared for host A only (its event went to A only; $D3, 256 KiB written and read back), no reconnect"

stamp "== namespace 1 hidden from host A while connected"
hook remove_host 1 A
expect_nsids "$A" "3 4" "after nvmf_ns_remove_host 1 A"
expect_nsids "$B" "2 4" "host B after nvmf_ns_remove_host 1 A"
head_of 1 > /dev/null && fail "namespace 1 still has a block device"
aens_are "2 0" "nvmf_ns_remove_host 1 A"
unchanged "after nvmf_ns_remove_host"
check "namespace 1 disappeared from host A"

stamp "== namespace 4's logical volume resized 8 -> 16 MiB"
H4=$(head_of 4)
[ "$(sectors "$H4")" = 16384 ] || fail "namespace 4 ($H4) is $(sectors "$H4") sectors before the resize, expected 16384"
hook resize 16
lp_wait_for "[ \"\$(sectors $H4)\" = 32768 ]" 20 || fail "namespace 4 ($H4) is $(sectors "$H4") sectors after the resize, expected 32768"
for c in "$A" "$B"; do
  p=$(path_of "$c" 4)
  lp_wait_for "[ \"\$(sectors $p)\" = 32768 ]" 20 || fail "path $p is $(sectors "$p") sectors after the resize"
done
nvme id-ns "/dev/$H4" | grep -q "^nsze *: 0x8000$" || { nvme id-ns "/dev/$H4" | grep -E "^n(sze|cap|use)"; fail "id-ns NSZE after the resize"; }
nvme list -o json > /tmp/list.json
cat /tmp/list.json
tr -d ' \n' < /tmp/list.json | grep -q "\"DevicePath\":\"/dev/$H4\"[^}]*\"PhysicalSize\":16777216" ||
  fail "nvme list does not show /dev/$H4 with 16 MiB"
aens_are "3 1" "bdev_lvol_resize"
unchanged "after bdev_lvol_resize"
check "namespace 4 ($H4) is 16 MiB in sysfs (head and both paths), id-ns and nvme list"

stamp "== namespace 5 added, namespace 3 removed while connected"
hook add_ns 5
expect_nsids "$A" "3 4 5" "host A after nvmf_subsystem_add_ns 5"
expect_nsids "$B" "2 4 5" "host B after nvmf_subsystem_add_ns 5"
aens_are "4 2" "nvmf_subsystem_add_ns 5"
hook remove_ns 3
expect_nsids "$A" "4 5" "host A after nvmf_subsystem_remove_ns 3"
expect_nsids "$B" "2 4 5" "host B after nvmf_subsystem_remove_ns 3"
aens_are "5 2" "add_ns 5, remove_ns 3"
unchanged "after add_ns/remove_ns"
nvme list
check "namespace 5 appeared on both controllers, namespace 3 disappeared from host A"

nvme disconnect -n "$NQN" > /dev/null
lp_wait_for "! ls /sys/class/nvme/ | grep -q nvme" 20 || fail "controllers left after disconnect"
echo "ALL GUEST CHECKS PASSED"

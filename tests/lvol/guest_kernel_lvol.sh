#!/bin/sh
# Guest side of kernel_lvol.sh (busybox sh, slirp: nvmfd is 10.0.2.2:$1). $2 = NQN.
set -e
. /lp/lp-guest.sh
PORT=$1
NQN=$2
export LP_HOST_TIMEOUT=120
stamp() { echo "[t=$(cut -d' ' -f1 /proc/uptime)s] $*"; }
check() { stamp "ok: $*"; }
fail() { echo "CHECK FAILED: $*"; lp_nvme_paths || true; dmesg | grep -i nvme | tail -n 30; exit 1; }
hook() { lp-host hook "$@" || fail "host-side step '$*' failed"; }

nvme connect -t tcp -a 10.0.2.2 -s "$PORT" -n "$NQN" --ctrl-loss-tmo=120 --reconnect-delay=1 --keep-alive-tmo=5 ||
    fail "nvme connect"
lp_wait_for "[ -b /dev/nvme0n1 ]" 30 || fail "no /dev/nvme0n1"
DEV=/dev/nvme0n1
vwc=$(nvme id-ctrl /dev/nvme0 | sed -n 's/^vwc *: *//p')
echo "id-ctrl vwc: $vwc"
case "$vwc" in 0x[13579bdf]|[13579]) ;; *) fail "VWC not set though the volume's base has a volatile cache" ;; esac
check "Identify Controller says: volatile write cache present"

stamp "== dd oflag=sync (4 MiB at 0) and conv=fsync (4 MiB at 8 MiB) into the thin volume"
dd if=/dev/urandom of=/tmp/a bs=64k count=64 2>/dev/null
dd if=/dev/urandom of=/tmp/b bs=64k count=64 2>/dev/null
dd --version | head -n 1
dd if=/tmp/a of="$DEV" bs=64k count=64 oflag=sync || fail "dd oflag=sync"
dd if=/tmp/b of="$DEV" bs=64k count=64 seek=128 conv=fsync || fail "dd conv=fsync"
hook lvols 8
check "the volume is thin and owns the clusters written"
# Written with O_DIRECT but no sync and no flush after it: a power cut must lose it (this is
# what shows that the base really drops unflushed writes, so the checks above mean something).
dd if=/dev/urandom of=/tmp/c bs=64k count=16 2>/dev/null
dd if=/tmp/c of="$DEV" bs=64k count=16 seek=320 oflag=direct || fail "dd oflag=direct"

stamp "== nvmfd killed (SIGKILL) on a base that loses unflushed writes, restarted"
hook restart
lp_wait_for "[ \"\$(cat /sys/class/nvme/nvme0/state)\" = live ]" 90 || fail "the controller did not come back"
check "reconnected: $(cat /sys/class/nvme/nvme0/state)"
dd if="$DEV" of=/tmp/a2 bs=64k count=64 iflag=direct 2>/dev/null || fail "read back region a"
dd if="$DEV" of=/tmp/b2 bs=64k count=64 skip=128 iflag=direct 2>/dev/null || fail "read back region b"
cmp -s /tmp/a /tmp/a2 || fail "oflag=sync data lost or changed across the power cut"
cmp -s /tmp/b /tmp/b2 || fail "conv=fsync data lost or changed across the power cut"
check "both regions read back identical after the restart (md5 $(md5sum < /tmp/a | cut -c1-8), $(md5sum < /tmp/b | cut -c1-8))"
dd if="$DEV" bs=64k count=16 skip=512 iflag=direct 2>/dev/null | md5sum > /tmp/z
dd if=/dev/zero bs=64k count=16 2>/dev/null | md5sum > /tmp/zz
cmp -s /tmp/z /tmp/zz || fail "a never-written region does not read as zeroes"
check "a never-written region reads as zeroes"
dd if="$DEV" of=/tmp/c2 bs=64k count=16 skip=320 iflag=direct 2>/dev/null || fail "read back region c"
dd if=/dev/zero of=/tmp/zc bs=64k count=16 2>/dev/null
cmp -s /tmp/c2 /tmp/zc || fail "the unflushed O_DIRECT write survived the simulated power cut: the test proves nothing"
check "the unflushed O_DIRECT write was lost, as at a power cut (its new cluster reads as zeroes)"
nvme disconnect -n "$NQN" || fail "disconnect"
echo "GUEST CHECKS PASSED"

#!/bin/sh
# Guest side of kernel_multipath.sh (busybox sh, tests/guest --mode netns): the kernel's native
# NVMe multipath against nvmfd listening on 10.77.1.1 (path 1, eth0) and 10.77.2.1 (path 2,
# eth1). $1 = subsystem NQN, $2 = port. ANA changes go to nvmfd over RPC through
# `lp-host hook ana PATH STATE [ANAGRPID]` (kernel_multipath.sh --hook, in the netns).
set -e
. /lp/lp-guest.sh
. /lprun/files/guest_paths.sh
NQN=$1
PORT=$2
HEAD=/dev/nvme0n1
SUBSYS=/sys/class/nvme-subsystem/nvme-subsys0
export LP_HOST_TIMEOUT=120
LOOP_PID=
cleanup() {
    if [ -n "$LOOP_PID" ]; then
        kill "$LOOP_PID" 2>/dev/null || true
    fi
}
trap cleanup EXIT
# target_sees CTRL...: nvmfd's controllers of NQN are exactly these (cntlid, I/O queue count)
target_sees() {
    l=""
    for c in "$@"; do
        l="$l $(cat /sys/class/nvme/$c/cntlid):$(( $(cat /sys/class/nvme/$c/queue_count) - 1 ))"
    done
    hook controllers $l
}

# --------------------------------------------------------------------- connect, topology
connect_paths "$NQN" "$PORT" 60
iface_of() {  # guest address -> interface
    ip -o -4 addr show | awk -v a="$1" '{ split($4, x, "/"); if (x[1] == a) print $2 }'
}
IF1=$(iface_of 10.77.1.2)
IF2=$(iface_of 10.77.2.2)
echo "path 1: $C1 ($P1, $IF1)   path 2: $C2 ($P2, $IF2)"
[ "$C1" != "$C2" ] && [ "$P1" != "$P2" ] || fail "paths 1 and 2 are not two controllers"
[ -n "$IF1" ] && [ -n "$IF2" ] || fail "guest interfaces of the two paths"
heads=$(ls /sys/block | grep -E '^nvme[0-9]+n[0-9]+$' | tr '\n' ' ')
[ "$heads" = "nvme0n1 " ] || fail "expected exactly one namespace head nvme0n1, found: $heads"
ctrls=$(ls -d "$SUBSYS"/nvme[0-9]* | grep -cE '/nvme[0-9]+$')
[ "$ctrls" -eq 2 ] && [ -e "$SUBSYS/$C1" ] && [ -e "$SUBSYS/$C2" ] ||
    fail "nvme-subsys0 should hold $C1 and $C2 (has $ctrls controllers)"
[ "$(cat "$SUBSYS/subsysnqn")" = "$NQN" ] || fail "subsysnqn $(cat "$SUBSYS/subsysnqn")"
for c in "$C1" "$C2"; do
    [ "$(cat /sys/class/nvme/$c/state)" = live ] || fail "$c is $(cat /sys/class/nvme/$c/state)"
done
[ "$(cat /sys/class/nvme/$C1/cntlid)" != "$(cat /sys/class/nvme/$C2/cntlid)" ] ||
    fail "both controllers have cntlid $(cat /sys/class/nvme/$C1/cntlid)"
for p in "$P1" "$P2"; do
    [ "$(cat /sys/block/$p/ana_grpid)" = 1 ] || fail "$p ana_grpid $(cat /sys/block/$p/ana_grpid), expected 1"
    [ "$(cat /sys/block/$p/ana_state)" = optimized ] || fail "$p ana_state $(cat /sys/block/$p/ana_state)"
done
nvme id-ctrl /dev/"$C1" > /tmp/idc
grep -E '^(cmic|oaes|anatt|anacap|anagrpmax|nanagrpid) ' /tmp/idc
grep -q '^cmic *: 0xb' /tmp/idc || fail "id-ctrl cmic: multi-controller + ANA reporting expected"
target_sees "$C1" "$C2"
check "two live controllers ($C1 cntlid $(cat /sys/class/nvme/$C1/cntlid), $C2 cntlid $(cat /sys/class/nvme/$C2/cntlid)), one head $HEAD, paths $P1 $P2 in ANA group 1, optimized"

# --------------------------------------------------------------------- ANA and where I/O goes
ana() { cat "/sys/block/$1/ana_state"; }
wait_ana() {  # PATHDEV KERNEL_STATE
    lp_wait_for "[ \"\$(cat /sys/block/$1/ana_state)\" = $2 ]" 20 ||
        fail "$1 ana_state is $(ana "$1") 20 s after the RPC, expected $2"
}
# set_ana PATH(1|2) RPC_STATE KERNEL_STATE [ANAGRPID]: RPC, then both paths' sysfs
set_ana() {
    stamp "RPC: listener 10.77.$1.1 -> $2${4:+ (group $4)}"
    hook ana "$1" "$2" $4
    if [ "$1" = 1 ]; then this=$P1 other=$P2; else this=$P2 other=$P1; fi
    wait_ana "$this" "$3"
    [ "$(ana "$other")" = optimized ] || fail "$other ana_state $(ana "$other") changed with the other path's ANA state"
    check "$this ana_state=$(ana "$this"), $other ana_state=$(ana "$other")"
}
sectors() { awk '{ print $3 + $7 }' "/sys/block/$1/stat"; }
nicbytes() {
    echo $(( $(cat /sys/class/net/$1/statistics/rx_bytes) + $(cat /sys/class/net/$1/statistics/tx_bytes) ))
}
MIB=8
# io_round OFFSET_MIB: 8 MiB O_DIRECT write through the head + read back + compare;
# sets D1 D2 (sectors moved per path device) and N1 N2 (bytes per path's NIC)
io_round() {
    dd if=/dev/urandom of=/tmp/pat bs=1M count=$MIB 2>/dev/null
    a1=$(sectors "$P1") a2=$(sectors "$P2") b1=$(nicbytes "$IF1") b2=$(nicbytes "$IF2")
    dd if=/tmp/pat of=$HEAD bs=1M seek="$1" oflag=direct 2>/tmp/dd.err || fail "write at $1 MiB: $(cat /tmp/dd.err)"
    dd if=$HEAD of=/tmp/rb bs=1M skip="$1" count=$MIB iflag=direct 2>/tmp/dd.err || fail "read at $1 MiB: $(cat /tmp/dd.err)"
    cmp -s /tmp/pat /tmp/rb || fail "$MIB MiB at $1 MiB read back differ"
    D1=$(( $(sectors "$P1") - a1 )) D2=$(( $(sectors "$P2") - a2 ))
    N1=$(( $(nicbytes "$IF1") - b1 )) N2=$(( $(nicbytes "$IF2") - b2 ))
    echo "   $MIB MiB written + read back identical; path 1: $D1 sectors, $N1 bytes on $IF1; path 2: $D2 sectors, $N2 bytes on $IF2"
}
IO_SECTORS=$((2 * MIB * 2048))
# only_on PATH(1|2) WHAT: the last io_round went entirely over that path
only_on() {
    if [ "$1" = 1 ]; then d=$D1 n=$N1 od=$D2 on=$N2; else d=$D2 n=$N2 od=$D1 on=$N1; fi
    [ "$od" -eq 0 ] || fail "$2: $od sectors went over the other path"
    [ "$on" -lt 1048576 ] || fail "$2: $on bytes went over the other path's network"
    [ "$d" -ge $IO_SECTORS ] || fail "$2: only $d of $IO_SECTORS sectors counted on path $1"
    [ "$n" -ge $((IO_SECTORS * 512)) ] || fail "$2: only $n bytes on path $1's network"
    check "$2: all I/O on path $1"
}
policy() { echo "$1" > "$SUBSYS/iopolicy"; [ "$(cat "$SUBSYS/iopolicy")" = "$1" ] || fail "iopolicy $1"; }

stamp "== both optimized, round-robin: I/O on both paths"
policy round-robin
io_round 0
[ "$D1" -gt 0 ] && [ "$D2" -gt 0 ] || fail "round-robin over two optimized paths used only one"
check "round-robin with both paths optimized uses both"

stamp "== path 1 inaccessible (all groups), path 2 optimized"
set_ana 1 inaccessible inaccessible
nvme ana-log /dev/"$C1" > /tmp/ana1
nvme ana-log /dev/"$C2" > /tmp/ana2
head -n 12 /tmp/ana1
grep -q inaccessible /tmp/ana1 || fail "nvme ana-log on $C1 does not show inaccessible"
grep -q inaccessible /tmp/ana2 && fail "nvme ana-log on $C2 shows inaccessible"
check "nvme ana-log: inaccessible on $C1 only"
policy numa
io_round 8
only_on 2 "numa, path 1 inaccessible"
policy round-robin
io_round 16
only_on 2 "round-robin, path 1 inaccessible"

stamp "== path 1 non-optimized"
set_ana 1 non_optimized non-optimized 1
io_round 24
only_on 2 "round-robin, path 1 non-optimized"

stamp "== path 1 persistent loss"
set_ana 1 persistent_loss persistent-loss 1
io_round 32
only_on 2 "round-robin, path 1 persistent loss"

stamp "== path 1 change (ANA transition; the kernel resets after 2 x ANATT, so back soon)"
set_ana 1 change change 1
set_ana 1 optimized optimized 1

stamp "== mirrored: path 2 inaccessible, path 1 optimized"
set_ana 2 inaccessible inaccessible 1
io_round 40
only_on 1 "round-robin, path 2 inaccessible"
set_ana 2 optimized optimized
io_round 48
[ "$D1" -gt 0 ] && [ "$D2" -gt 0 ] || fail "round-robin after restoring ANA used only one path"
check "both optimized again: round-robin uses both"
dmesg | grep -q "ANATT timeout" && fail "the kernel hit the ANATT timeout"
[ "$(cat /sys/class/nvme/$C1/state)" = live ] && [ "$(cat /sys/class/nvme/$C2/state)" = live ] ||
    fail "a controller left live during the ANA changes"

# --------------------------------------------------------------------- link cut during I/O
# Background loop: 256 KiB blocks of fresh random data, written through the head (round-robin
# over both paths), read back and compared, block slots cycling over the namespace; the md5 of
# each slot's last pattern is kept for a final read of everything.
SLOT_KIB=256
NSLOTS=256
rm -rf /tmp/slots /tmp/loop.stop /tmp/loop.fail
mkdir /tmp/slots
echo 0 > /tmp/loop.n
loop_io() {
    i=0
    while [ ! -e /tmp/loop.stop ]; do
        s=$((i % NSLOTS))
        dd if=/dev/urandom of=/tmp/lp.pat bs=${SLOT_KIB}k count=1 2>/dev/null
        if ! dd if=/tmp/lp.pat of=$HEAD bs=${SLOT_KIB}k seek=$s oflag=direct 2>/tmp/lp.err; then
            echo "write error in iteration $i: $(cat /tmp/lp.err)" > /tmp/loop.fail; return 1
        fi
        if ! dd if=$HEAD of=/tmp/lp.rb bs=${SLOT_KIB}k skip=$s count=1 iflag=direct 2>/tmp/lp.err; then
            echo "read error in iteration $i: $(cat /tmp/lp.err)" > /tmp/loop.fail; return 1
        fi
        m=$(md5sum < /tmp/lp.pat)
        if [ "$m" != "$(md5sum < /tmp/lp.rb)" ]; then
            echo "DATA ERROR in iteration $i (slot $s): read back differs from what was written" > /tmp/loop.fail
            return 1
        fi
        echo "$m" > /tmp/slots/$s
        i=$((i + 1))
        echo $i > /tmp/loop.n.new && mv /tmp/loop.n.new /tmp/loop.n
    done
    return 0
}
prog() { cat /tmp/loop.n; }
wait_prog() {  # N TIMEOUT WHAT: until the loop completed N iterations
    lp_wait_for "[ \$(cat /tmp/loop.n) -ge $1 ] || [ -e /tmp/loop.fail ]" "$2" || true
    if [ -e /tmp/loop.fail ]; then fail "verified loop: $(cat /tmp/loop.fail)"; fi
    [ "$(prog)" -ge "$1" ] || fail "verified loop stuck at iteration $(prog) ($3), wanted $1 within $2 s"
}
cstate() { cat "/sys/class/nvme/$1/state"; }

stamp "== verified write/read-back loop, round-robin over both paths"
loop_io &
LOOP_PID=$!
s1=$(sectors "$P1")
wait_prog 8 60 "both paths up"
[ "$(sectors "$P1")" -gt "$s1" ] || fail "the loop did not use path 1 before the cut"
check "loop running over both paths ($(prog) iterations)"

stamp "== lp-host link 1 down (host side of path 1 drops every packet)"
lp-host link 1 down || fail "lp-host link 1 down"
n0=$(prog)
lp_wait_for "[ \"\$(cat /sys/class/nvme/$C1/state)\" = connecting ]" 45 ||
    fail "$C1 is $(cstate "$C1") 45 s after the cut, expected connecting"
stamp "$C1 (path 1) is $(cstate "$C1") after iteration $(prog) (cut at $n0)"
n1=$(prog) s1=$(sectors "$P1") s2=$(sectors "$P2")
wait_prog $((n1 + 8)) 60 "path 1 down"
[ "$(cstate "$C1")" != live ] || fail "$C1 became live although path 1 is cut"
[ "$(sectors "$P1")" -eq "$s1" ] || fail "I/O counted on $P1 while path 1 was cut"
[ "$(sectors "$P2")" -gt "$s2" ] || fail "no I/O on $P2 while path 1 was cut"
[ "$(cstate "$C2")" = live ] || fail "$C2 (path 2) is $(cstate "$C2")"
check "with path 1 cut the loop went on over path 2 (iterations $n1..$(prog)), $C2 live"

stamp "== lp-host link 1 up"
lp-host link 1 up || fail "lp-host link 1 up"
lp_wait_for "[ \"\$(cat /sys/class/nvme/$C1/state)\" = live ]" 60 ||
    fail "$C1 is $(cstate "$C1") 60 s after path 1 came back, expected live"
stamp "$C1 (path 1) live again"
wait_ana "$P1" optimized
n2=$(prog) s1=$(sectors "$P1")
wait_prog $((n2 + 8)) 60 "path 1 restored"
[ "$(sectors "$P1")" -gt "$s1" ] || fail "restored path 1 carries no I/O"
target_sees "$C1" "$C2"
check "path 1 reconnected: $C1 live, $P1 ana_state $(ana "$P1"), carries I/O again"

touch /tmp/loop.stop
lrc=0
wait "$LOOP_PID" || lrc=$?
LOOP_PID=
if [ -e /tmp/loop.fail ]; then fail "verified loop: $(cat /tmp/loop.fail)"; fi
[ "$lrc" -eq 0 ] || fail "verified loop exited with $lrc"
n=$(prog)
check "verified loop: $n iterations of ${SLOT_KIB} KiB written and read back identical across the cut"

stamp "== every slot the loop wrote, read once more"
bad=0 cnt=0
for f in /tmp/slots/*; do
    s=${f##*/}
    m=$(dd if=$HEAD bs=${SLOT_KIB}k skip="$s" count=1 iflag=direct 2>/dev/null | md5sum)
    [ "$m" = "$(cat "$f")" ] || { echo "slot $s differs"; bad=$((bad + 1)); }
    cnt=$((cnt + 1))
done
[ "$bad" -eq 0 ] || fail "$bad of $cnt slots differ on the final read"
if dmesg | grep -E "I/O error, dev nvme0n1|Buffer I/O error"; then fail "I/O errors reached the head $HEAD"; fi
check "$cnt slots identical on the final read, no I/O error on $HEAD"
lp_nvme_paths
echo "--- guest kernel nvme messages (last 25) ---"
dmesg | grep -i nvme | tail -n 25

# --------------------------------------------------------------------- teardown
stamp "== disconnect"
nvme disconnect -n "$NQN" | tee /tmp/disc
grep -q "disconnected 2 controller" /tmp/disc || fail "nvme disconnect did not remove two controllers"
lp_wait_for "[ ! -e $HEAD ]" 30 || fail "$HEAD did not go away"
target_sees
hook alive
check "disconnected, nvmfd has no controller left and is still serving"
echo "ALL GUEST CHECKS PASSED"

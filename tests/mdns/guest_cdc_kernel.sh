#!/bin/sh
# Guest side of cdc_kernel_test.sh (busybox sh, tests/guest --mode netns): the kernel host
# (nvme-cli 2.3) uses only the CDC at $3:8009 to find and connect to T1 ($1, 10.78.0.1) and
# T2 ($2, 10.78.0.2); T2 is stopped through `lp-host hook stop-t2`.
set -e
. /lp/lp-guest.sh
NQN1=$1
NQN2=$2
CDC=$3
DISC=nqn.2014-08.org.nvmexpress.discovery
export LP_HOST_TIMEOUT=120
TRACE=/sys/kernel/tracing
stamp() { echo "[t=$(cut -d' ' -f1 /proc/uptime)s] $*"; }
check() { stamp "ok: $*"; }
fail() {
    echo "CHECK FAILED: $*"
    lp_nvme_paths || true
    lp-host hook cdc-state || true
    echo "--- guest kernel nvme messages (last 40) ---"
    dmesg | grep -i nvme | tail -n 40 || true
    exit 1
}
hook() { lp-host hook "$@" || fail "host-side step '$*' failed (see the host log)"; }

# entries FILE: one line per discovery log entry of `nvme discover` output:
# "SUBTYPE|TRADDR|TRSVCID|SUBNQN|EFLAGS", sorted
entries() {
    awk -F': *' '
        /^=====Discovery Log Entry/ { if (n) print e["subtype"] "|" e["traddr"] "|" e["trsvcid"] "|" e["subnqn"] "|" e["eflags"]; n = 1; delete e; next }
        n && NF >= 2 { k = $1; sub(/^ +/, "", k); v = $0; sub(/^[^:]*: */, "", v); sub(/ +$/, "", v); e[k] = v }
        END { if (n) print e["subtype"] "|" e["traddr"] "|" e["trsvcid"] "|" e["subnqn"] "|" e["eflags"] }' "$1" | sort
}
ctrl_of() {  # SUBNQN TRADDR -> nvmeX
    for c in /sys/class/nvme/nvme*; do
        [ "$(cat "$c/subsysnqn")" = "$1" ] || continue
        case ",$(cat "$c/address")," in *",traddr=$2,"*) echo "${c##*/}"; return 0 ;; esac
    done
    return 1
}
head_of() {  # SUBNQN -> the namespace's block device (multipath head nvmeYn1)
    for s in /sys/class/nvme-subsystem/nvme-subsys*; do
        [ "$(cat "$s/subsysnqn")" = "$1" ] || continue
        for b in "$s"/nvme*n1; do [ -e "$b" ] && { echo "/dev/${b##*/}"; return 0; }; done
    done
    return 1
}

stamp "== the targets are reachable through the netns (10.78.0.0/24 via $CDC)"
ip route add 10.78.0.0/24 via "$CDC" dev eth0 || fail "route to 10.78.0.0/24"
[ -d "$TRACE/events/nvme/nvme_async_event" ] || fail "no nvme_async_event trace event"
echo 1 > "$TRACE/events/nvme/nvme_async_event/enable"

stamp "== nvme discover against the CDC until it lists both targets (announced over mDNS)"
found=0
for i in $(seq 90); do
    if nvme discover -t tcp -a "$CDC" -s 8009 > /tmp/disc.txt 2>&1 &&
       grep -q "$NQN1" /tmp/disc.txt && grep -q "$NQN2" /tmp/disc.txt; then found=1; break; fi
    sleep 1
done
cat /tmp/disc.txt
[ "$found" = 1 ] || fail "the CDC never listed both targets' subsystems"
entries /tmp/disc.txt > /tmp/entries.txt
cat /tmp/entries.txt
cat > /tmp/want.txt <<EOF
current discovery subsystem|$CDC|8009|$DISC|explicit discovery connections, duplicate discovery information
nvme subsystem|10.78.0.1|4420|$NQN1|none
nvme subsystem|10.78.0.2|4420|$NQN2|none
EOF
sort /tmp/want.txt > /tmp/want.sorted
cmp -s /tmp/entries.txt /tmp/want.sorted ||
    { diff /tmp/want.sorted /tmp/entries.txt || true; fail "the CDC's log is not exactly itself + T1 + T2 (T1 has two sources: one entry)"; }
check "the CDC lists T1 at 10.78.0.1:4420 and T2 at 10.78.0.2:4420, once each, and itself (subtype 3)"

stamp "== a persistent discovery controller on the CDC"
nvme discover -t tcp -a "$CDC" -s 8009 --persistent > /dev/null || fail "nvme discover --persistent"
D=$(ctrl_of "$DISC" "$CDC") || fail "no persistent discovery controller"
lp_wait_for "[ \"\$(cat /sys/class/nvme/$D/state)\" = live ]" 20 || fail "$D is not live"
check "persistent discovery controller $D is live"

stamp "== nvme connect-all against the CDC"
nvme connect-all -t tcp -a "$CDC" -s 8009 || fail "nvme connect-all"
lp_wait_for "ctrl_of $NQN1 10.78.0.1 > /dev/null && ctrl_of $NQN2 10.78.0.2 > /dev/null" 30 ||
    fail "connect-all did not connect T1 and T2 directly"
C1=$(ctrl_of "$NQN1" 10.78.0.1)
C2=$(ctrl_of "$NQN2" 10.78.0.2)
lp_wait_for "head_of $NQN1 > /dev/null && head_of $NQN2 > /dev/null" 30 || fail "no namespaces of T1 and T2"
B1=$(head_of "$NQN1")
B2=$(head_of "$NQN2")
lp_nvme_paths
n=$(ls -d /sys/class/nvme/nvme* | wc -l)
[ "$n" -eq 3 ] || fail "expected 3 controllers (discovery, T1, T2), found $n"
check "connect-all: $C1 -> T1 ($B1), $C2 -> T2 ($B2), straight to the targets"

stamp "== verified I/O on both targets (O_DIRECT, 4 MiB each)"
for t in 1 2; do
    eval B=\$B$t
    dd if=/dev/urandom of=/tmp/pat$t bs=64k count=64 2>/dev/null
    dd if=/tmp/pat$t of="$B" bs=64k count=64 oflag=direct 2>/dev/null || fail "write to $B"
    dd if="$B" of=/tmp/back$t bs=64k count=64 iflag=direct 2>/dev/null || fail "read from $B"
    cmp -s /tmp/pat$t /tmp/back$t || fail "T$t ($B): data read back differs"
done
cmp -s /tmp/pat1 /tmp/pat2 && fail "the two patterns are the same"
check "T1 and T2 wrote and read back 4 MiB each, identical"

stamp "== T2 stops: the CDC drops its entry and sends the log change AEN"
echo > "$TRACE/trace"
hook stop-t2
aen=""
for i in $(seq 60); do
    aen=$(grep "nvme_async_event" "$TRACE/trace" | grep "$D: " | grep -i "NVME_AEN=0x0*70f002" || true)
    [ -n "$aen" ] && break
    sleep 0.5
done
cat "$TRACE/trace" | grep nvme_async_event || true
[ -n "$aen" ] || fail "no Discovery Log Page Change AEN (0x70f002) on $D"
check "AEN on the persistent discovery controller $D: $aen"
nvme discover -t tcp -a "$CDC" -s 8009 > /tmp/disc2.txt 2>&1 || fail "nvme discover after T2 stopped"
entries /tmp/disc2.txt > /tmp/entries2.txt
cat /tmp/entries2.txt
grep -v "$NQN2" /tmp/want.sorted > /tmp/want2.sorted
cmp -s /tmp/entries2.txt /tmp/want2.sorted ||
    { diff /tmp/want2.sorted /tmp/entries2.txt || true; fail "the CDC's log after T2 stopped"; }
check "T2's entry left the CDC's log; T1's is still there"
dd if="$B1" of=/tmp/again1 bs=64k count=64 iflag=direct 2>/dev/null || fail "read from $B1 after T2 stopped"
cmp -s /tmp/pat1 /tmp/again1 || fail "T1 data differs after T2 stopped"
check "T1 still serves its data"

stamp "== the CDC in referral mode: connect-all follows its referral to T1's discovery controller"
nvme disconnect -n "$NQN1" || fail "disconnect T1"
nvme disconnect -n "$NQN2" || fail "disconnect T2"
hook cdc-referral
cat > /tmp/want3.txt <<EOF
current discovery subsystem|$CDC|8009|$DISC|explicit discovery connections, duplicate discovery information
discovery subsystem referral|10.78.0.1|8009|$DISC|none
EOF
sort /tmp/want3.txt > /tmp/want3.sorted
nvme discover -t tcp -a "$CDC" -s 8009 > /tmp/disc3.txt 2>&1 || fail "nvme discover (referral mode)"
entries /tmp/disc3.txt > /tmp/entries3.txt
cat /tmp/entries3.txt
cmp -s /tmp/entries3.txt /tmp/want3.sorted ||
    { diff /tmp/want3.sorted /tmp/entries3.txt || true; fail "the CDC's log in referral mode"; }
check "the CDC lists itself and a referral to T1's discovery controller"
nvme connect-all -t tcp -a "$CDC" -s 8009 || fail "nvme connect-all (referral mode)"
lp_wait_for "ctrl_of $NQN1 10.78.0.1 > /dev/null && head_of $NQN1 > /dev/null" 30 ||
    fail "connect-all did not reach T1 through the referral"
B1=$(head_of "$NQN1")
dd if="$B1" of=/tmp/again1 bs=64k count=64 iflag=direct 2>/dev/null || fail "read from $B1 (referral mode)"
cmp -s /tmp/pat1 /tmp/again1 || fail "T1 data differs (referral mode)"
check "connect-all through the referral reached T1 ($B1), its data intact"

stamp "== disconnect"
nvme disconnect -n "$NQN1" || fail "disconnect T1"
# The discovery controllers: ours on the CDC, and the one nvme-cli kept on T1 (connect-all
# reusing a persistent discovery controller keeps the referrals' ones too).
for c in /sys/class/nvme/nvme*; do
    [ "$(cat "$c/subsysnqn")" = "$DISC" ] || continue
    nvme disconnect -d "${c##*/}" || fail "disconnect ${c##*/}"
done
lp_wait_for "[ -z \"\$(ls /sys/class/nvme 2>/dev/null)\" ]" 20 || fail "controllers left after disconnect"
check "every controller gone"
echo "GUEST CHECKS PASSED"

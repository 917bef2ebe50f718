#!/bin/sh
# Guest side of kernel_gateway_failover.sh (busybox sh, netns mode): the kernel's native NVMe
# multipath through a gateway group of two nvmfd on one RBD image, gateway a on 10.77.1.1
# (path 1), b on 10.77.2.1 (path 2). $1 = subsystem NQN, $2 = port. The host side is asked
# through `lp-host hook ACTION` (see kernel_gateway_failover.sh).
set -e
. /lp/lp-guest.sh
. /lprun/files/guest_paths.sh
NQN=$1
PORT=$2
HEAD=/dev/nvme0n1
export LP_HOST_TIMEOUT=300
LOOP_PID=
up() { cut -d' ' -f1 /proc/uptime; }
cleanup() {
    if [ -n "$LOOP_PID" ]; then kill "$LOOP_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

stamp "== waiting for the host side (Ceph, gateways a and b)"
hook ready
check "host side ready"

# --------------------------------------------------------------------- connect, topology
# A SIGKILLed gateway's connections are reset at once; the kernel keeps reconnecting every
# second for as long as ctrl-loss-tmo allows (the restart comes well within it).
connect_paths "$NQN" "$PORT" 600
heads=$(ls /sys/block | grep -E '^nvme[0-9]+n[0-9]+$' | tr '\n' ' ')
[ "$heads" = "nvme0n1 " ] || fail "expected one namespace head nvme0n1 (same NQN/serial/NGUID on both gateways), found: $heads"
ana() { cat "/sys/block/$1/ana_state"; }
cstate() { cat "/sys/class/nvme/$1/state"; }
wait_ana() {  # PATHDEV STATE TIMEOUT
    lp_wait_for "[ \"\$(cat /sys/block/$1/ana_state)\" = $2 ]" "$3" ||
        fail "$1 ana_state is $(ana "$1") after $3 s, expected $2"
}
wait_ana "$P1" optimized 10
wait_ana "$P2" non-optimized 10
nvme id-ctrl /dev/"$C1" | grep -E '^(cmic|oaes|anatt|vwc) '
check "paths: $C1/$P1 via gateway a $(ana "$P1"), $C2/$P2 via gateway b $(ana "$P2"), one head $HEAD"
lp-host hook owner-is 1 || fail "the host side does not say gateway a is the owner"

# --------------------------------------------------------------------- verified I/O loop
# Each iteration writes a fresh 64 KiB random block to its own slot (slot = iteration, never
# rewritten) with O_DIRECT, reads it back and compares; every 8 iterations a flush (fsync of
# the head: a FLUSH command, failed over like any I/O). /tmp/sums lists "slot md5" of every
# completed write; /tmp/flushed holds how many lines of it a completed flush covers. Each
# I/O's start and end time go to /tmp/io.log ("w|r|f START END").
BS_K=64
NSLOTS=$((256 * 1024 / BS_K))
rm -f /tmp/sums /tmp/io.log /tmp/loop.stop /tmp/loop.fail
: > /tmp/sums
: > /tmp/io.log
echo 0 > /tmp/flushed
echo 0 > /tmp/loop.n
timed() {  # KIND CMD...: runs CMD, logs KIND START END
    k=$1; shift
    t_s=$(up)
    "$@" || return 1
    echo "$k $t_s $(up)" >> /tmp/io.log
}
md5() { md5sum | cut -d' ' -f1; }
flush_head() { dd if=/dev/zero of=$HEAD bs=4k count=0 conv=notrunc,fsync 2>/tmp/fl.err; }
loop_io() {
    i=0
    while [ ! -e /tmp/loop.stop ]; do
        [ "$i" -lt "$NSLOTS" ] || { echo "ran out of slots" > /tmp/loop.fail; return 1; }
        dd if=/dev/urandom of=/tmp/lp.pat bs=${BS_K}k count=1 2>/dev/null
        if ! timed w dd if=/tmp/lp.pat of=$HEAD bs=${BS_K}k seek=$i oflag=direct conv=notrunc 2>/tmp/lp.err; then
            echo "write error in iteration $i: $(cat /tmp/lp.err)" > /tmp/loop.fail; return 1
        fi
        m=$(md5 < /tmp/lp.pat)
        echo "$i $m" >> /tmp/sums
        if ! timed r dd if=$HEAD of=/tmp/lp.rb bs=${BS_K}k skip=$i count=1 iflag=direct 2>/tmp/lp.err; then
            echo "read error in iteration $i: $(cat /tmp/lp.err)" > /tmp/loop.fail; return 1
        fi
        if [ "$m" != "$(md5 < /tmp/lp.rb)" ]; then
            echo "DATA ERROR in iteration $i: read back differs from what was written" > /tmp/loop.fail; return 1
        fi
        i=$((i + 1))
        if [ $((i % 8)) -eq 0 ]; then
            if ! timed f flush_head; then
                echo "flush error after iteration $i: $(cat /tmp/fl.err)" > /tmp/loop.fail; return 1
            fi
            echo "$i" > /tmp/flushed.new && mv /tmp/flushed.new /tmp/flushed
        fi
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
sectors() { awk '{ print $3 + $7 }' "/sys/block/$1/stat"; }
# flushes completed over both paths (the head device keeps no statistics)
flushes() { cat "/sys/block/$P1/stat" "/sys/block/$P2/stat" | awk '{ n += $16 } END { print n }'; }

stamp "== verified write/read-back loop (flushes when a volatile write cache is reported)"
f0=$(flushes)
loop_io &
LOOP_PID=$!
wait_prog 16 120 "before the kill"
s1=$(sectors "$P1") s2=$(sectors "$P2")
wait_prog $(( $(prog) + 8 )) 60 "before the kill"
[ "$(sectors "$P1")" -gt "$s1" ] || fail "the loop does not use the optimized path 1"
[ "$(sectors "$P2")" -eq "$s2" ] || fail "the loop used the non-optimized path 2 while path 1 was optimized"
# A gateway group's images run without librbd's cache (docs/gateway.md): the namespace reports
# no volatile write cache, Linux sends no flush, and every completed write is durable.
wcache=$(cat "/sys/block/${HEAD#/dev/}/queue/write_cache")
if [ "$wcache" = "write back" ]; then
    [ "$(flushes)" -gt "$f0" ] || fail "no flush reached $HEAD although it reports a volatile write cache"
else
    check "no volatile write cache ($wcache): every completed write must read back"
fi
check "loop running through gateway a only ($(prog) iterations, $(( $(flushes) - f0 )) flushes)"

# --------------------------------------------------------------------- kill the owner
stamp "== SIGKILL of the optimized gateway a"
n_kill=$(prog)
f_kill=$(cat /tmp/flushed)
# Without a volatile write cache a completed write is as good as flushed.
[ "$wcache" = "write back" ] || f_kill=$n_kill
t_kill=$(up)
hook kill-owner
t_hook=$(up)
stamp "killed (hook returned after $(awk -v a="$t_kill" -v b="$t_hook" 'BEGIN { printf "%.2f", b - a }') s, at iteration $n_kill)"
lp_wait_for "[ \"\$(cat /sys/class/nvme/$C1/state)\" != live ]" 30 ||
    fail "$C1 still live 30 s after its gateway was killed"
stamp "$C1 (path 1) is $(cstate "$C1")"
hook wait-state 2 optimized 30
wait_ana "$P2" optimized 30
stamp "$P2 (gateway b) ana_state $(ana "$P2")"
wait_prog $(( $(prog) + 16 )) 120 "after the kill"
s1=$(sectors "$P1") s2=$(sectors "$P2")
wait_prog $(( $(prog) + 8 )) 60 "after the kill"
[ "$(sectors "$P2")" -gt "$s2" ] || fail "no I/O on path 2 after the kill"
[ "$(cstate "$C2")" = live ] || fail "$C2 (path 2) is $(cstate "$C2")"
# Failover times, from the kill request: to the first I/O that started after the kill (after
# the hook returned) completing, to the first such write completing (a read may be served by
# b before b owns the image's lock); and the longest time without any I/O completing.
first_after() {  # KINDS
    awk -v t="$t_kill" -v h="$t_hook" -v k="$1" 'index(k, $1) && $2 >= h { if (e == "" || $3 < e) e = $3 }
        END { if (e == "") print "none"; else printf "%.2f", e - t }' /tmp/io.log
}
gap=$(awk -v t="$t_kill" '{ if (p != "" && $3 >= t && $3 - p > g) g = $3 - p; p = $3 } END { printf "%.2f", g }' /tmp/io.log)
echo "FAILOVER (kernel host, guest clock): first I/O after the kill completed after $(first_after wrf) s, first write after $(first_after w) s; longest gap between completions $gap s"
check "I/O carried on through gateway b (iterations $n_kill..$(prog)), $P2 optimized"

# --------------------------------------------------------------------- restart
stamp "== restart of gateway a"
hook restart
lp_wait_for "[ \"\$(cat /sys/class/nvme/$C1/state)\" = live ]" 60 ||
    fail "$C1 is $(cstate "$C1") 60 s after gateway a restarted, expected live"
stamp "$C1 (path 1) live again"
wait_ana "$P1" non-optimized 20
hook wait-state 1 non_optimized 5
sleep 6   # more than a lease: a must not take the group back (no failback)
[ "$(ana "$P2")" = optimized ] || fail "$P2 is $(ana "$P2") after a came back"
[ "$(ana "$P1")" = non-optimized ] || fail "$P1 is $(ana "$P1") after a came back"
hook report
lp-host hook owner-is 2 || fail "gateway b does not show ANA group 1 optimized after a came back"
lp-host hook owner-is 1 && fail "gateway a shows ANA group 1 optimized too"
s1=$(sectors "$P1") s2=$(sectors "$P2")
wait_prog $(( $(prog) + 8 )) 60 "after the restart"
[ "$(sectors "$P2")" -gt "$s2" ] || fail "no I/O on the optimized path 2 after the restart"
check "gateway a rejoined: $P1 $(ana "$P1"), $P2 $(ana "$P2"), I/O on path 2"

touch /tmp/loop.stop
lrc=0
wait "$LOOP_PID" || lrc=$?
LOOP_PID=
if [ -e /tmp/loop.fail ]; then fail "verified loop: $(cat /tmp/loop.fail)"; fi
[ "$lrc" -eq 0 ] || fail "verified loop exited with $lrc"
flush_head || fail "final flush"
check "verified loop: $(prog) blocks of $BS_K KiB written and read back identical, no I/O error"

# --------------------------------------------------------------------- read everything back
stamp "== every block read back once more"
# A block that differs is classified: covered by a flush that completed before the kill (the
# gateways lost acknowledged, flushed data), written through the killed gateway and covered
# only by a flush that completed after the kill through the other gateway (that flush did
# not reach the killed gateway's cache), or written after the kill.
bad=0 cnt=0
while read -r s m; do
    r=$(dd if=$HEAD bs=${BS_K}k skip="$s" count=1 iflag=direct 2>/dev/null | md5)
    if [ "$r" != "$m" ]; then
        bad=$((bad + 1))
        if [ "$s" -lt "$f_kill" ]; then echo "block $s differs: covered by a flush completed before the kill"
        elif [ "$s" -le "$n_kill" ]; then echo "block $s differs: written before the kill, flushed only after it"
        else echo "block $s differs: written after the kill"; fi
    fi
    cnt=$((cnt + 1))
done < /tmp/sums
[ "$bad" -eq 0 ] || fail "$bad of $cnt blocks differ on the final read ($f_kill were flushed before the kill at block $n_kill)"
if dmesg | grep -E "I/O error, dev nvme0n1|Buffer I/O error"; then fail "I/O errors reached the head $HEAD"; fi
check "$cnt blocks identical on the final read ($f_kill flushed before the kill at block $n_kill, all after the final flush)"
lp_nvme_paths
echo "--- guest kernel nvme messages (last 25) ---"
dmesg | grep -i nvme | tail -n 25

stamp "== disconnect, stop the host side"
nvme disconnect -n "$NQN" || fail "nvme disconnect"
hook stop
echo "ALL GUEST CHECKS PASSED"

#!/bin/sh
# Guest side of kernel_discovery.sh (busybox sh, tests/guest --mode netns): nvmet on the
# guest's 10.77.1.2, ports 1 (4420) and 2 (4421); nvmfd's discovery service on the host side
# follows it. Each change is followed by `lp-host hook` checks of nvmfd's bdevs.
set -e
. /lp/lp-guest.sh
export LP_HOST_TIMEOUT=120
P=nqn.2016-06.io.nvmfd:kd
stamp() { echo "[t=$(cut -d' ' -f1 /proc/uptime)s] $*"; }
check() { stamp "ok: $*"; }
fail() { echo "CHECK FAILED: $*"; exit 1; }
hook() { lp-host hook "$@" || fail "host-side check '$*' failed (see the host log)"; }
subsys() {  # NAME: a subsystem with a 8 MiB namespace
    nvmet_subsys "$P-$1"
    nvmet_ns "$P-$1" 1 "$(lp_backing_file "$1" 8)"
}

stamp "== nvmet: $P-a on port 1 (10.77.1.2:4420)"
subsys a; subsys b; subsys c; subsys d
nvmet_port 1 10.77.1.2 4420
nvmet_port 2 10.77.1.2 4421
nvmet_link 1 "$P-a"
nvmet_link 2 "$P-c"
lp_wait_for "netstat -ltn | grep -q ':4420 '" 10 || fail "nvmet does not listen on 4420"

hook start
hook bdevs kd0n1
hook subsystems "$P-a=kd0"
check "discovery service attached $P-a as kd0"

stamp "== $P-b linked to port 1: nvmet's change AEN"
nvmet_link 1 "$P-b"
hook bdevs kd0n1 kd1n1
hook subsystems "$P-a=kd0" "$P-b=kd1"
check "$P-b attached as kd1 after the AEN"

stamp "== a referral on port 1 to port 2"
r="$NVMET/ports/1/referrals/two"
mkdir -p "$r"
echo tcp > "$r/addr_trtype"; echo ipv4 > "$r/addr_adrfam"
echo 10.77.1.2 > "$r/addr_traddr"; echo 4421 > "$r/addr_trsvcid"
echo 1 > "$r/enable"
hook bdevs kd0n1 kd1n1 kd2n1
hook subsystems "$P-a=kd0" "$P-b=kd1" "$P-c=kd2"
check "the referral was followed: $P-c (port 2) attached as kd2"
nvmet_link 2 "$P-d"
hook bdevs kd0n1 kd1n1 kd2n1 kd3n1
hook subsystems "$P-a=kd0" "$P-b=kd1" "$P-c=kd2" "$P-d=kd3"
check "$P-d linked to port 2 came in through the referral's own AEN (kd3)"

stamp "== $P-b unlinked from port 1"
rm "$NVMET/ports/1/subsystems/$P-b"
hook bdevs kd0n1 kd2n1 kd3n1
check "$P-b detached"

hook stop
hook bdevs
check "stop_discovery: nothing left"
echo "GUEST CHECKS PASSED"

#!/bin/sh
# Guest side of kernel_target.sh (busybox sh): the Linux kernel's nvmet serves our host.
# $1 = pattern seed, $2 = second host port forwarded to 4420 (a referral target),
# $3 = a host port where nothing listens (a dead referral). /host is the shared directory.
# The host-side checks run through `lp-host hook ACTION ...` (kernel_target.sh --hook).
set -e
. /lp/lp-guest.sh
SEED=$1
FWD2=$2
DEAD=$3
NQN=nqn.2016-06.io.nvmfd:kernel-target
CLOSED=nqn.2016-06.io.nvmfd:kernel-closed
MIB=8
export LP_HOST_TIMEOUT=900
fail() { echo "CHECK FAILED: $*"; exit 1; }
check() { echo "ok: $*"; }
stamp() { echo "[t=$(cut -d' ' -f1 /proc/uptime)s] $*"; }
hook() {
    stamp "host: $*"
    lp-host hook "$@" || fail "host-side check '$*' failed (see the host log above the guest output)"
    stamp "host: $* done"
}

stamp "== nvmet: $NQN (64 MiB file), $CLOSED (no hosts allowed), port 1 on 0.0.0.0:4420"
backing=$(lp_backing_file kt 64)
nvmet_subsys "$NQN" "nvmfd kernel target" "NVMFDKT0001"
nvmet_ns "$NQN" 1 "$backing"
nvmet_subsys "$CLOSED"
echo 0 > "$NVMET/subsystems/$CLOSED/attr_allow_any_host"
nvmet_ns "$CLOSED" 1 "$(lp_backing_file kc 8)"
nvmet_port 1 0.0.0.0 4420
nvmet_link 1 "$NQN"
nvmet_link 1 "$CLOSED"
referral() {  # NAME PORT: a referral to 127.0.0.1:PORT (as the host sees it)
    r="$NVMET/ports/1/referrals/$1"
    mkdir -p "$r"
    echo tcp > "$r/addr_trtype"
    echo ipv4 > "$r/addr_adrfam"
    echo 127.0.0.1 > "$r/addr_traddr"
    echo "$2" > "$r/addr_trsvcid"
    echo 1 > "$r/enable"
}
referral second "$FWD2"
referral dead "$DEAD"
lp_wait_for "netstat -ltn | grep -q ':4420 '" 10 || fail "nvmet does not listen on 4420"

stamp "== nvme-cli's view (the references for nvmfctl's output)"
addr=$(ip -4 -o addr show eth0 | sed -n 's/.* inet \([0-9.]*\).*/\1/p')
nvme discover -t tcp -a "$addr" -s 4420 -o json > /host/nvme-discover.json
nvme discover -t tcp -a "$addr" -s 4420 > /host/nvme-discover.txt
cat /host/nvme-discover.json
grep -q "\"subnqn\":\"$NQN\"" /host/nvme-discover.json || fail "nvme-cli does not list $NQN"
nvme connect -t tcp -a "$addr" -s 4420 -n "$NQN"
lp_wait_for "[ -b /dev/nvme0n1 ]" 30 || fail "/dev/nvme0n1 did not appear"
nvme id-ctrl /dev/nvme0 -o json > /host/nvme-id-ctrl.json
nvme id-ctrl /dev/nvme0 > /host/nvme-id-ctrl.txt
nvme id-ns /dev/nvme0n1 -o json > /host/nvme-id-ns.json
nvme id-ns /dev/nvme0n1 > /host/nvme-id-ns.txt
nvme disconnect -n "$NQN" | grep -q "disconnected 1 controller" || fail "nvme disconnect"
lp_wait_for "[ ! -e /dev/nvme0n1 ]" 30 || fail "/dev/nvme0n1 did not go away"
check "nvme-cli references captured"

hook discover "$NQN"
check "nvmfctl discover output identical to nvme discover (normal and json)"
hook referrals "$NQN"
check "referrals followed (one answers, one is dead), no loop"
hook identify "$NQN"
check "nvmfctl identify output identical to nvme id-ctrl / id-ns (normal and json, cntlid aside)"
hook errors "$CLOSED"
check "unknown NQN, refused host and no listener: one-line errors, exit 1"
hook io plain "$SEED" 0 "$MIB"
check "our host: ${MIB} MiB verified, digests off"
hook io digests "$((SEED + 1))" "$MIB" "$MIB"
check "our host: ${MIB} MiB verified, header and data digests on"

stamp "== what landed in the backing file"
region_md5() { dd if="$backing" bs=1M skip="$1" count="$2" 2>/dev/null | md5sum | cut -d' ' -f1; }
[ "$(region_md5 0 $MIB)" = "$(cat /host/expected-plain.md5)" ] || fail "backing file [0, ${MIB} MiB) differs"
[ "$(region_md5 $MIB $MIB)" = "$(cat /host/expected-digests.md5)" ] || fail "backing file [${MIB}, $((2 * MIB)) MiB) differs"
zero=$(dd if=/dev/zero bs=1M count=$MIB 2>/dev/null | md5sum | cut -d' ' -f1)
[ "$(region_md5 $((2 * MIB)) $MIB)" = "$zero" ] || fail "the host wrote past its region"
check "backing file holds both patterns (md5 equal) and nothing past them"

stamp "== namespace changes while nvmfd's host side is attached"
hook ns-attach "$NQN"
# Namespace 1 grows while disabled (6.1's nvmet has no revalidate attribute): disabling
# and enabling it each send Namespace Attribute Changed.
ns1="$NVMET/subsystems/$NQN/namespaces/1"
echo 0 > "$ns1/enable" || fail "nvmet: disable namespace 1"
truncate -s 96M "$backing"
echo 1 > "$ns1/enable" || fail "nvmet: enable namespace 1"
nvmet_ns "$NQN" 2 "$(lp_backing_file kn2 16)" || fail "nvmet namespace 2"
hook ns-check 96 16
check "nvmfd's host followed nvmet's events: namespace 1 grown to 96 MiB, namespace 2 a new bdev"
stamp "ALL GUEST CHECKS PASSED"

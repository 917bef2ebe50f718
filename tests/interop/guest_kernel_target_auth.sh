#!/bin/sh
# Guest side of kernel_target_auth.sh (busybox sh, Debian's 6.12 kernel): the Linux kernel's
# nvmet requires DH-HMAC-CHAP of our host. $1 = our host's NQN; the secrets are in /host
# (key0, ckey0, wrong). The host-side checks run through `lp-host hook ACTION ...` (its
# arguments are single words: "+" stands for a space).
set -e
. /lp/lp-guest.sh
HOST=$1
NQN=nqn.2016-06.io.nvmfd:kernel-auth
export LP_HOST_TIMEOUT=600
fail() { echo "CHECK FAILED: $*"; exit 1; }
check() { echo "ok: $*"; }
stamp() { echo "[t=$(cut -d' ' -f1 /proc/uptime)s] $*"; }
hook() {
    stamp "host: $*"
    lp-host hook "$@" || fail "host-side check '$*' failed (see the host log above the guest output)"
}
# nvmet's per-host settings: HASH (hmac(sha256) ...), DH group, controller key or "".
host_auth() {
    h="$NVMET/hosts/$HOST"
    echo "$1" > "$h/dhchap_hash"
    echo "$2" > "$h/dhchap_dhgroup"
    printf '%s' "$3" > "$h/dhchap_ctrl_key"
    stamp "nvmet host $HOST: hash $(cat "$h/dhchap_hash"), group $(cat "$h/dhchap_dhgroup"), ctrl key ${3:+set}"
}

[ -d /sys/module/nvme_auth ] || modprobe nvme_auth || fail "no nvme_auth module in kernel $(uname -r)"
stamp "== nvmet: $NQN requires host $HOST with a DH-HMAC-CHAP key; port 1 on 0.0.0.0:4420"
nvmet_subsys "$NQN" "nvmfd auth target" "NVMFDAUTH001"
echo 0 > "$NVMET/subsystems/$NQN/attr_allow_any_host"
nvmet_ns "$NQN" 1 "$(lp_backing_file ka 32)"
mkdir -p "$NVMET/hosts/$HOST"
cat /host/key0 > "$NVMET/hosts/$HOST/dhchap_key"
ln -s "$NVMET/hosts/$HOST" "$NVMET/subsystems/$NQN/allowed_hosts/$HOST"
nvmet_port 1 0.0.0.0 4420
nvmet_link 1 "$NQN"
lp_wait_for "netstat -ltn | grep -q ':4420 '" 10 || fail "nvmet does not listen on 4420"

host_auth "hmac(sha384)" null ""
hook io uni
check "unidirectional (sha384, null group): connected, 4 MiB verified on every queue"
hook refused no-key "requires+DH-HMAC-CHAP+authentication"
check "no key where nvmet requires one: a clear error"
hook refused wrong-key "DH-HMAC-CHAP+on+qid+0+failed" -S wrong
check "wrong host key: refused by nvmet"

host_auth "hmac(sha512)" ffdhe2048 "$(cat /host/ckey0)"
hook io bi
check "bidirectional (sha512, ffdhe2048): connected, 4 MiB verified on every queue"
hook refused wrong-ctrl-key "does+not+match" -S key0 -C wrong
check "wrong controller key: detected by our host"

host_auth "hmac(sha256)" ffdhe3072 "$(cat /host/ckey0)"
hook daemon-attach
check "nvmfd attached with keyring keys (sha256, ffdhe3072, bidirectional)"
stamp "== cutting the connection: the port stops offering the subsystem, then offers it again"
rm "$NVMET/ports/1/subsystems/$NQN"
hook daemon-lost
nvmet_link 1 "$NQN"
hook daemon-reconnected
check "nvmfd reconnected and authenticated again"

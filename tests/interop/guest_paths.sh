# Guest helpers (busybox sh, sourced) for tests of the kernel's native multipath over the
# harness's two netns paths (path 1: 10.77.1.1, path 2: 10.77.2.1): run-guest --add
# tests/interop/guest_paths.sh, then . /lprun/files/guest_paths.sh (after /lp/lp-guest.sh).
#   stamp MSG, check MSG    MSG after the guest's uptime (check: "ok: MSG")
#   fail MSG                "CHECK FAILED: MSG", the paths, the kernel's nvme messages; exit 1
#   hook ARGS...            lp-host hook ARGS; fail unless the host side succeeded
#   connect_paths NQN PORT CTRL_LOSS_TMO
#                           nvme connect over both paths (keep-alive 5 s, reconnect every 1 s);
#                           waits for the one head /dev/nvme0n1 with two path devices; sets
#                           C1 C2 (controllers nvmeX) and P1 P2 (path devices nvme0cYn1)
#   ctrl_at TRADDR          the controller connected to TRADDR
#   path_of CTRL            its path device

stamp() { echo "[t=$(cut -d' ' -f1 /proc/uptime)s] $*"; }
check() { stamp "ok: $*"; }
fail() {
    echo "CHECK FAILED: $*"
    lp_nvme_paths || true
    echo "--- guest kernel nvme messages (last 40) ---"
    dmesg | grep -i nvme | tail -n 40 || true
    exit 1
}
hook() {
    lp-host hook "$@" || fail "host-side step '$*' failed (see the host log)"
}

ctrl_at() {
    for _c in /sys/class/nvme/nvme*; do
        case ",$(cat "$_c/address")," in *",traddr=$1,"*) echo "${_c##*/}"; return 0 ;; esac
    done
    return 1
}
path_of() {
    for _p in /sys/class/nvme/$1/nvme0c*n1; do
        [ -e "$_p" ] && { echo "${_p##*/}"; return 0; }
    done
    return 1
}

connect_paths() {
    stamp "== nvme connect over path 1 (10.77.1.1) and path 2 (10.77.2.1)"
    _opts="-t tcp -s $2 -n $1 --keep-alive-tmo=5 --reconnect-delay=1 --ctrl-loss-tmo=$3"
    nvme connect -a 10.77.1.1 $_opts || fail "nvme connect over path 1"
    nvme connect -a 10.77.2.1 $_opts || fail "nvme connect over path 2"
    lp_wait_for "[ -b /dev/nvme0n1 ] && [ \$(ls -d /sys/block/nvme0c*n1 | wc -l) -eq 2 ]" 30 ||
        fail "no multipath head /dev/nvme0n1 with two path devices"
    nvme list-subsys
    lp_nvme_paths
    C1=$(ctrl_at 10.77.1.1) || fail "no controller for path 1"
    C2=$(ctrl_at 10.77.2.1) || fail "no controller for path 2"
    P1=$(path_of "$C1") || fail "controller $C1 has no path device"
    P2=$(path_of "$C2") || fail "controller $C2 has no path device"
}

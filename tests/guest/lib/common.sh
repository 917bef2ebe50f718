# shellcheck shell=bash
# nvmfd-guest: shared host-side helpers (sourced by run-guest, setup, netns-up, netns-down, path).
# Nothing here hard-codes a machine path: everything is derived from this file's location,
# $LP_CACHE_DIR (default ${XDG_CACHE_HOME:-$HOME/.cache}/nvmfd-guest) and $TMPDIR.

LP_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LP_DIR="$(dirname "$LP_LIB_DIR")"
LP_CACHE_DIR="${LP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nvmfd-guest}"

# Debian meta package used to pick the guest kernel (override with LP_KERNEL_PKG=linux-image-X).
LP_KERNEL_META="${LP_KERNEL_META:-linux-image-amd64}"
# Guest busybox: the dynamic Debian "busybox" package (downloaded, not installed). Not
# busybox-static: its ash always prefers built-in applets over $PATH, which would hide the
# real iproute2 ip/tc copied into the guest.
LP_BUSYBOX_PKG="${LP_BUSYBOX_PKG:-busybox}"
# Host packages installed with apt-get (skipped when already installed).
LP_HOST_PKGS="${LP_HOST_PKGS:-qemu-system-x86 nvme-cli cpio iproute2 kmod zstd xz-utils socat util-linux}"
# Host binaries copied into the guest together with their shared libraries (ldd).
LP_GUEST_BINS="${LP_GUEST_BINS:-/usr/sbin/nvme /usr/bin/ip /usr/bin/ss /usr/sbin/tc}"
# Kernel modules put in the initramfs (dependencies and softdeps resolved automatically).
LP_MODULES="${LP_MODULES:-configfs virtio_pci virtio_net nvme_core nvme_fabrics nvme_tcp nvmet nvmet_tcp null_blk loop crc32c_generic crc32c_intel 9pnet_virtio 9p sch_netem}"
# Host files copied into the guest as they are, at the same path (for what ldd cannot see:
# dlopen()ed plug-ins, their configuration). A shared object brings its ldd libraries along.
LP_GUEST_FILES="${LP_GUEST_FILES:-}"
# Address plan for netns mode: path i uses ${LP_SUBNET_PREFIX}.i.0/24, host .1, guest .2.
LP_SUBNET_PREFIX="${LP_SUBNET_PREFIX:-10.77}"
LP_TAP_PREFIX="${LP_TAP_PREFIX:-lptap}"

lp_log() { echo "[nvmfd-guest] $*" >&2; }
lp_die() { echo "[nvmfd-guest] ERROR: $*" >&2; exit 125; }
lp_now() { date +%s.%N; }
lp_elapsed() { awk -v a="$1" -v b="$(lp_now)" 'BEGIN{printf "%.2f", b-a}'; }

lp_is_root() { [ "$(id -u)" = 0 ]; }

# ---------------------------------------------------------------- packages
lp_pkg_installed() {
    dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

LP__APT_UPDATED=0
lp_apt_update() {
    [ "$LP__APT_UPDATED" = 1 ] && return 0
    lp_is_root || { lp_log "not root: skipping apt-get update"; return 1; }
    lp_log "apt-get update"
    apt-get -q update -o DPkg::Lock::Timeout=600 >&2 || return 1
    LP__APT_UPDATED=1
}

lp_apt_lists_present() {
    compgen -G "/var/lib/apt/lists/*_Packages*" >/dev/null
}

lp_ensure_host_pkgs() {
    local missing=() p
    for p in $LP_HOST_PKGS; do lp_pkg_installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    lp_is_root || lp_die "missing host packages: ${missing[*]} (as root: apt-get install --no-install-recommends ${missing[*]})"
    lp_log "installing host packages: ${missing[*]}"
    lp_apt_lists_present || lp_apt_update || true
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            -o DPkg::Lock::Timeout=600 "${missing[@]}" >&2; then
        lp_apt_update || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            -o DPkg::Lock::Timeout=600 "${missing[@]}" >&2 || lp_die "apt-get install failed"
    fi
}

# Download (not install) a Debian package into $LP_CACHE_DIR/debs; prints the .deb path.
# Used for the guest kernel and busybox-static: nothing is installed on the host for them.
lp_download_deb() {
    local pkg="$1" ver f
    mkdir -p "$LP_CACHE_DIR/debs"
    ver="$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '/^Version:/ && !f { f = $2 } END { print f }')"
    if [ -z "$ver" ]; then
        lp_apt_update >/dev/null 2>&1 || true
        ver="$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | awk '/^Version:/ && !f { f = $2 } END { print f }')"
    fi
    [ -n "$ver" ] || return 1
    # Debian file names encode ':' (epoch) as %3a
    f="$(ls "$LP_CACHE_DIR/debs/${pkg}_${ver/:/%3a}_"*.deb 2>/dev/null | head -n1 || true)"
    if [ -z "$f" ]; then
        lp_log "downloading $pkg=$ver"
        (cd "$LP_CACHE_DIR/debs" && apt-get -q download -o APT::Sandbox::User=root -o DPkg::Lock::Timeout=600 "$pkg=$ver" >&2) || return 1
        f="$(ls "$LP_CACHE_DIR/debs/${pkg}_${ver/:/%3a}_"*.deb 2>/dev/null | head -n1 || true)"
    fi
    [ -n "$f" ] && echo "$f"
}

lp_resolve_kernel_pkg() {
    if [ -n "${LP_KERNEL_PKG:-}" ]; then echo "$LP_KERNEL_PKG"; return; fi
    local p
    p="$(apt-cache depends "$LP_KERNEL_META" 2>/dev/null | awk '/Depends: linux-image-/ && !f { f = $2 } END { print f }')"
    if [ -z "$p" ]; then
        lp_apt_update >/dev/null 2>&1 || true
        p="$(apt-cache depends "$LP_KERNEL_META" 2>/dev/null | awk '/Depends: linux-image-/ && !f { f = $2 } END { print f }')"
    fi
    [ -n "$p" ] && echo "$p"
}

# Pin the guest kernel and busybox .debs in $LP_CACHE_DIR/pkgs.lock (re-resolved with LP_REFRESH=1).
lp_ensure_debs() {
    local lock="$LP_CACHE_DIR/pkgs.lock" kpkg kdeb bdeb
    if [ "${LP_REFRESH:-0}" != 1 ] && [ -f "$lock" ]; then
        LP_KERNEL_DEB="$LP_CACHE_DIR/debs/$(awk '$1=="kernel"{print $2}' "$lock")"
        LP_BUSYBOX_DEB="$LP_CACHE_DIR/debs/$(awk '$1=="busybox"{print $2}' "$lock")"
        if [ -f "$LP_KERNEL_DEB" ] && [ -f "$LP_BUSYBOX_DEB" ] && \
           [[ "$(basename "$LP_BUSYBOX_DEB")" == "${LP_BUSYBOX_PKG}_"* ]] && \
           { [ -z "${LP_KERNEL_PKG:-}" ] || [[ "$(basename "$LP_KERNEL_DEB")" == "${LP_KERNEL_PKG}_"* ]]; }; then
            return 0
        fi
    fi
    [ "${LP_REFRESH:-0}" = 1 ] && lp_apt_update || true
    kpkg="$(lp_resolve_kernel_pkg)" || true
    [ -n "$kpkg" ] || lp_die "cannot resolve the kernel package behind $LP_KERNEL_META (apt-get update?)"
    kdeb="$(lp_download_deb "$kpkg")" || lp_die "cannot download $kpkg"
    bdeb="$(lp_download_deb "$LP_BUSYBOX_PKG")" || lp_die "cannot download $LP_BUSYBOX_PKG"
    printf 'kernel %s\nbusybox %s\n' "$(basename "$kdeb")" "$(basename "$bdeb")" > "$lock.tmp"
    mv "$lock.tmp" "$lock"
    LP_KERNEL_DEB="$kdeb"
    LP_BUSYBOX_DEB="$bdeb"
}

# ---------------------------------------------------------------- initramfs
lp_bin_and_libs() {  # prints a binary and the shared objects it needs (absolute paths)
    local b="$1"
    echo "$b"
    ldd "$b" 2>/dev/null | awk '$2=="=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
}

lp_inputs_hash() {
    {
        echo "v1"
        echo "kernel $(basename "$LP_KERNEL_DEB") $(stat -c %s "$LP_KERNEL_DEB")"
        echo "busybox $(basename "$LP_BUSYBOX_DEB") $(stat -c %s "$LP_BUSYBOX_DEB")"
        echo "modules $LP_MODULES"
        echo "bins $LP_GUEST_BINS"
        [ -z "$LP_GUEST_FILES" ] || echo "files $LP_GUEST_FILES"
        cat "$LP_LIB_DIR/build-initramfs.sh" "$LP_LIB_DIR/guest-init" "$LP_LIB_DIR/lp-host" \
            "$LP_LIB_DIR/lp-guest.sh"
        local b f
        for b in $LP_GUEST_BINS $LP_GUEST_FILES; do
            [ -e "$b" ] || continue
            for f in $(lp_bin_and_libs "$b"); do stat -L -c '%n %s %Y' "$f"; done
        done
    } | sha256sum | cut -c1-16
}

# ---------------------------------------------------------------- RDMA (soft-RoCE)
# lp_rdma_enable: adds what run-guest --rdma promises to the build inputs (a separate cached
# initramfs): the rxe, RDMA CM / verbs user-access and NVMe/RDMA host and target modules;
# iproute2's rdma, rping, ibv_devices, ibv_devinfo with libibverbs/librdmacm (ldd); the rxe
# verbs provider that libibverbs dlopen()s and its /etc/libibverbs.d/rxe.driver. Call it
# before lp_prepare, which installs the host packages they come from when missing (root).
# crc32_generic: rdma_rxe allocates the "crc32" shash (ICRC) at link add; not a module dependency
# veth: a second RoCE network inside the guest
LP_RDMA_MODULES="rdma_rxe crc32_generic rdma_cm rdma_ucm ib_uverbs ib_core nvme_rdma nvmet_rdma veth"
LP_RDMA_PKGS="ibverbs-providers ibverbs-utils rdmacm-utils"
lp_rdma_enable() {
    local prov
    LP_MODULES="$LP_MODULES $LP_RDMA_MODULES"
    LP_HOST_PKGS="$LP_HOST_PKGS $LP_RDMA_PKGS"
    lp_ensure_host_pkgs
    # the provider directory is libibverbs' compiled-in multiarch path
    prov="$(ls /usr/lib/*/libibverbs/librxe-rdmav*.so 2>/dev/null | head -n1 || true)"
    [ -n "$prov" ] || lp_die "--rdma: no rxe verbs provider (librxe-rdmav*.so from ibverbs-providers)"
    [ -f /etc/libibverbs.d/rxe.driver ] || lp_die "--rdma: /etc/libibverbs.d/rxe.driver is missing"
    LP_GUEST_BINS="$LP_GUEST_BINS /usr/bin/rdma /usr/bin/rping /usr/bin/ibv_devices /usr/bin/ibv_devinfo"
    # libgcc_s: glibc dlopen()s it for pthread_cancel/pthread_exit (rping's threads)
    LP_GUEST_FILES="$LP_GUEST_FILES $prov /etc/libibverbs.d/rxe.driver $(ldconfig -p | awk '/libgcc_s\.so\.1 .*x86-64/ && !f { f = $NF } END { print f }')"
}

# Sets LP_VMLINUZ, LP_INITRAMFS, LP_BUILD_DIR. Installs/downloads/builds only what is missing.
lp_prepare() {
    local t0 h out
    t0="$(lp_now)"
    mkdir -p "$LP_CACHE_DIR"
    exec 9>"$LP_CACHE_DIR/.lock"
    flock 9
    rm -rf "$LP_CACHE_DIR"/.build.*   # leftovers of interrupted builds (we hold the lock)
    lp_ensure_host_pkgs
    lp_ensure_debs
    h="$(lp_inputs_hash)"
    out="$LP_CACHE_DIR/build-$h"
    if [ ! -f "$out/initramfs.img" ] || [ ! -f "$out/vmlinuz" ]; then
        lp_log "building initramfs (inputs changed or first run) -> $out"
        # shellcheck source=build-initramfs.sh
        source "$LP_LIB_DIR/build-initramfs.sh"
        lp_build_initramfs "$out" || lp_die "initramfs build failed"
        lp_log "initramfs built in $(lp_elapsed "$t0")s: $(du -h "$out/initramfs.img" | cut -f1)"
    fi
    flock -u 9
    exec 9>&-
    LP_BUILD_DIR="$out"
    LP_VMLINUZ="$out/vmlinuz"
    # boot the uncompressed PVH ELF when the build produced one (LP_NO_PVH=1 to force bzImage)
    if [ -f "$out/vmlinux" ] && [ "${LP_NO_PVH:-0}" != 1 ]; then LP_VMLINUZ="$out/vmlinux"; fi
    LP_INITRAMFS="$out/initramfs.img"
}

# ---------------------------------------------------------------- accel
# lp_detect_accel: prints "kvm CPUMODEL REASON..." or "tcg max REASON...".
# /dev/kvm existing is not enough: nested or paravirtual hypervisors (e.g. PVM, kvm_pvm) can
# open KVM and even run real-mode code, then crawl or hang in the kernel decompressor. So:
#   1. a paused pc machine must start with the CPU model (catches rejected MSRs, e.g.
#      IA32_ARCH_CAPABILITIES 0x10a -> "host,-arch-capabilities" is tried next);
#   2. the cached kernel+initramfs must boot to the end marker within LP_KVM_PROBE_TIMEOUT (12 s).
# The verdict is cached per host boot (boot_id) + QEMU version + build.  Needs lp_prepare first.
lp_detect_accel() {
    local cpu ok="" key f tmp reason
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || { echo "tcg max (no read/write access to /dev/kvm)"; return 0; }
    key="$(cat /proc/sys/kernel/random/boot_id 2>/dev/null)-$(qemu-system-x86_64 --version | sed -n 1p | tr -cd '0-9.')-$(basename "${LP_KERNEL_DEB:-none}" .deb)"
    f="$LP_CACHE_DIR/accel-$key"
    if [ "${LP_ACCEL_REPROBE:-0}" != 1 ] && [ -s "$f" ]; then cat "$f"; return 0; fi
    # PVM ("kvm_pvm", paravirtual KVM without VT-x/AMD-V) only runs PVM-aware guest kernels;
    # a stock Debian kernel hangs early, so do not even try (LP_ACCEL_REPROBE=1 to probe anyway).
    if [ -d /sys/module/kvm_pvm ] && [ ! -d /sys/module/kvm_intel ] && [ ! -d /sys/module/kvm_amd ] && \
       [ "${LP_ACCEL_REPROBE:-0}" != 1 ]; then
        echo "tcg max (host KVM is kvm_pvm, which cannot boot a stock kernel)"; return 0
    fi
    for cpu in ${LP_KVM_CPU:-host host,-arch-capabilities}; do
        if echo quit | timeout 20 qemu-system-x86_64 -M pc -accel kvm -cpu "$cpu" -nodefaults \
                -display none -S -monitor stdio >/dev/null 2>&1; then
            ok="$cpu"
            break
        fi
    done
    if [ -z "$ok" ]; then
        reason="KVM cannot create a vCPU"
    elif [ -z "${LP_BUILD_DIR:-}" ]; then
        echo "kvm $ok (boot not probed)"; return 0
    else
        tmp="$(mktemp "${TMPDIR:-/tmp}/nvmfd-guest-probe.XXXXXX")"
        timeout "${LP_KVM_PROBE_TIMEOUT:-12}" qemu-system-x86_64 -M pc -accel kvm -cpu "$ok" -m 256 \
            -nodefaults -display none -no-reboot -serial "file:$tmp" \
            -kernel "$LP_VMLINUZ" -initrd "$LP_BUILD_DIR/initramfs.img" \
            -append "console=ttyS0 rdinit=/init panic=-1 loglevel=1" </dev/null >/dev/null 2>&1 || true
        if grep -aq 'GUEST SCRIPT END rc=0' "$tmp"; then reason=""; else
            reason="KVM opens but the guest did not boot within ${LP_KVM_PROBE_TIMEOUT:-12}s"
            [ -d /sys/module/kvm_pvm ] && reason="$reason (host KVM is kvm_pvm)"
        fi
        rm -f "$tmp"
    fi
    mkdir -p "$LP_CACHE_DIR"
    if [ -z "$reason" ]; then echo "kvm $ok" > "$f"; else echo "tcg max ($reason)" > "$f"; fi
    cat "$f"
}

# ---------------------------------------------------------------- netns
lp_tap() { echo "${LP_TAP_PREFIX}$1"; }
lp_host_addr() { echo "${LP_SUBNET_PREFIX}.$1.1"; }
lp_guest_addr() { echo "${LP_SUBNET_PREFIX}.$1.2"; }
lp_guest_mac() { printf '52:54:00:77:%02x:02' "$1"; }

lp_netns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

# lp_netns_create NAME NPATHS: new netns with lo up and taps lptap1..N (host side .1/24).
# The private 10.77.x.y addresses exist only inside this namespace.
lp_netns_create() {
    local ns="$1" n="$2" i
    lp_is_root || lp_die "netns mode needs root"
    lp_netns_exists "$ns" && lp_die "network namespace $ns already exists"
    ip netns add "$ns" || lp_die "ip netns add $ns failed"
    ip -n "$ns" link set lo up
    for ((i = 1; i <= n; i++)); do
        ip -n "$ns" tuntap add dev "$(lp_tap "$i")" mode tap || { lp_netns_destroy "$ns"; lp_die "tap creation failed"; }
        ip -n "$ns" addr add "$(lp_host_addr "$i")/24" dev "$(lp_tap "$i")"
        ip -n "$ns" link set "$(lp_tap "$i")" up
    done
}

# lp_netns_gc: delete namespaces "lp-<pid>" left by run-guest processes that no longer exist
# (e.g. killed with SIGKILL, so their cleanup trap never ran).
lp_netns_gc() {
    local ns pid
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^lp-[0-9]+$'); do
        pid="${ns#lp-}"
        if ! kill -0 "$pid" 2>/dev/null; then
            lp_log "removing stale network namespace $ns (run-guest pid $pid is gone)"
            lp_netns_destroy "$ns"
        fi
    done
}

# lp_netns_destroy NAME: TERM (then KILL) the processes still inside it, then delete it
# (its taps go with it).
lp_netns_destroy() {
    local ns="$1" pids i
    lp_netns_exists "$ns" || return 0
    pids="$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
    if [ -n "${pids// /}" ]; then
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        for i in 1 2 3 4 5 6 7 8 9 10; do
            pids="$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')"
            [ -z "${pids// /}" ] && break
            sleep 0.2
        done
        # shellcheck disable=SC2086
        [ -n "${pids// /}" ] && kill -KILL $pids 2>/dev/null || true
    fi
    ip netns del "$ns" 2>/dev/null || true
}

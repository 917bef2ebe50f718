# shellcheck shell=bash
# nvmfd-guest: initramfs builder (sourced by lib/common.sh:lp_prepare). Its content is part of
# the cache key, so editing it triggers a rebuild.
#
# Output directory (created atomically):
#   vmlinuz          guest kernel (from the Debian linux-image package)
#   initramfs.img    zstd-compressed newc cpio: busybox (+libs), nvme-cli (+libs), iproute2 ip/ss/tc,
#                    $LP_GUEST_FILES, kernel modules (+deps, decompressed), /init, lp-host,
#                    /lp/lp-guest.sh
#   info             human-readable summary (kernel version, module list, sizes)

lp__copy_file() {  # src root  (keeps the absolute path inside root, follows symlinks)
    local src="$1" root="$2"
    [ -e "$root$src" ] && [ ! -L "$root$src" ] && return 0
    mkdir -p "$root$(dirname "$src")"
    rm -f "$root$src"
    cp -L "$src" "$root$src"
}

# lp__extract_vmlinux BZIMAGE CONFIG OUT: decompress the payload of a bzImage (xz, zstd or
# gzip) when the kernel config has CONFIG_PVH=y (QEMU then boots the ELF via its PVH note).
lp__extract_vmlinux() {
    local img="$1" cfg="$2" out="$3" magic off
    grep -qx 'CONFIG_PVH=y' "$cfg" 2>/dev/null || return 1
    for magic in xz zstd gzip; do
        case "$magic" in
            xz) off="$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$img" | head -n1 | cut -d: -f1)" ;;
            zstd) off="$(LC_ALL=C grep -obUaP '\x28\xb5\x2f\xfd' "$img" | head -n1 | cut -d: -f1)" ;;
            gzip) off="$(LC_ALL=C grep -obUaP '\x1f\x8b\x08' "$img" | head -n1 | cut -d: -f1)" ;;
        esac
        [ -n "$off" ] || continue
        case "$magic" in
            xz) tail -c +$((off + 1)) "$img" | xz -dc --single-stream > "$out" 2>/dev/null ;;
            zstd) tail -c +$((off + 1)) "$img" | zstd -qdc > "$out" 2>/dev/null ;;
            gzip) tail -c +$((off + 1)) "$img" | gzip -dc > "$out" 2>/dev/null ;;
        esac
        [ "$(head -c 4 "$out" 2>/dev/null | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && return 0
    done
    rm -f "$out"
    return 1
}

lp_build_initramfs() {
    local out="$1" tmp rc
    tmp="$(mktemp -d "$LP_CACHE_DIR/.build.XXXXXX")" || return 1
    lp__build_in "$out" "$tmp"
    rc=$?
    rm -rf "$tmp"
    return $rc
}

lp__build_in() {
    local out="$1" tmp="$2" root kx kver m p rel dst b f
    root="$tmp/root"
    kx="$tmp/kernel"
    mkdir -p "$root" "$kx"

    # --- kernel package: vmlinuz + modules tree (extracted to a temp dir, not installed)
    dpkg-deb -x "$LP_KERNEL_DEB" "$kx" || return 1
    kver="$(ls "$kx/lib/modules" | head -n1)"
    [ -n "$kver" ] || { lp_log "no modules in $LP_KERNEL_DEB"; return 1; }
    [ -f "$kx/lib/modules/$kver/modules.dep" ] || depmod -b "$kx" "$kver" || return 1

    # --- skeleton
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc/nvme,proc,sys,dev,tmp,run,root,mnt,host,var/log,lp} \
             "$root/lib/modules/$kver"
    ln -s ../run "$root/var/run"
    printf 'root:x:0:0:root:/root:/bin/sh\n' > "$root/etc/passwd"
    printf 'root:x:0:\ntty:x:5:\n' > "$root/etc/group"
    printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"
    : > "$root/etc/fstab"

    # --- busybox + applet symlinks (+ its shared libraries when it is not static)
    dpkg-deb -x "$LP_BUSYBOX_DEB" "$tmp/bb" || return 1
    cp "$tmp/bb/bin/busybox" "$root/bin/busybox"
    chmod 0755 "$root/bin/busybox"
    for f in $(lp_bin_and_libs "$tmp/bb/bin/busybox" | tail -n +2); do lp__copy_file "$f" "$root"; done
    for p in $("$root/bin/busybox" --list-full); do
        [ -e "$root/$p" ] || [ -L "$root/$p" ] && continue
        mkdir -p "$root/$(dirname "$p")"
        ln -s /bin/busybox "$root/$p"
    done

    # --- dynamic host binaries + shared libraries
    for b in $LP_GUEST_BINS; do
        if [ ! -x "$b" ]; then lp_log "warning: $b not found, not included"; continue; fi
        rm -f "$root$b"
        for f in $(lp_bin_and_libs "$b"); do lp__copy_file "$f" "$root"; done
    done

    # --- plain host files (dlopen()ed plug-ins, their configuration) at the same path
    for b in $LP_GUEST_FILES; do
        if [ ! -e "$b" ]; then lp_log "warning: $b not found, not included"; continue; fi
        rm -f "$root$b"
        case "$b" in
            *.so|*.so.*) for f in $(lp_bin_and_libs "$b"); do lp__copy_file "$f" "$root"; done ;;
            *) lp__copy_file "$b" "$root" ;;
        esac
    done

    # --- kernel modules: closure of $LP_MODULES (deps + softdeps), stored uncompressed
    : > "$tmp/modlist"
    for m in $LP_MODULES; do
        if grep -qE "/${m//[-_]/[-_]}\.ko" "$kx/lib/modules/$kver/modules.builtin" 2>/dev/null; then
            continue   # built into the kernel
        fi
        if ! modprobe -d "$kx" -S "$kver" --show-depends "$m" > "$tmp/dep.$m" 2>/dev/null; then
            lp_log "warning: module $m not found in $kver, skipped"
            continue
        fi
        awk '$1=="insmod"{print $2}' "$tmp/dep.$m" >> "$tmp/modlist"
    done
    sort -u "$tmp/modlist" | while read -r p; do
        rel="${p#"$kx"/lib/modules/"$kver"/}"
        case "$rel" in
            *.ko.xz)  dst="${rel%.xz}";  mkdir -p "$root/lib/modules/$kver/$(dirname "$dst")"; xz -dc "$p" > "$root/lib/modules/$kver/$dst" ;;
            *.ko.zst) dst="${rel%.zst}"; mkdir -p "$root/lib/modules/$kver/$(dirname "$dst")"; zstd -qdc "$p" > "$root/lib/modules/$kver/$dst" ;;
            *.ko.gz)  dst="${rel%.gz}";  mkdir -p "$root/lib/modules/$kver/$(dirname "$dst")"; gzip -dc "$p" > "$root/lib/modules/$kver/$dst" ;;
            *)        dst="$rel";        mkdir -p "$root/lib/modules/$kver/$(dirname "$dst")"; cp "$p" "$root/lib/modules/$kver/$dst" ;;
        esac
    done
    for f in modules.builtin modules.builtin.modinfo modules.order; do
        [ -f "$kx/lib/modules/$kver/$f" ] && cp "$kx/lib/modules/$kver/$f" "$root/lib/modules/$kver/"
    done
    # modules.order lists compressed names on some kernels; it is informational only
    sed -i -e 's/\.ko\.\(xz\|zst\|gz\)$/.ko/' "$root/lib/modules/$kver/modules.order" 2>/dev/null || true
    depmod -b "$root" "$kver" || return 1

    # --- harness files
    install -m 0755 "$LP_LIB_DIR/guest-init" "$root/init"
    install -m 0755 "$LP_LIB_DIR/lp-host" "$root/usr/bin/lp-host"
    install -m 0644 "$LP_LIB_DIR/lp-guest.sh" "$root/lp/lp-guest.sh"
    printf 'LP_KVER=%s\nLP_PRELOAD_DEFAULT="%s"\n' "$kver" \
        "configfs nvme_core nvme_fabrics nvme_tcp nvmet nvmet_tcp | virtio_pci virtio_net | loop crc32c_intel crc32c_generic" \
        > "$root/lp/defaults"

    # --- archive
    (cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) \
        | zstd -q -T0 -12 > "$tmp/initramfs.img" || return 1
    cp "$kx/boot/vmlinuz-$kver" "$tmp/vmlinuz" || return 1
    # Uncompressed ELF vmlinux: QEMU boots it through its PVH entry point, skipping SeaBIOS
    # real-mode setup and in-guest decompression (about 4 s less per boot under TCG).
    lp__extract_vmlinux "$tmp/vmlinuz" "$kx/boot/config-$kver" "$tmp/vmlinux" || rm -f "$tmp/vmlinux"
    {
        echo "kernel package: $(basename "$LP_KERNEL_DEB")"
        echo "kernel version: $kver"
        echo "busybox package: $(basename "$LP_BUSYBOX_DEB")"
        echo "binaries: $LP_GUEST_BINS"
        echo "files: $LP_GUEST_FILES"
        echo "modules requested: $LP_MODULES"
        echo "modules included:"; (cd "$root/lib/modules/$kver" && find . -name '*.ko' | sort | sed 's/^/  /')
        echo "initramfs: $(stat -c %s "$tmp/initramfs.img") bytes compressed, $(du -sb "$root" | cut -f1) bytes unpacked"
    } > "$tmp/info"
    mkdir -p "$tmp/out"
    mv "$tmp/vmlinuz" "$tmp/initramfs.img" "$tmp/info" "$tmp/out/"
    [ -f "$tmp/vmlinux" ] && mv "$tmp/vmlinux" "$tmp/out/"
    rm -rf "$out"
    mv "$tmp/out" "$out"
}

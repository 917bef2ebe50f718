#!/usr/bin/env bash
# The Debian package, as scripts/package.sh makes it (CPack, into a directory of this test's
# own): lintian reports no error; it holds the programs, the unit, the default config (as
# conffiles), the man pages and the completion; the packaged unit passes `systemd-analyze
# verify` with its Documentation= found among the packaged man pages; and the packaged nvmfd,
# started with the packaged config, is driven by the packaged nvmfctl.
# Needs a built tree (the programs and target nvmfd_docs). Usage: package_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/nvmfd_proc.sh"
nvmfd_workdir nvmfd-package
fail() { echo "FAIL: $*"; [ -f "$work/nvmfd.out" ] && { echo "--- nvmfd output ---"; cat "$work/nvmfd.out"; }; exit 1; }

cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/pkg" > "$work/cpack.out" 2>&1 ||
  { cat "$work/cpack.out"; fail "cpack"; }
deb=$(ls "$work"/pkg/nvmfd_*_amd64.deb)
echo "package: $(basename "$deb") ($(stat -c %s "$deb") bytes)"
[[ $(basename "$deb") =~ ^nvmfd_[0-9]+\.[0-9]+\.[0-9]+_amd64\.deb$ ]] || fail "package file name"

lintian --fail-on error "$deb" > "$work/lintian.out" 2>&1 || { cat "$work/lintian.out"; fail "lintian errors"; }
grep '^E:' "$work/lintian.out" && fail "lintian errors"
echo "lintian: $(grep -c '^[WI]:' "$work/lintian.out" || true) warning(s)/info(s), no error"

root=$work/root
dpkg-deb -x "$deb" "$root"
for f in usr/sbin/nvmfd usr/sbin/nvmfctl usr/bin/nvmf-perf lib/systemd/system/nvmfd.service \
         etc/nvmfd/nvmfd.json etc/default/nvmfd usr/share/man/man8/nvmfd.8.gz usr/share/man/man8/nvmfctl.8.gz \
         usr/share/man/man1/nvmf-perf.1.gz usr/share/bash-completion/completions/nvmfctl \
         usr/share/doc/nvmfd/copyright; do
  [ -e "$root/$f" ] || fail "the package lacks /$f"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/nvmfd/nvmfd.json || fail "/etc/nvmfd/nvmfd.json is not a conffile"

# The packaged unit, pointed at the packaged nvmfd; man:nvmfd(8) and man:nvmfctl(8) are looked
# up among the packaged pages.
sed "s|/usr/sbin/nvmfd|$root/usr/sbin/nvmfd|" "$root/lib/systemd/system/nvmfd.service" > "$work/nvmfd.service"
MANPATH=$root/usr/share/man systemd-analyze verify "$work/nvmfd.service" || fail "systemd-analyze verify"
for page in man8/nvmfd.8.gz man8/nvmfctl.8.gz man1/nvmf-perf.1.gz; do
  man -l "$root/usr/share/man/$page" 2>/dev/null | grep -q '^OPTIONS' || fail "man page $page has no OPTIONS"
done
man -l "$root/usr/share/man/man8/nvmfd.8.gz" 2>/dev/null | grep -q -- '--rpc-socket' || fail "nvmfd(8) lacks -r"

# The packaged programs, from the unpacked tree, with the packaged config.
sbin=$root/usr/sbin sock=$work/rpc.sock
"$root/usr/bin/nvmf-perf" --help > /dev/null || fail "nvmf-perf --help"
"$sbin/nvmfd" -c "$root/etc/nvmfd/nvmfd.json" -r "$sock" -m 0x1 > "$work/nvmfd.out" 2>&1 &
echo $! > "$work/nvmfd.pid"
wait_rpc "$sbin" "$sock" || fail "the packaged nvmfd does not answer"
ctl() { "$sbin/nvmfctl" -s "$sock" "$@"; }
ctl nvmf_get_transports | grep -q '"trtype": "TCP"' || fail "the default config's TCP transport"
ctl bdev_malloc_create --name Malloc0 --num_blocks 2048 --block_size 512 > /dev/null || fail "bdev_malloc_create"
ctl nvmf_create_subsystem --nqn nqn.2016-06.io.nvmfd:pkg --allow_any_host > /dev/null || fail "nvmf_create_subsystem"
ctl nvmf_subsystem_add_ns --nqn nqn.2016-06.io.nvmfd:pkg --namespace.bdev_name Malloc0 > /dev/null || fail "add_ns"
ctl nvmf_get_subsystems | grep -q '"bdev_name": "Malloc0"' || fail "nvmf_get_subsystems"
ctl save_config -o "$work/saved.json" || fail "save_config"
grep -q nqn.2016-06.io.nvmfd:pkg "$work/saved.json" || fail "saved config"
# The packaged completion offers the daemon's methods.
source "$root/usr/share/bash-completion/completions/nvmfctl"
COMP_WORDS=(nvmfctl nvmf_subsystem_add_n) COMP_CWORD=1
_nvmfctl
[ "${COMPREPLY[*]}" = nvmf_subsystem_add_ns ] || fail "packaged completion: ${COMPREPLY[*]}"
stop_pidfile "$work/nvmfd.pid" 10
echo "PASS"

#!/usr/bin/env bash
# Regenerates the fixtures of this folder: SPDK's own save_config output (SPDK v26.05's
# nvmf_tgt and rpc.py from the SPDK peer), for tests/rpc/spdk_config_migration_test.sh.
#
#   generate.sh [SPDK_PEER_DIR]     (env SPDK_PEER_DIR, when set, wins; default ../shared/spdk-peer)
#
#   nvmf_bdevs.json   bdev_malloc (512 and 4096-byte blocks), bdev_null, bdev_aio; a TCP
#                     transport; an open subsystem with the three as namespaces and one with
#                     an allowed host, both listening on 127.0.0.1:44200
#   lvol_nvme.json    an lvol store and lvol on an aio file, bdev_nvme attached to a subsystem
#                     of the same target (127.0.0.1:44209), the lvol exported on 44210
#   unsupported.json  bdev_raid (raid0 of two mallocs), bdev_passthru and bdev_delay, the raid
#                     and a null bdev exported on 44211
# The aio files live in /tmp/nvmfd-spdk-migrate (the tests put their own paths in their place).
# Run by hand; the SPDK process started here is stopped by its PID.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
peer=${SPDK_PEER_DIR:-${1:-$here/../../../../shared/spdk-peer}}
work=$(mktemp -d /tmp/nvmfd-spdk-gen.XXXXXX)
files=/tmp/nvmfd-spdk-migrate
mkdir -p "$files"
spdk_pid=""
cleanup() {
  if [ -n "$spdk_pid" ]; then
    kill "$spdk_pid" 2>/dev/null || true
    wait "$spdk_pid" 2>/dev/null || true
    rm -rf "/var/run/dpdk/spdk_pid$spdk_pid" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/spdk_pid$spdk_pid"
  fi
  rm -rf "$work"
}
trap cleanup EXIT
rpc() { PYTHONPATH=$peer/python /usr/bin/python3 "$peer/scripts/rpc.py" -s "$work/spdk.sock" "$@" > /dev/null; }
start() {
  "$peer/bin/nvmf_tgt" -m 0x1 -u --no-huge -s 1024 --disable-cpumask-locks -r "$work/spdk.sock" \
    > "$work/spdk.log" 2>&1 &
  spdk_pid=$!
  for _ in $(seq 100); do rpc spdk_get_version 2>/dev/null && return 0; sleep 0.1; done
  echo "nvmf_tgt did not start:"; cat "$work/spdk.log"; exit 1
}
save() {
  PYTHONPATH=$peer/python /usr/bin/python3 "$peer/scripts/rpc.py" -s "$work/spdk.sock" save_config > "$here/$1"
  kill "$spdk_pid"; wait "$spdk_pid" || true
  rm -rf "/var/run/dpdk/spdk_pid$spdk_pid" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/spdk_pid$spdk_pid"
  spdk_pid=""
}

start
rm -f "$files/aio0.img"; truncate -s 64M "$files/aio0.img"
rpc bdev_malloc_create -b Malloc0 64 512
rpc bdev_malloc_create -b Malloc1 32 4096
rpc bdev_null_create Null0 128 512
rpc bdev_aio_create "$files/aio0.img" AIO0 512
rpc nvmf_create_transport -t TCP
rpc nvmf_create_subsystem nqn.2016-06.io.spdk:cnode1 -a -s SPDK00000000000001 -d SPDK_Controller1
for b in Malloc0 Malloc1 Null0 AIO0; do rpc nvmf_subsystem_add_ns nqn.2016-06.io.spdk:cnode1 $b; done
rpc nvmf_subsystem_add_listener nqn.2016-06.io.spdk:cnode1 -t tcp -a 127.0.0.1 -s 44200 -f ipv4
rpc nvmf_create_subsystem nqn.2016-06.io.spdk:cnode2 -s SPDK00000000000002
rpc nvmf_subsystem_add_host nqn.2016-06.io.spdk:cnode2 nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555
rpc nvmf_subsystem_add_listener nqn.2016-06.io.spdk:cnode2 -t tcp -a 127.0.0.1 -s 44200 -f ipv4
save nvmf_bdevs.json

start
rm -f "$files/aio1.img"; truncate -s 64M "$files/aio1.img"
rpc bdev_aio_create "$files/aio1.img" AIO1 4096
rpc bdev_lvol_create_lvstore AIO1 lvs0
rpc bdev_lvol_create -l lvs0 lvol0 16
rpc bdev_malloc_create -b Malloc0 32 512
rpc nvmf_create_transport -t TCP
rpc nvmf_create_subsystem nqn.2016-06.io.spdk:remote -a -s SPDK00000000000009
rpc nvmf_subsystem_add_ns nqn.2016-06.io.spdk:remote Malloc0
rpc nvmf_subsystem_add_listener nqn.2016-06.io.spdk:remote -t tcp -a 127.0.0.1 -s 44209 -f ipv4
rpc bdev_nvme_attach_controller -b Nvme0 -t tcp -a 127.0.0.1 -s 44209 -f ipv4 -n nqn.2016-06.io.spdk:remote
rpc nvmf_create_subsystem nqn.2016-06.io.spdk:cnode1 -a -s SPDK00000000000001
rpc nvmf_subsystem_add_ns nqn.2016-06.io.spdk:cnode1 lvs0/lvol0
rpc nvmf_subsystem_add_listener nqn.2016-06.io.spdk:cnode1 -t tcp -a 127.0.0.1 -s 44210 -f ipv4
save lvol_nvme.json

start
for i in 0 1 2 3; do rpc bdev_malloc_create -b Malloc$i 32 512; done
rpc bdev_raid_create -n Raid0 -z 64 -r 0 -b "Malloc0 Malloc1"
rpc bdev_passthru_create -b Malloc2 -p Pass0
rpc bdev_delay_create -b Malloc3 -d Delay0 -r 10 -t 10 -w 10 -n 10
rpc bdev_null_create Null0 64 512
rpc nvmf_create_transport -t TCP
rpc nvmf_create_subsystem nqn.2016-06.io.spdk:cnode1 -a
rpc nvmf_subsystem_add_ns nqn.2016-06.io.spdk:cnode1 Raid0
rpc nvmf_subsystem_add_ns nqn.2016-06.io.spdk:cnode1 Null0
rpc nvmf_subsystem_add_listener nqn.2016-06.io.spdk:cnode1 -t tcp -a 127.0.0.1 -s 44211 -f ipv4
save unsupported.json
echo "wrote $here/{nvmf_bdevs,lvol_nvme,unsupported}.json"

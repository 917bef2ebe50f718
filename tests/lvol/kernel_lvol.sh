#!/usr/bin/env bash
# Interop: the Linux kernel host (nvme-cli 2.3, kernel 6.1, QEMU guest via tests/guest, slirp)
# writes to a THIN logical volume exported by nvmfd with dd oflag=sync and conv=fsync; nvmfd
# is then killed with SIGKILL on a base that loses every unflushed write (bdev_volatile_cache:
# a power cut) and restarted; the kernel reconnects and reads back exactly what it wrote.
# That needs all of it: VWC set in Identify (the base has a volatile cache), the kernel's
# Flush and FUA writes honoured by the lvol (new clusters' metadata committed) and the base.
#   kernel_lvol.sh BIN_DIR GUEST_DIR        (ctest: interop_kernel_lvol)
#   kernel_lvol.sh --hook WORK ACTION            (run by the guest's lp-host: restart | lvols)
set -euo pipefail
self=$(readlink -f "$0")
here=$(dirname "$self")
NQN=nqn.2016-06.io.nvmfd:kernel-lvol
fail() { echo "CHECK FAILED (host): $*" >&2; exit 1; }
. "$here/../lib/nvmfd_proc.sh"

config() {  # WORK PORT WITH_NS
  local ns=""
  [ "$3" = 1 ] && ns=", {\"method\": \"nvmf_subsystem_add_ns\", \"params\": {\"nqn\": \"$NQN\",
      \"namespace\": {\"bdev_name\": \"lvs0/thin0\", \"nsid\": 1}}}"
  cat <<CFG
{"subsystems": [
  {"subsystem": "bdev", "config": [{"method": "bdev_volatile_cache_create",
     "params": {"name": "Base0", "filename": "$1/base.img", "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN", "listen_address":
      {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$2"}}}$ns]}]}
CFG
}

start() {  # WORK: start nvmfd with WORK/config.json, wait for its RPC socket
  local work=$1 bin
  bin=$(cat "$work/bin")
  "$bin/nvmfd" -c "$work/config.json" -r "$work/rpc.sock" -m 0x1 >> "$work/nvmfd.log" 2>&1 &
  echo $! > "$work/nvmfd.pid"
  wait_rpc "$bin" "$work/rpc.sock" && return 0
  tail -n 20 "$work/nvmfd.log" >&2
  fail "nvmfd did not start"
}

if [ "${1:-}" = --hook ]; then
  work=$2
  bin=$(cat "$work/bin")
  case "$3" in
    restart)
      stop_pidfile "$work/nvmfd.pid" 0
      echo "nvmfd killed (SIGKILL): its base's unflushed writes are gone" >&2
      start "$work"
      "$bin/nvmfctl" -s "$work/rpc.sock" bdev_lvol_get_lvols >&2 || fail "the lvol did not load" ;;
    lvols)  # thin0 is thin and owns at least $4 clusters
      "$bin/nvmfctl" -s "$work/rpc.sock" bdev_get_bdevs --name lvs0/thin0 > "$work/bdev.json" || fail "no lvs0/thin0"
      python3 - "$work/bdev.json" "$4" <<'PY' || fail "lvol state"
import json, sys
b = json.load(open(sys.argv[1]))[0]
l = b["driver_specific"]["lvol"]
print("thin0:", l, "volatile_write_cache:", b["volatile_write_cache"], file=sys.stderr)
assert l["thin_provision"] and l["num_allocated_clusters"] >= int(sys.argv[2]), l
assert b["volatile_write_cache"] and "lvs0/thin0" in b["aliases"], b
PY
      ;;
    *) fail "unknown hook action $3" ;;
  esac
  exit 0
fi

bin=$1
peer=$2
work=$(mktemp -d /tmp/nvmfd-kernel-lvol.XXXXXX)
trap 'stop_pidfile "$work/nvmfd.pid" 0; rm -rf "$work"' EXIT
echo "$bin" > "$work/bin"
truncate -s 128M "$work/base.img"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
config "$work" "$port" 0 > "$work/config.json"
start "$work"
ctl=("$bin/nvmfctl" -s "$work/rpc.sock")
"${ctl[@]}" bdev_lvol_create_lvstore --bdev_name Base0 --lvs_name lvs0 --cluster_sz 1048576 > /dev/null
"${ctl[@]}" bdev_lvol_create --lvs_name lvs0 --lvol_name thin0 --size_in_mib 64 --thin_provision true > /dev/null
"${ctl[@]}" call nvmf_subsystem_add_ns "{\"nqn\": \"$NQN\", \"namespace\": {\"bdev_name\": \"lvs0/thin0\", \"nsid\": 1}}" \
  > /dev/null
config "$work" "$port" 1 > "$work/config.json"  # what a restart loads

start_s=$(date +%s)
rc=0
# coreutils dd in the guest (busybox dd has no oflag=sync): the guest harness copies it with its libraries.
export LP_GUEST_BINS="/usr/sbin/nvme /usr/bin/ip /usr/bin/ss /usr/sbin/tc /bin/dd"
timeout 600 "$peer/run-guest" --timeout 540 --hook "bash $self --hook $work" \
  "$here/guest_kernel_lvol.sh" "$port" "$NQN" || rc=$?
echo "kernel_lvol: guest run took $(( $(date +%s) - start_s )) s"
echo "--- nvmfd log (last 30 lines) ---"; tail -n 30 "$work/nvmfd.log"
[ "$rc" -eq 0 ] || fail "guest script rc=$rc"
echo "interop_kernel_lvol: PASS"

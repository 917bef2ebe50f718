#!/usr/bin/env bash
# Interop: the Linux kernel's native NVMe multipath (kernel 6.1 nvme-tcp host, nvme-cli 2.3, in
# a QEMU guest) against nvmfd's ANA target. the guest harness's (tests/guest) netns mode gives two networks: nvmfd
# runs inside the namespace (a --host-cmd) and listens on 10.77.1.1:4420 (path 1) and
# 10.77.2.1:4420 (path 2) for one subsystem with ana_reporting and a 64 MiB RAM namespace in
# ANA group 1. One guest boot (guest_kernel_multipath.sh) checks:
#   - nvme connect over both paths: one subsystem, two live controllers, ONE multipath head
#     /dev/nvme0n1 with two path devices nvme0cXn1, both in ANA group 1, both optimized
#   - ANA states set over RPC (nvmf_subsystem_listener_set_ana_state, through `lp-host hook`)
#     show up per path in /sys/block/nvme0cXn1/ana_state: inaccessible, non-optimized,
#     persistent-loss, change; the other path stays optimized; the same on path 2
#   - where the I/O goes (per-path block stats and the guest NICs' byte counters): round-robin
#     with both optimized uses both paths; with path 1 inaccessible, non-optimized or
#     persistent-loss every byte goes over path 2 (numa and round-robin policies); mirrored
#     for path 2; all of it written and read back identical
#   - `lp-host link 1 down` during a verified write/read-back loop (round-robin over both
#     paths): the loop goes on over path 2 while path 1's controller is not live, `link 1 up`:
#     the kernel reconnects path 1 (controller live, ANA optimized, carries I/O again); no
#     data error, every block of the loop read back once more at the end
#   - nvmfd's own view (nvmf_subsystem_get_controllers) matches the guest's: the two cntlids with
#     their I/O queue counts after connecting and after the reconnect (the cut controller is
#     gone at its keep-alive timeout), none after nvme disconnect; nvmfd is still serving.
#   kernel_multipath.sh BIN_DIR GUEST_DIR            (ctest: interop_kernel_multipath)
#   kernel_multipath.sh --hook BIN_DIR RPC_SOCK ACTION ARGS...  (run by the guest's lp-host)
# Needs root (netns mode); exits 77 (ctest: skipped) otherwise. NVMFD_INTEROP_GUEST_ARGS adds
# run-guest options (e.g. "--loglevel 7 --dmesg always").
set -euo pipefail
self=$(readlink -f "$0")
here=$(dirname "$self")
NQN=nqn.2016-06.io.nvmfd:multipath
PORT=4420

fail() { echo "CHECK FAILED (host): $*" >&2; exit 1; }
. "$here/../lib/nvmfd_proc.sh"

# Runs inside the netns (lp-host hook); the RPC socket is a path, reachable across namespaces.
hook() {
  local bin=$1 sock=$2 action=$3
  shift 3
  local ctl=(timeout 30 "$bin/nvmfctl" -s "$sock")
  case "$action" in
    ana)  # PATH(1|2) STATE [ANAGRPID]: set the ANA state of listener 10.77.PATH.1 and check it
      local addr="10.77.$1.1" state=$2 grp=${3:-} params
      params="{\"nqn\": \"$NQN\", \"listen_address\": {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\","
      params+=" \"traddr\": \"$addr\", \"trsvcid\": \"$PORT\"}, \"ana_state\": \"$state\"${grp:+, \"anagrpid\": $grp}}"
      "${ctl[@]}" call nvmf_subsystem_listener_set_ana_state "$params" >&2 ||
        fail "nvmf_subsystem_listener_set_ana_state $addr $state"
      "${ctl[@]}" call nvmf_subsystem_get_listeners "{\"nqn\": \"$NQN\"}" > "$sock.listeners.json" ||
        fail "nvmf_subsystem_get_listeners"
      python3 - "$sock.listeners.json" "$addr" "$state" <<'PY' || fail "listener $addr does not report group 1 $state"
import json, sys
ls, addr, state = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
summary = {l["address"]["traddr"]: {s["ana_group"]: s["ana_state"] for s in l["ana_states"]}[1] for l in ls}
print("listeners, ANA group 1:", summary, file=sys.stderr)
assert summary[addr] == state, summary
PY
      ;;
    controllers)  # [CNTLID:NUM_IO_QPAIRS ...]: the target's controllers of NQN are exactly these
      # (waits up to 20 s: a controller whose host vanished goes at its keep-alive timeout)
      local want="" have=""
      [ $# -eq 0 ] || want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
      for _ in $(seq 40); do
        "${ctl[@]}" call nvmf_subsystem_get_controllers "{\"nqn\": \"$NQN\"}" > "$sock.controllers.json" ||
          fail "nvmf_subsystem_get_controllers"
        have=$(python3 - "$sock.controllers.json" <<'PY' | sort | tr '\n' ' '
import json, sys
for c in json.load(open(sys.argv[1])):
    print(f"{c['cntlid']}:{c['num_io_qpairs']}")
PY
)
        [ "$have" = "$want" ] && break
        sleep 0.5
      done
      echo "target controllers (cntlid:io_qpairs): ${have:-none}; the guest's: ${want:-none}" >&2
      [ "$have" = "$want" ] || fail "nvmfd's controllers of $NQN differ from the guest's" ;;
    alive)  # nvmfd still answers and still serves the subsystem
      "${ctl[@]}" nvmf_get_subsystems > "$sock.subsystems.json" || fail "nvmfd does not answer"
      grep -q "\"$NQN\"" "$sock.subsystems.json" || fail "nvmfd lost $NQN"
      echo "nvmfd alive, $NQN present" >&2 ;;
    *) fail "unknown hook action $action" ;;
  esac
}

if [ "${1:-}" = --hook ]; then
  shift
  hook "$@"
  exit 0
fi

bin=$1
peer=$2
for b in nvmfd nvmfctl; do [ -x "$bin/$b" ] || fail "$bin/$b is not built"; done
require_root interop_kernel_multipath
work=$(mktemp -d /tmp/nvmfd-kernel-mp.XXXXXX)
cleanup() {
  # run-guest stops its host commands; this catches an nvmfd that outlived it (e.g. when
  # run-guest itself was killed).
  stop_pidfile "$work/nvmfd.pid"
  rm -rf "$work"
}
trap cleanup EXIT

sed -e "s/@NQN@/$NQN/g" -e "s/@PORT@/$PORT/g" -e "s/@ADDR1@/10.77.1.1/g" -e "s/@ADDR2@/10.77.2.1/g" \
  "$here/kernel_multipath_config.json" > "$work/config.json"
sock=$work/rpc.sock

start=$(date +%s)
rc=0
read -r -a extra <<< "${NVMFD_INTEROP_GUEST_ARGS:-}"
timeout 500 "$peer/run-guest" --mode netns --paths 2 --timeout 420 "${extra[@]}" \
  --host-cmd "echo \$\$ > $work/nvmfd.pid; exec $bin/nvmfd -c $work/config.json -r $sock > $work/nvmfd.log 2>&1" \
  --wait-listen "$PORT" \
  --hook "bash $self --hook $bin $sock" --add "$here/guest_paths.sh" \
  "$here/guest_kernel_multipath.sh" "$NQN" "$PORT" || rc=$?
echo "kernel_multipath: guest run took $(( $(date +%s) - start )) s"
echo "--- nvmfd log (last 60 lines) ---"
tail -n 60 "$work/nvmfd.log" 2>/dev/null || true
[ "$rc" -eq 0 ] || fail "guest script rc=$rc"
echo "interop_kernel_multipath: PASS"

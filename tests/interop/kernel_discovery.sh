#!/usr/bin/env bash
# Interop: our host's discovery service (bdev_nvme_start_discovery, in nvmfd) against the
# Linux kernel's discovery controller (nvmet, kernel 6.1, in a QEMU guest), in the guest harness's
# netns mode so that the addresses nvmet puts in its log (10.77.1.2) are reachable. nvmfd
# runs in the netns as a host only (--host-cmd); the guest changes nvmet and asks the host
# (`lp-host hook`) to check nvmfd's view after each change:
#   - start: the service connects to nvmet's discovery controller on port 1 and attaches the
#     subsystem it lists (kd0, bdev kd0n1); get_discovery_info shows it connected
#   - a subsystem linked to port 1 -> nvmet's Discovery Log Change AEN -> attached (kd1n1)
#   - a referral on port 1 to port 2 (10.77.1.2:4421) -> the service follows it and attaches
#     port 2's subsystem (kd2n1); a subsystem linked to port 2 later comes in through the
#     referral's own persistent connection and AEN (kd3n1)
#   - a subsystem unlinked from port 1 -> detached; stop_discovery -> nothing left
#   kernel_discovery.sh BIN_DIR GUEST_DIR                 (ctest: interop_kernel_discovery)
#   kernel_discovery.sh --hook BIN_DIR RPC_SOCK ACTION ARGS...  (run by the guest's lp-host)
# Needs root (netns mode); exits 77 (ctest: skipped) otherwise.
set -euo pipefail
self=$(readlink -f "$0")
here=$(dirname "$self")

fail() { echo "CHECK FAILED (host): $*" >&2; exit 1; }
. "$here/../lib/nvmfd_proc.sh"

hook() {
  local bin=$1 sock=$2 action=$3
  shift 3
  local ctl=(timeout 30 "$bin/nvmfctl" -s "$sock")
  case "$action" in
    start)
      "${ctl[@]}" bdev_nvme_start_discovery --name kd --trtype tcp --adrfam ipv4 --traddr 10.77.1.2 \
        --trsvcid 4420 --wait_for_attach true --attach_timeout_ms 20000 >&2 || fail "bdev_nvme_start_discovery"
      "${ctl[@]}" bdev_nvme_get_discovery_info > "$sock.info.json" || fail "bdev_nvme_get_discovery_info"
      python3 - "$sock.info.json" <<'PY' || fail "get_discovery_info"
import json, sys
i = json.load(open(sys.argv[1]))
print(json.dumps(i), file=sys.stderr)
assert len(i) == 1 and i[0]["name"] == "kd" and i[0]["connected"], i
assert i[0]["trid"]["traddr"] == "10.77.1.2" and i[0]["trid"]["trsvcid"] == "4420", i
PY
      ;;
    bdevs)  # NAME...: the nvme bdevs are exactly these (waits up to 20 s)
      local want have=""
      want=$(printf '%s\n' "$@" | sort | tr '\n' ' ')
      want=${want% }
      for _ in $(seq 80); do
        have=$("${ctl[@]}" bdev_get_bdevs | python3 -c '
import json, sys
print(" ".join(sorted(b["name"] for b in json.load(sys.stdin))))')
        [ "$have" = "$want" ] && break
        sleep 0.25
      done
      echo "nvmfd's bdevs: ${have:-none} (want ${want:-none})" >&2
      [ "$have" = "$want" ] || fail "bdevs differ" ;;
    subsystems)  # NQN=NAME...: controller NAME is attached to subsystem NQN
      "${ctl[@]}" bdev_nvme_get_controllers > "$sock.ctrls.json" || fail "bdev_nvme_get_controllers"
      python3 - "$sock.ctrls.json" "$@" <<'PY' || fail "controllers differ"
import json, sys
have = {c["name"]: c["ctrlrs"][0]["trid"]["subnqn"] for c in json.load(open(sys.argv[1]))}
want = dict(a.split("=")[::-1] for a in sys.argv[2:])
print("controllers:", have, file=sys.stderr)
assert have == want, (have, want)
PY
      ;;
    stop)
      "${ctl[@]}" bdev_nvme_stop_discovery --name kd >&2 || fail "bdev_nvme_stop_discovery" ;;
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
require_root interop_kernel_discovery
work=$(mktemp -d /tmp/nvmfd-kernel-disc.XXXXXX)
cleanup() {  # an nvmfd that outlived run-guest (run-guest itself killed)
  stop_pidfile "$work/nvmfd.pid"
  rm -rf "$work"
}
trap cleanup EXIT
echo '{"subsystems": []}' > "$work/config.json"
sock=$work/rpc.sock
start=$(date +%s)
rc=0
read -r -a extra <<< "${NVMFD_INTEROP_GUEST_ARGS:-}"
timeout 400 "$peer/run-guest" --mode netns --paths 1 --timeout 300 "${extra[@]}" \
  --host-cmd "echo \$\$ > $work/nvmfd.pid; exec $bin/nvmfd -c $work/config.json -r $sock > $work/nvmfd.log 2>&1" \
  --hook "bash $self --hook $bin $sock" \
  "$here/guest_kernel_discovery.sh" || rc=$?
echo "kernel_discovery: guest run took $(( $(date +%s) - start )) s"
echo "--- nvmfd log (last 40 lines) ---"
tail -n 40 "$work/nvmfd.log" 2>/dev/null || true
[ "$rc" -eq 0 ] || fail "guest script rc=$rc"
echo "interop_kernel_discovery: PASS"

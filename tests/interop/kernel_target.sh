#!/usr/bin/env bash
# Interop: our host (nvmfctl discover/identify and the host library via nvmf-host-check)
# against the Linux kernel's NVMe/TCP target (nvmet, kernel 6.1, in a QEMU guest). One guest
# boot: the guest sets up nvmet on 0.0.0.0:4420 (slirp forwards host ports FWD and FWD2 to
# it), captures nvme-cli 2.3's own output as the reference, then asks the host
# (`lp-host hook`) to run each check against 127.0.0.1:FWD:
#   discover   nvmfctl discover, normal and -o json: identical to `nvme discover`
#   referrals  referral walk: FWD lists a referral to FWD2 (the same service) and a dead one
#   identify   nvmfctl identify --ctrl / --ns 1, normal and json: identical to nvme id-ctrl /
#              id-ns except the controller ID
#   errors     unknown NQN, refused host, nothing listening: one line on stderr, exit 1
#   io         nvmf-host-check io, digests off then on: 8 MiB each in 4 KiB (in-capsule),
#              128 KiB and 1 MiB (R2T + H2CData) writes, read back, compared, flushed
#   ns-attach  nvmfd (host side only) attaches the subsystem (bdev Kn1)
#   ns-check   after the guest grew namespace 1 (revalidate) and added namespace 2: nvmfd's
#              bdevs follow nvmet's Namespace Attribute Changed events (Kn1's new size, a
#              new Kn2, I/O through it), then nvmfd is stopped
# and checks the md5 of what landed in its backing file (before the namespace changes).
#   kernel_target.sh BIN_DIR GUEST_DIR           (ctest: interop_kernel_target)
#   kernel_target.sh --hook BIN_DIR FWD SHARE ACTION ARGS...   (run by the guest's lp-host)
# NVMFD_INTEROP_SEED fixes the pattern seed (printed at the start); NVMFD_INTEROP_GUEST_ARGS
# adds run-guest options (e.g. "--loglevel 7 --dmesg always" to see what nvmet logs).
set -euo pipefail
self=$(readlink -f "$0")
here=$(dirname "$self")
source "$here/../lib/nvmfd_proc.sh"

fail() { echo "CHECK FAILED (host): $*" >&2; exit 1; }

# Compares two nvme-cli style JSON files: same keys in the same order, same values, except
# the keys named after them (controller IDs differ between two connections).
json_same() {
  python3 - "$@" <<'PY'
import json, sys
a, b, ignore = sys.argv[1], sys.argv[2], set(sys.argv[3:])
load = lambda p: json.load(open(p), object_pairs_hook=lambda kv: [(k, v) for k, v in kv if k not in ignore])
x, y = load(a), load(b)
if x != y:
    print(f"{a} and {b} differ:", file=sys.stderr)
    xs, ys = (json.dumps(v, indent=1).splitlines() for v in (x, y))
    import difflib
    sys.stderr.write("\n".join(difflib.unified_diff(xs, ys, a, b, lineterm="")) + "\n")
    sys.exit(1)
PY
}

hook() {
  local bin=$1 fwd=$2 share=$3 action=$4
  shift 4
  local ctl="timeout 120 $bin/nvmfctl"
  local trid="trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$fwd"
  case "$action" in
    discover)  # NQN
      $ctl discover -t tcp -a 127.0.0.1 -s "$fwd" -o json > "$share/nvmfctl-discover.json"
      $ctl discover -t tcp -a 127.0.0.1 -s "$fwd" > "$share/nvmfctl-discover.txt"
      cat "$share/nvmfctl-discover.txt" >&2
      grep -q "\"subnqn\":\"$1\"" "$share/nvmfctl-discover.json" || fail "nvmfctl discover does not list $1"
      cmp "$share/nvme-discover.json" "$share/nvmfctl-discover.json" ||
        { diff "$share/nvme-discover.json" "$share/nvmfctl-discover.json" >&2; fail "discover -o json differs"; }
      cmp "$share/nvme-discover.txt" "$share/nvmfctl-discover.txt" ||
        { diff "$share/nvme-discover.txt" "$share/nvmfctl-discover.txt" >&2; fail "discover text differs"; }
      echo "nvmfctl discover: byte-identical to nvme discover (normal and json)" >&2 ;;
    referrals)  # NQN
      timeout 300 "$bin/nvmf-host-check" discover -a 127.0.0.1 -s "$fwd" --expect-nqn "$1" --expect-visits 2 >&2 ;;
    identify)  # NQN
      $ctl identify -r "$trid subnqn:$1" --ctrl -o json > "$share/nvmfctl-id-ctrl.json"
      $ctl identify -r "$trid subnqn:$1" --ctrl > "$share/nvmfctl-id-ctrl.txt"
      $ctl identify -r "$trid subnqn:$1" --ns 1 -o json > "$share/nvmfctl-id-ns.json"
      $ctl identify -r "$trid subnqn:$1" --ns 1 > "$share/nvmfctl-id-ns.txt"
      $ctl identify -r "$trid subnqn:$1" -o json > "$share/nvmfctl-identify.json"
      json_same "$share/nvme-id-ctrl.json" "$share/nvmfctl-id-ctrl.json" cntlid || fail "id-ctrl -o json differs"
      cmp "$share/nvme-id-ns.json" "$share/nvmfctl-id-ns.json" ||
        { diff "$share/nvme-id-ns.json" "$share/nvmfctl-id-ns.json" >&2; fail "id-ns -o json differs"; }
      diff <(grep -v '^cntlid ' "$share/nvme-id-ctrl.txt") <(grep -v '^cntlid ' "$share/nvmfctl-id-ctrl.txt") >&2 ||
        fail "id-ctrl text differs"
      cmp "$share/nvme-id-ns.txt" "$share/nvmfctl-id-ns.txt" ||
        { diff "$share/nvme-id-ns.txt" "$share/nvmfctl-id-ns.txt" >&2; fail "id-ns text differs"; }
      python3 - "$share/nvmfctl-identify.json" "$1" <<'PY' || fail "nvmfctl identify -o json (all)"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["id_ctrl"]["subnqn"] == sys.argv[2], j["id_ctrl"]["subnqn"]
assert [n["nsid"] for n in j["namespaces"]] == [1], j["namespaces"]
assert j["namespaces"][0]["id_ns"]["nsze"] == 64 * 1024 * 1024 // 2 ** j["namespaces"][0]["id_ns"]["lbafs"][0]["ds"]
PY
      echo "nvmfctl identify: identical to nvme id-ctrl / id-ns (cntlid aside)" >&2 ;;
    errors)  # CLOSED_NQN
      local out rc
      expect_error() {  # WHAT EXPECTED_TEXT COMMAND...
        local what=$1 text=$2
        shift 2
        rc=0
        out=$("$@" 2>&1 >/dev/null) || rc=$?
        echo "$what: rc=$rc: $out" >&2
        [ "$rc" -eq 1 ] || fail "$what: exit status $rc, expected 1"
        [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "$what: more than one line on stderr"
        case "$out" in *"$text"*) ;; *) fail "$what: message lacks '$text'" ;; esac
      }
      expect_error "unknown NQN" "nqn.2016-06.io.nvmfd:no-such" \
        $ctl identify -r "$trid subnqn:nqn.2016-06.io.nvmfd:no-such"
      expect_error "refused host" "not allowed" $ctl identify -r "$trid subnqn:$1"
      local dead
      dead=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
      expect_error "no listener" "refused" $ctl discover -a 127.0.0.1 -s "$dead" ;;
    io)  # plain|digests SEED OFFSET_MIB SIZE_MIB
      local mode=$1 seed=$2 off=$3 size=$4 flags=()
      [ "$mode" = digests ] && flags=(-g -G)
      timeout 600 "$bin/nvmf-host-check" io -a 127.0.0.1 -s "$fwd" -n nqn.2016-06.io.nvmfd:kernel-target \
        --seed "$seed" --offset $((off << 20)) --size $((size << 20)) "${flags[@]}" \
        --pattern-out "$share/pattern-$mode.bin" >&2
      md5sum < "$share/pattern-$mode.bin" | cut -d' ' -f1 > "$share/expected-$mode.md5"
      rm -f "$share/pattern-$mode.bin" ;;
    ns-attach)  # NQN
      echo '{"subsystems": []}' > "$share/host-config.json"
      "$bin/nvmfd" -c "$share/host-config.json" -r "$share/host.sock" -m 0x1 > "$share/host-nvmfd.log" 2>&1 &
      echo $! > "$share/host-nvmfd.pid"
      wait_rpc "$bin" "$share/host.sock" || fail "nvmfd (host side) did not come up"
      $ctl -s "$share/host.sock" bdev_nvme_attach_controller --name K --trtype tcp --traddr 127.0.0.1 \
        --trsvcid "$fwd" --subnqn "$1" >&2 || fail "attach" ;;
    ns-check)  # MIB_NS1 MIB_NS2
      local want1=$(($1 << 20)) want2=$(($2 << 20)) got1="" got2="" _
      bytes_of() { $ctl -s "$share/host.sock" bdev_get_bdevs --name "$1" 2>/dev/null |
        python3 -c 'import json,sys; b=json.load(sys.stdin)[0]; print(b["num_blocks"]*b["block_size"])' 2>/dev/null; }
      for _ in $(seq 300); do
        got1=$(bytes_of Kn1 || true); got2=$(bytes_of Kn2 || true)
        [ "$got1" = "$want1" ] && [ "$got2" = "$want2" ] && break
        sleep 0.1
      done
      echo "nvmfd's bdevs after nvmet's events: Kn1 $got1 bytes, Kn2 $got2 bytes" >&2
      [ "$got1" = "$want1" ] || { cat "$share/host-nvmfd.log" >&2; fail "Kn1 is $got1 bytes, want $want1"; }
      [ "$got2" = "$want2" ] || { cat "$share/host-nvmfd.log" >&2; fail "Kn2 is $got2 bytes, want $want2"; }
      # The new bdev has its path (its I/O path is the one Kn1's verified I/O uses).
      $ctl -s "$share/host.sock" bdev_nvme_get_io_paths --name Kn2 | grep -q '"connected": true' ||
        fail "Kn2 has no connected path"
      stop_pidfile "$share/host-nvmfd.pid" ;;
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
for b in nvmfctl nvmf-host-check; do [ -x "$bin/$b" ] || fail "$bin/$b is not built"; done
share=$(mktemp -d /tmp/nvmfd-kernel-target.XXXXXX)
trap 'stop_pidfile "$share/host-nvmfd.pid" 0; rm -rf "$share"' EXIT
read -r fwd fwd2 dead < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(3)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])')
seed=${NVMFD_INTEROP_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "kernel_target: seed $seed, forwards 127.0.0.1:$fwd and :$fwd2 -> guest :4420, dead port $dead"

start=$(date +%s)
rc=0
read -r -a extra <<< "${NVMFD_INTEROP_GUEST_ARGS:-}"
timeout 1700 "$peer/run-guest" --mode slirp --timeout 1600 --hostfwd "$fwd:4420" --hostfwd "$fwd2:4420" \
  "${extra[@]}" --share "$share" --hook "bash $self --hook $bin $fwd $share" \
  "$here/guest_kernel_target.sh" "$seed" "$fwd2" "$dead" || rc=$?
echo "kernel_target: guest run took $(( $(date +%s) - start )) s"
[ "$rc" -eq 0 ] || fail "guest script rc=$rc"
echo "interop_kernel_target: PASS"

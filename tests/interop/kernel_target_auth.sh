#!/usr/bin/env bash
# Interop: our host's DH-HMAC-CHAP against the Linux kernel's nvmet target (Debian's 6.12
# kernel, CONFIG_NVME_AUTH, in a QEMU guest) with dhchap_key / dhchap_ctrl_key set in configfs.
# One guest boot; the guest sets up nvmet and asks the host (`lp-host hook`) to run each check
# against 127.0.0.1:FWD (slirp forward to the guest's 4420):
#   io uni|bi        nvmf-host-check io -S (and -C): 4 MiB written, read back, compared on
#                    every I/O queue (each queue authenticates after its Connect)
#   refused WHAT TEXT [ARGS]   nvmfctl identify: exit 1, one line naming TEXT (no key, a
#                    wrong host key, a wrong controller key)
#   daemon-attach    nvmfd: keyring_file_add_key, bdev_nvme_attach_controller --dhchap-key
#                    --dhchap-ctrlr-key; save_config keeps the names and no key material
#   daemon-lost      waits until nvmfd has lost the connection (nvmet unlinked the port)
#   daemon-reconnected  waits until nvmfd reconnected and authenticated a second time
# Skips (77) when the 6.12 kernel cannot be had or the guest does not boot.
#   kernel_target_auth.sh BIN_DIR GUEST_DIR              (ctest: interop_kernel_target_auth)
#   kernel_target_auth.sh --hook BIN_DIR FWD SHARE HOST ACTION ARGS...   (run by lp-host)
set -euo pipefail
self=$(readlink -f "$0")
here=$(dirname "$self")
NQN=nqn.2016-06.io.nvmfd:kernel-auth

fail() { echo "CHECK FAILED (host): $*" >&2; exit 1; }

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
  local secs=$1
  shift
  for _ in $(seq $((secs * 10))); do
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

hook() {
  local bin=$1 fwd=$2 share=$3 host=$4 action=$5
  shift 5
  local ctl="timeout 120 $bin/nvmfctl"
  local rpc="$bin/nvmfctl -s $share/rpc.sock"
  case "$action" in
    io)  # uni|bi
      local keys=(-S "$(cat "$share/key0")")
      [ "$1" = bi ] && keys+=(-C "$(cat "$share/ckey0")")
      timeout 300 "$bin/nvmf-host-check" io -a 127.0.0.1 -s "$fwd" -n "$NQN" -q "$host" "${keys[@]}" \
        --seed 7 --size $((4 << 20)) >&2 ;;
    refused)  # WHAT TEXT [-S KEY] [-C KEY] (key files in SHARE); "+" in TEXT stands for a space
      local what=$1 text=${2//+/ } out rc=0 args=()
      shift 2
      while [ $# -gt 0 ]; do args+=("$1" "$(cat "$share/$2")"); shift 2; done
      out=$($ctl identify -r "trtype:tcp traddr:127.0.0.1 trsvcid:$fwd subnqn:$NQN" -q "$host" "${args[@]}" \
        2>&1 >/dev/null) || rc=$?
      echo "$what: rc=$rc: $out" >&2
      [ "$rc" -eq 1 ] || fail "$what: exit status $rc, expected 1"
      [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "$what: more than one line on stderr"
      case "$out" in *"$text"*) ;; *) fail "$what: message lacks '$text'" ;; esac
      for k in key0 ckey0 wrong; do
        case "$out" in *"$(cut -d: -f3 "$share/$k")"*) fail "$what: the message shows key material" ;; esac
      done ;;
    daemon-attach)
      echo '{"subsystems": []}' > "$share/empty.json"  # no default listener: only a host here
      "$bin/nvmfd" -c "$share/empty.json" -r "$share/rpc.sock" > "$share/nvmfd.log" 2>&1 &
      echo $! > "$share/nvmfd.pid"
      wait_for 10 $rpc rpc_get_methods > /dev/null 2>&1 || fail "nvmfd did not start"
      install -m 0600 "$share/key0" "$share/key0.file"
      install -m 0600 "$share/ckey0" "$share/ckey0.file"
      $rpc keyring_file_add_key --name key0 --path "$share/key0.file" > /dev/null
      $rpc keyring_file_add_key --name ckey0 --path "$share/ckey0.file" > /dev/null
      $rpc bdev_nvme_set_options --dhchap-digests '["sha256","sha512"]' \
        --dhchap-dhgroups '["ffdhe3072","ffdhe4096"]' > /dev/null
      $rpc bdev_nvme_attach_controller --name K --trtype tcp --adrfam ipv4 --traddr 127.0.0.1 --trsvcid "$fwd" \
        --subnqn "$NQN" --hostnqn "$host" --dhchap-key key0 --dhchap-ctrlr-key ckey0 \
        --ctrlr-loss-timeout-sec -1 --reconnect-delay-sec 1 >&2
      $rpc save_config > "$share/config.json"
      python3 - "$share/config.json" <<'PY' || fail "save_config"
import json, sys
cfg = json.load(open(sys.argv[1]))
calls = {c["method"]: c.get("params", {}) for s in cfg["subsystems"] for c in (s.get("config") or [])}
a = calls["bdev_nvme_attach_controller"]
assert a["dhchap_key"] == "key0" and a["dhchap_ctrlr_key"] == "ckey0", a
o = calls["bdev_nvme_set_options"]
assert o["dhchap_digests"] == ["sha256", "sha512"] and o["dhchap_dhgroups"] == ["ffdhe3072", "ffdhe4096"], o
PY
      for k in key0 ckey0; do
        ! grep -qF "$(cut -d: -f3 "$share/$k")" "$share/config.json" || fail "save_config shows key material"
      done
      grep -c "DH-HMAC-CHAP: authenticated to $NQN (sha256, ffdhe3072, bidirectional)" "$share/nvmfd.log" \
        | grep -qx 1 || { cat "$share/nvmfd.log" >&2; fail "no authentication logged"; } ;;
    daemon-lost)
      wait_for 60 bash -c "! $rpc bdev_nvme_get_controllers | grep -q '\"state\": \"enabled\"'" ||
        fail "nvmfd still reports the controller enabled" ;;
    daemon-reconnected)
      wait_for 120 bash -c "$rpc bdev_nvme_get_controllers | grep -q '\"state\": \"enabled\"'" ||
        { cat "$share/nvmfd.log" >&2; fail "nvmfd did not reconnect"; }
      [ "$(grep -c "DH-HMAC-CHAP: authenticated to $NQN" "$share/nvmfd.log")" -ge 2 ] ||
        { cat "$share/nvmfd.log" >&2; fail "the reconnect did not authenticate again"; }
      tail -n 20 "$share/nvmfd.log" >&2
      kill "$(cat "$share/nvmfd.pid")"
      wait_for 10 bash -c "! kill -0 $(cat "$share/nvmfd.pid") 2>/dev/null" || fail "nvmfd did not stop" ;;
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
for b in nvmfd nvmfctl nvmf-host-check; do [ -x "$bin/$b" ] || fail "$bin/$b is not built"; done
# Debian's 6.12 kernel in a cache of its own (the 6.1 guests of the other tests keep theirs).
export LP_CACHE_DIR="${NVMFD_AUTH_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nvmfd-guest-6.12}"
export LP_KERNEL_PKG="${NVMFD_AUTH_KERNEL_PKG:-$(apt-cache search --names-only 'linux-image-6\.12\.[0-9.]*\+deb12-amd64-unsigned' 2>/dev/null | awk '{print $1}' | sort -V | tail -n1)}"
[ -n "$LP_KERNEL_PKG" ] || { echo "SKIP: no linux-image-6.12 package in apt"; exit 77; }
export LP_MODULES="configfs virtio_pci virtio_net nvme_core nvme_fabrics nvme_tcp nvmet nvmet_tcp nvme_auth nvme_keyring loop crc32c_generic crc32c_intel hmac sha256_generic sha512_generic dh_generic 9pnet_virtio 9p"

share=$(mktemp -d /tmp/nvmfd-kernel-target-auth.XXXXXX)
cleanup() {
  if [ -f "$share/nvmfd.pid" ]; then kill "$(cat "$share/nvmfd.pid")" 2>/dev/null || true; fi
  rm -rf "$share"
}
trap cleanup EXIT
# DHHC-1 secrets made independently of our code: 32 random bytes with their CRC-32, base64;
# transform SHA-256 for the host key, none for the controller key.
gen_key() {  # $1 = transform hash id, $2 = key length
  python3 -c 'import base64,os,sys,zlib; k=os.urandom(int(sys.argv[2])); print("DHHC-1:%02d:%s:" % (int(sys.argv[1]), base64.b64encode(k+zlib.crc32(k).to_bytes(4,"little")).decode()))' "$1" "$2"
}
gen_key 1 32 > "$share/key0"
gen_key 0 48 > "$share/ckey0"
gen_key 1 32 > "$share/wrong"
fwd=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=nqn.2014-08.org.nvmexpress:uuid:3c1e5a2b-7d40-4f8e-9a61-0b2c4d6e8f10
echo "kernel_target_auth: $LP_KERNEL_PKG, forward 127.0.0.1:$fwd -> guest :4420"

start=$(date +%s)
rc=0
read -r -a extra <<< "${NVMFD_INTEROP_GUEST_ARGS:-}"
# The guest's deadline is on its own clock, which under TCG on a loaded machine runs several
# times faster than the wall clock: a large --timeout there, the wall-clock limit here.
timeout 1100 "$peer/run-guest" --mode slirp --timeout 3000 --hostfwd "$fwd:4420" "${extra[@]}" \
  --share "$share" --hook "bash $self --hook $bin $fwd $share $host" \
  "$here/guest_kernel_target_auth.sh" "$host" || rc=$?
echo "kernel_target_auth: guest run took $(( $(date +%s) - start )) s"
if [ "$rc" -eq 125 ]; then echo "SKIP: the guest did not boot (harness rc 125)"; exit 77; fi
[ "$rc" -eq 0 ] || fail "guest script rc=$rc"
echo "interop_kernel_target_auth: PASS"

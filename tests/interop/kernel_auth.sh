#!/usr/bin/env bash
# Interop: DH-HMAC-CHAP between the Linux kernel NVMe/TCP host (Debian's 6.12 kernel, which has
# CONFIG_NVME_AUTH, and nvme-cli 2.3, in a QEMU guest) and nvmfd's target. One guest boot:
#   - nvme connect --dhchap-secret (unidirectional), then with --dhchap-ctrl-secret
#     (bidirectional): connected, 4 MiB written and read back identical;
#   - a wrong secret, a wrong controller secret, and no secret where one is required: refused,
#     and nvmfd logs the failed authentication with the host NQN and no key material;
#   - nvme discover --dhchap-secret against the discovery controller, which requires a key of
#     that host, and without it: refused.
# The connection is captured with tshark (when installed): no malformed packets.
# The target offers the null group and ffdhe2048 only: under TCG the guest kernel needs minutes
# for ffdhe8192 (its self-test alone times out); unit_auth covers every group.
# Skips (77) when the 6.12 kernel cannot be had.
set -euo pipefail
bin=$1
peer=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/nvmfd-auth-interop.XXXXXX)
pid=""
cap=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  if [ -n "$cap" ] && kill -0 "$cap" 2>/dev/null; then kill "$cap"; wait "$cap" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Debian's 6.12 kernel in a cache of its own (the 6.1 guests of the other tests keep theirs).
export LP_CACHE_DIR="${NVMFD_AUTH_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nvmfd-guest-6.12}"
export LP_KERNEL_PKG="${NVMFD_AUTH_KERNEL_PKG:-$(apt-cache search --names-only 'linux-image-6\.12\.[0-9.]*\+deb12-amd64-unsigned' 2>/dev/null | awk '{print $1}' | sort -V | tail -n1)}"
[ -n "$LP_KERNEL_PKG" ] || { echo "SKIP: no linux-image-6.12 package in apt"; exit 77; }
export LP_MODULES="configfs virtio_pci virtio_net nvme_core nvme_fabrics nvme_tcp nvmet nvmet_tcp nvme_auth nvme_keyring loop crc32c_generic crc32c_intel hmac sha256_generic sha512_generic dh_generic"

# DHHC-1 secrets (32 random bytes, CRC-32 appended, base64): transform SHA-256 for the host
# key, none for the controller key, SHA-384 (48 bytes) for the discovery key.
gen_key() {  # $1 = transform hash id, $2 = key length
  python3 -c 'import base64,os,sys,zlib; k=os.urandom(int(sys.argv[2])); print("DHHC-1:%02d:%s:" % (int(sys.argv[1]), base64.b64encode(k+zlib.crc32(k).to_bytes(4,"little")).decode()))' "$1" "$2"
}
umask 077
gen_key 1 32 > "$work/key0"
gen_key 0 32 > "$work/ckey0"
gen_key 2 48 > "$work/dkey0"
gen_key 1 32 > "$work/wrong"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=nqn.2014-08.org.nvmexpress:uuid:6a0c1f7e-0000-4000-8000-0000000a0700
sed -e "s/@PORT@/$port/g" -e "s/@HOST@/$host/g" -e "s|@WORK@|$work|g" "$here/kernel_auth_config.json" > "$work/config.json"

if command -v tshark > /dev/null; then
  tshark -q -i lo -f "tcp port $port" -w "$work/auth.pcap" > "$work/tshark.log" 2>&1 &
  cap=$!
  sleep 1
fi

"$bin/nvmfd" -c "$work/config.json" -r "$work/rpc.sock" > "$work/nvmfd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  "$bin/nvmfctl" -s "$work/rpc.sock" nvmf_get_subsystems > /dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/nvmfd.log"; echo "nvmfd died"; exit 1; }
  sleep 0.1
done
"$bin/nvmfctl" -s "$work/rpc.sock" nvmf_get_subsystems | grep -q '"dhchap_ctrlr_key": "ckey0"' \
  || { echo "FAIL: nvmf_get_subsystems does not show the host's key names"; exit 1; }

rc=0
timeout 800 "$peer/run-guest" --timeout 700 "$here/guest_kernel_auth.sh" "$port" "$host" \
  "$(cat "$work/key0")" "$(cat "$work/ckey0")" "$(cat "$work/dkey0")" "$(cat "$work/wrong")" || rc=$?
if ! kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: nvmfd is no longer running"; cat "$work/nvmfd.log"; exit 1
fi
echo "--- nvmfd log ---"; tail -n 60 "$work/nvmfd.log"
if [ "$rc" -eq 125 ]; then echo "SKIP: the guest did not boot (harness rc 125)"; exit 77; fi
[ "$rc" -eq 0 ] || { echo "FAIL: guest script rc=$rc"; exit 1; }

grep -q "authentication failed: host '$host' at " "$work/nvmfd.log" \
  || { echo "FAIL: no log line for the failed authentication"; exit 1; }
for k in key0 ckey0 dkey0 wrong; do
  secret=$(cut -d: -f3 "$work/$k")
  if grep -qF "$secret" "$work/nvmfd.log"; then echo "FAIL: the log shows key material ($k)"; exit 1; fi
done
grep -q "authenticated on nqn.2016-06.io.nvmfd:auth .*bidirectional" "$work/nvmfd.log" \
  || { echo "FAIL: no bidirectional authentication logged"; exit 1; }
grep -q "authenticated on nqn.2014-08.org.nvmexpress.discovery" "$work/nvmfd.log" \
  || { echo "FAIL: no authentication on the discovery controller logged"; exit 1; }

if [ -n "$cap" ]; then
  kill "$cap"; wait "$cap" 2>/dev/null || true; cap=""
  tshark -r "$work/auth.pcap" -d "tcp.port==$port,nvme-tcp" -Y "_ws.malformed || _ws.expert.severity == error" \
    > "$work/malformed.txt" 2> "$work/tshark-read.err" || { cat "$work/tshark-read.err"; echo "FAIL: tshark"; exit 1; }
  total=$(tshark -r "$work/auth.pcap" -d "tcp.port==$port,nvme-tcp" -Y nvme-tcp 2>/dev/null | wc -l)
  echo "capture: $total NVMe/TCP packets"
  [ "$total" -gt 0 ] || { echo "FAIL: the capture holds no NVMe/TCP packet"; exit 1; }
  if [ -s "$work/malformed.txt" ]; then
    echo "FAIL: malformed packets in the capture:"; head -n 20 "$work/malformed.txt"; exit 1
  fi
  echo "capture: no malformed packets"
fi
echo "interop_kernel_auth: PASS"

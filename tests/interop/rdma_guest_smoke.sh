#!/usr/bin/env bash
# Soft-RoCE in the guest harness (run-guest --rdma, slirp, no root), one guest boot: rxe0 on
# eth0, rping through librdmacm, the kernel's nvmet-rdma target and nvme-rdma host with verified
# I/O, a second rxe device on a veth pair; and nvmfd from BIN (run-guest --bin, with its shared
# libraries) as the kernel nvme-tcp host's target inside the guest. Prints the guest run time.
# Usage: rdma_guest_smoke.sh BIN_DIR GUEST_DIR   (BIN_DIR without nvmfd: that part is skipped)
set -euo pipefail
bin=$1
peer=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/nvmfd-rdma-smoke.XXXXXX)
trap 'rm -rf "$work"' EXIT

port=4430   # inside the guest only
args=(--rdma --timeout 600 --add "$here/guest_rdma_smoke.sh")
if [ -x "$bin/nvmfd" ] && [ -x "$bin/nvmfctl" ]; then
  sed -e "s/@PORT@/$port/g" -e "s/@ALLOWED@/nqn.2014-08.org.nvmexpress:uuid:00000000-0000-4000-8000-000000000000/g" \
    "$here/kernel_host_config.json" > "$work/nvmfd.json"
  args+=(--bin "$bin/nvmfd" --bin "$bin/nvmfctl" --add "$work/nvmfd.json")
else
  echo "note: no nvmfd/nvmfctl in $bin: the nvmfd part is skipped"
fi
t0=$(date +%s.%N)
rc=0
timeout 900 "$peer/run-guest" "${args[@]}" "$here/guest_rdma_smoke.sh" "$port" || rc=$?
echo "guest run (run-guest incl. any initramfs build): $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
[ "$rc" -eq 0 ] || { echo "FAIL: guest script rc=$rc"; exit 1; }
echo "interop_rdma_guest_smoke: PASS"

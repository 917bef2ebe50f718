#!/usr/bin/env bash
# Interop over NVMe/RDMA: the Linux kernel's NVMe/RDMA host against nvmfd's RDMA transport,
# both inside the guest (tests/guest, Debian 6.1 kernel) over soft-RoCE (rxe on eth0): this
# machine's own kernel has no RDMA device. One guest boot (guest_kernel_rdma.sh): discovery,
# connect, verified I/O at 512 B to 1 MiB and unaligned offsets, flush, disconnect; then kernel
# multipath over two rxe devices with ANA states set on nvmfd's listeners.
# Usage: kernel_rdma.sh BIN_DIR GUEST_DIR
set -euo pipefail
bin=$1
peer=$2
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$peer/run-guest" ] || { echo "interop_kernel_rdma: SKIPPED (no guest harness in $peer)"; exit 77; }
start=$(date +%s)
rc=0
timeout 900 "$peer/run-guest" --rdma --timeout 780 --bin "$bin/nvmfd" --bin "$bin/nvmfctl" \
  "$here/guest_kernel_rdma.sh" || rc=$?
echo "interop_kernel_rdma: guest run took $(( $(date +%s) - start )) s"
[ "$rc" -eq 0 ] || { echo "FAIL: guest script rc=$rc"; exit 1; }
echo "interop_kernel_rdma: PASS"

#!/usr/bin/env bash
# Interop over NVMe/RDMA, the other way round from kernel_rdma.sh: nvmfd's host against the
# Linux kernel's nvmet-rdma target, both inside the guest (tests/guest, Debian 6.1 kernel)
# over soft-RoCE (rxe on eth0): this machine's own kernel has no RDMA device. One guest boot
# (guest_kernel_rdma_target.sh): a refused connect (unknown port), nvmfctl discover and
# identify, nvmf-perf, then nvmfd attaching the controller with bdev_nvme_attach_controller
# -t rdma and serving its bdev over TCP on 127.0.0.1, where the kernel's nvme-tcp host writes
# and reads back verified data (also checked in nvmet's backing file), then detach; last,
# nvmf-perf against nvmfd's own RDMA target.
# Usage: kernel_rdma_target.sh BIN_DIR GUEST_DIR
set -euo pipefail
bin=$1
peer=$2
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$peer/run-guest" ] || { echo "interop_kernel_rdma_target: SKIPPED (no guest harness in $peer)"; exit 77; }
start=$(date +%s)
rc=0
timeout 900 "$peer/run-guest" --rdma --timeout 780 --bin "$bin/nvmfd" --bin "$bin/nvmfctl" --bin "$bin/nvmf-perf" \
  "$here/guest_kernel_rdma_target.sh" || rc=$?
echo "interop_kernel_rdma_target: guest run took $(( $(date +%s) - start )) s"
[ "$rc" -eq 0 ] || { echo "FAIL: guest script rc=$rc"; exit 1; }
echo "interop_kernel_rdma_target: PASS"

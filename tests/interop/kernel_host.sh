#!/usr/bin/env bash
# Interop: the Linux kernel NVMe/TCP host (nvme-cli 2.3, kernel 6.1, in a QEMU guest) against
# nvmfd. nvmfd listens on 127.0.0.1:PORT; the guest (slirp) reaches it as 10.0.2.2:PORT.
# Checks (one guest boot): discover, connect (plain, then header+data digests), list,
# id-ctrl, id-ns, dd 4 KiB and 1 MiB blocks written and read back identical (max_io_size is
# 1 MiB, so each 1 MiB write is one R2T answered by several 128 KiB H2CData PDUs), flush,
# disconnect; a host NQN not on the allow list is refused, an allowed one accepted.
set -euo pipefail
bin=$1
peer=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/nvmfd-interop.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
allowed=nqn.2014-08.org.nvmexpress:uuid:6a0c1f7e-0000-4000-8000-00000000a11d
sed -e "s/@PORT@/$port/g" -e "s/@ALLOWED@/$allowed/g" "$here/kernel_host_config.json" > "$work/config.json"

"$bin/nvmfd" -c "$work/config.json" -r "$work/rpc.sock" > "$work/nvmfd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
  "$bin/nvmfctl" -s "$work/rpc.sock" nvmf_get_subsystems > /dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/nvmfd.log"; echo "nvmfd died"; exit 1; }
  sleep 0.1
done

rc=0
timeout 600 "$peer/run-guest" --timeout 540 "$here/guest_kernel_host.sh" "$port" "$allowed" || rc=$?
if ! kill -0 "$pid" 2>/dev/null; then
  echo "FAIL: nvmfd is no longer running"; cat "$work/nvmfd.log"; exit 1
fi
echo "--- nvmfd log ---"; tail -n 40 "$work/nvmfd.log"
[ "$rc" -eq 0 ] || { echo "FAIL: guest script rc=$rc"; exit 1; }
echo "interop_kernel_host: PASS"

#!/bin/sh
# Guest side of bench/rdma_vs_tcp.sh (busybox sh; run-guest --rdma --bin nvmfd --bin nvmfctl
# --bin nvmf-perf). One nvmfd (1 reactor, vCPU 0) serving one RAM namespace over RDMA (rxe0 on
# eth0) and over TCP on the same address; nvmf-perf (vCPU 1) runs each case over RDMA and over
# TCP alternately, ROUNDS times. Prints one line per run:
#   RESULT <case> <rdma|tcp> <round> <iops> <avg_latency_us>
set -e
. /lp/lp-guest.sh
ROUNDS=${1:-3}
SECS=${2:-3}
NQN=nqn.2016-06.io.nvmfd:bench
ADDR=$(ip -4 -o addr show eth0 | awk '{ split($4, a, "/"); print a[1]; exit }')
lp_rxe_up eth0 rxe0 > /dev/null || { echo "rxe0 did not come up"; exit 1; }
cat > /tmp/nvmfd.json <<EOF
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 65536, "block_size": 4096}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "RDMA", "num_shared_buffers": 255}},
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$NQN", "namespace": {"bdev_name": "Malloc0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN",
      "listen_address": {"trtype": "RDMA", "adrfam": "IPv4", "traddr": "$ADDR", "trsvcid": "4420"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "$ADDR", "trsvcid": "4430"}}}]}]}
EOF
nvmfd -c /tmp/nvmfd.json -r /tmp/rpc.sock -m 0x1 > /tmp/nvmfd.log 2>&1 &
NVMFD=$!
lp_wait_for "nvmfctl -s /tmp/rpc.sock nvmf_get_subsystems > /dev/null 2>&1" 30 || { tail /tmp/nvmfd.log; exit 1; }
run() {  # case transport round args...
  c=$1; t=$2; r=$3; shift 3
  port=4420; [ "$t" = tcp ] && port=4430
  nvmf-perf "$@" -t "$SECS" --warmup 1 -c 0x2 -r "trtype:$t adrfam:ipv4 traddr:$ADDR trsvcid:$port subnqn:$NQN" \
    --json /tmp/perf.json > /tmp/perf.out 2>&1 || { cat /tmp/perf.out; return 1; }
  awk -v c="$c" -v t="$t" -v r="$r" '/Total/ { print "RESULT", c, t, r, $3, $5 }' /tmp/perf.out
}
# The whole namespace written once, so that reads touch memory that exists.
run fill tcp 0 -q 16 -o 131072 -w write > /dev/null
for r in $(seq "$ROUNDS"); do
  for t in rdma tcp; do
    run randread-4k-qd1 "$t" "$r" -q 1 -o 4096 -w randread
    run randread-4k-qd32 "$t" "$r" -q 32 -o 4096 -w randread
    run read-128k-qd8 "$t" "$r" -q 8 -o 131072 -w read
    run randwrite-4k-qd32 "$t" "$r" -q 32 -o 4096 -w randwrite
  done
done
kill "$NVMFD"
wait "$NVMFD" 2>/dev/null || true

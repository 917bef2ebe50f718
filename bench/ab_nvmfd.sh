#!/bin/bash
# A/B throughput of two nvmfd binaries (say, main's and a branch's): nvmfd -m 0x1 on core 0
# with bench/nvmfd_bench.json, nvmf-perf on core 1, 4 KiB random read and write at QD 32 on the
# RAM namespace, written end to end first (and random read on the null one), ROUNDS rounds
# alternating A and B so that drift in the machine's load hits both. Prints one line per run and the median IOPS of each.
#
#   bash bench/ab_nvmfd.sh NVMFD_A NVMFD_B NVMF_PERF [ROUNDS=3] [SECONDS=5]
set -eu
A=$1 B=$2 PERF=$3 ROUNDS=${4:-3} SECS=${5:-5}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/ab_nvmfd.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed "s/@PORT@/$port/g" "$here/nvmfd_bench.json" >"$work/config.json"
one() {  # LABEL BINARY NQN PATTERN
  "$2" -c "$work/config.json" -r "$work/rpc.sock" -m 0x1 >"$work/nvmfd.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -S "$work/rpc.sock" ] && break; sleep 0.1; done
  sleep 0.5
  # The RAM namespace is written end to end first: a write to a page never touched costs a
  # page fault, which would make randwrite measure the kernel's memory management.
  if [ "$3" = nqn.2016-06.io.nvmfd:malloc0 ]; then
    written=0
    while [ "$written" -lt $((262144 * 4096)) ]; do
      "$PERF" -c 0x2 -q 16 -o 131072 -w write -t 2 --json "$work/fill.json" \
        -r "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:$3" >/dev/null
      written=$((written + $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["total"]["ios"] * 131072)' "$work/fill.json")))
    done
  fi
  "$PERF" -c 0x2 -q 32 -o 4096 -w "$4" -t "$SECS" --warmup 1 --json "$work/out.json" \
    -r "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:$3" >/dev/null
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  rm -f "$work/rpc.sock"
  iops=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(int(j["total"]["iops"]))' "$work/out.json")
  echo "$1 $3 $4 $iops" | tee -a "$work/results"
}
for r in $(seq "$ROUNDS"); do
  for c in "nqn.2016-06.io.nvmfd:malloc0 randread" "nqn.2016-06.io.nvmfd:malloc0 randwrite" "nqn.2016-06.io.nvmfd:null0 randread"; do
    set -- $c
    one A "$A" "$1" "$2"
    one B "$B" "$1" "$2"
  done
done
python3 - "$work/results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
for case in sorted({(r[1], r[2]) for r in rows}):
    med = {k: statistics.median(int(r[3]) for r in rows if (r[1], r[2]) == case and r[0] == k) for k in "AB"}
    print(f"median {case[0].split(':')[1]} {case[1]}: A {med['A']:.0f} IOPS, B {med['B']:.0f} IOPS, B/A {med['B'] / med['A']:.3f}")
PY

#!/usr/bin/env bash
# bench/lvol.sh WORK_DIR: what a thick logical volume costs over the bdev under it, two ways,
# each alternating raw and lvol runs in the same session (raw, lvol, raw, lvol, ...):
#  1. through the whole stack: nvmf-perf (core 1) against nvmfd (core 0) exporting a RAM bdev
#     (subsystem "raw") and a thick lvol on another RAM bdev of the same size (subsystem
#     "lvol"), 4 KiB randread and randwrite at QD 32;
#  2. the bdev layer alone (nvmf-lvol-bench): same I/O from one reactor, no network.
# Writes WORK_DIR/lvol.json (medians, ratios, samples). Called by bench/run.sh; alone it
# needs build/bin/{nvmfd,nvmfctl,nvmf-perf,nvmf-lvol-bench}. Stops what it starts, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$1
mkdir -p "$work"
time_s=${BENCH_LVOL_TIME:-5}
samples=${BENCH_LVOL_SAMPLES:-3}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sock=$work/lvol-rpc.sock
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; true' EXIT
mib=512
blocks=$((mib * 1024 * 1024 / 4096))
cat > "$work/lvol-config.json" <<CFG
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": $blocks, "block_size": 4096}},
    {"method": "bdev_malloc_create", "params": {"name": "Malloc1", "num_blocks": $blocks, "block_size": 4096}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "nqn.2016-06.io.nvmfd:raw", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "nqn.2016-06.io.nvmfd:raw", "namespace": {"bdev_name": "Malloc1"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2016-06.io.nvmfd:raw",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "nqn.2016-06.io.nvmfd:lvol", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2016-06.io.nvmfd:lvol",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}}]}]}
CFG
build/bin/nvmfd -c "$work/lvol-config.json" -r "$sock" -m 0x1 > "$work/lvol-nvmfd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do build/bin/nvmfctl -s "$sock" rpc_get_methods > /dev/null 2>&1 && break; sleep 0.1; done
ctl=(build/bin/nvmfctl -s "$sock")
"${ctl[@]}" bdev_lvol_create_lvstore --bdev_name Malloc0 --lvs_name lvs0 --cluster_sz 4194304 > /dev/null
# The thick volume gets every data cluster; the raw run uses the same number of blocks.
free=$("${ctl[@]}" bdev_lvol_get_lvstores | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["free_clusters"])')
"${ctl[@]}" bdev_lvol_create --lvs_name lvs0 --lvol_name thick --size_in_mib $((free * 4)) > /dev/null
"${ctl[@]}" call nvmf_subsystem_add_ns '{"nqn": "nqn.2016-06.io.nvmfd:lvol", "namespace": {"bdev_name": "lvs0/thick"}}' > /dev/null
trid() { echo "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:nqn.2016-06.io.nvmfd:$1"; }
for d in raw lvol; do  # written end to end first, so that reads touch written memory
  build/bin/nvmf-perf -c 0x2 -q 8 -o 131072 -w write -t 3 -r "$(trid $d)" > /dev/null
done
for w in randread randwrite; do
  for i in $(seq "$samples"); do
    for d in raw lvol; do
      build/bin/nvmf-perf -c 0x2 -q 32 -o 4096 -w "$w" -t "$time_s" --warmup 1 -r "$(trid $d)" \
        --json "$work/lvol-$w-$d-$i.json" > /dev/null
      echo "[bench] lvol: $w $d sample $i: $(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["total"]["iops"]))' "$work/lvol-$w-$d-$i.json") IOPS" >&2
    done
  done
done
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
build/bin/nvmf-lvol-bench --time 2 --samples 5 --json "$work/lvol-bdev.json" >&2
python3 - "$work" "$samples" <<'PY'
import json, statistics, sys
work, n = sys.argv[1], int(sys.argv[2])
out = {"stack": [], "bdev": json.load(open(f"{work}/lvol-bdev.json"))}
for w in ("randread", "randwrite"):
    s = {d: [json.load(open(f"{work}/lvol-{w}-{d}-{i}.json"))["total"]["iops"] for i in range(1, n + 1)] for d in ("raw", "lvol")}
    r, l = statistics.median(s["raw"]), statistics.median(s["lvol"])
    out["stack"].append({"workload": w, "raw_iops": r, "lvol_iops": l, "ratio": l / r, "raw_samples": s["raw"], "lvol_samples": s["lvol"]})
json.dump(out, open(f"{work}/lvol.json", "w"), indent=1)
for e in out["stack"]:
    print(f"[bench] lvol over NVMe/TCP, {e['workload']}: raw {e['raw_iops']:.0f}, lvol {e['lvol_iops']:.0f} IOPS, lvol/raw {e['ratio']:.3f}", file=sys.stderr)
PY

#!/usr/bin/env bash
# bench/qos.sh [WORK_DIR]: how close bdev QoS (bdev_set_qos_limit) holds a bdev to its limits
# when I/O comes from both target reactors. nvmfd on two reactors (-m 0x3) exports the null
# and RAM namespaces of bench/nvmfd_bench.json; nvmf-perf (one core, -P 4: four queue pairs,
# which the target spreads over its two reactors) drives, for each case, a limit on one bdev:
#   - rw_ios_per_sec 20000, 4 KiB random read at QD 32 per queue pair (null bdev);
#   - rw_mbytes_per_sec 200, 64 KiB random read/write 50/50 at QD 8 (RAM bdev);
#   - r_mbytes_per_sec 100 + w_mbytes_per_sec 50 (RAM bdev): two nvmf-perf at once, 64 KiB
#     random read and 64 KiB random write, each -P 2 at QD 8, each against its own limit (one
#     50/50 mix would not do: a closed loop issues as many reads as writes, so the slower
#     limit would hold both).
# Each run has 1 s of warm-up and BENCH_QOS_TIME (default 10) s measured. Prints achieved/limit
# per limit and the I/Os each reactor completed (bdev_get_iostat per_channel), and writes
# WORK_DIR/qos.json. Needs build/bin/{nvmfd,nvmfctl,nvmf-perf}. Stops what it starts, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
work=$(mkdir -p "${1:-/tmp/nvmfd-qos-bench}" && cd "${1:-/tmp/nvmfd-qos-bench}" && pwd)
time_s=${BENCH_QOS_TIME:-10}
port=$(free_port)
sock=$work/qos-rpc.sock
trap 'for p in "${pids[@]}"; do stop_pid "$p"; done' EXIT
sed "s/@PORT@/$port/g" bench/nvmfd_bench.json > "$work/qos-config.json"
start_bg "$work/qos-nvmfd.log" build/bin/nvmfd -c "$work/qos-config.json" -r "$sock" -m 0x3
nvmfd_pid=$bg_pid
wait_listening "$port" "$nvmfd_pid" || { echo "nvmfd did not start" >&2; cat "$work/qos-nvmfd.log" >&2; exit 1; }
rpc() { build/bin/nvmfctl -s "$sock" call "$@"; }
trid() { echo "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:nqn.2016-06.io.nvmfd:$1"; }
perf() {  # QPAIRS NQN PATTERN QD SIZE OUT: in the background, its PID in bg_pid
  local mix=()
  [ "$3" = randrw ] && mix=(-M 50)
  start_bg "$6.log" build/bin/nvmf-perf -c 0x1 -P "$1" -q "$4" -o "$5" -w "$3" "${mix[@]}" -t "$time_s" --warmup 1 \
    -r "$(trid "$2")" --json "$6"
}
# The RAM bdev is written end to end first, so that reads touch written memory.
build/bin/nvmf-perf -c 0x1 -q 8 -o 131072 -w write -t 3 -r "$(trid malloc0)" > /dev/null
off='"rw_ios_per_sec": 0, "rw_mbytes_per_sec": 0, "r_mbytes_per_sec": 0, "w_mbytes_per_sec": 0'
case_run() {  # NAME BDEV NQN LIMITS_JSON PATTERN QD SIZE (PATTERN r+w: a randread and a randwrite run)
  rpc bdev_set_qos_limit "{\"name\": \"$2\", $4}" > /dev/null
  rpc bdev_get_iostat "{\"names\": [\"$2\"], \"per_channel\": true}" > "$work/qos-$1-before.json"
  local run=()
  if [ "$5" = r+w ]; then
    perf 2 "$3" randread "$6" "$7" "$work/qos-$1-read.json"; run+=("$bg_pid")
    perf 2 "$3" randwrite "$6" "$7" "$work/qos-$1-write.json"; run+=("$bg_pid")
  else
    perf 4 "$3" "$5" "$6" "$7" "$work/qos-$1.json"; run+=("$bg_pid")
  fi
  for p in "${run[@]}"; do wait "$p"; forget_pid "$p"; done
  rpc bdev_get_iostat "{\"names\": [\"$2\"], \"per_channel\": true}" > "$work/qos-$1-after.json"
  rpc bdev_get_bdevs "{\"name\": \"$2\"}" > "$work/qos-$1-bdev.json"
  rpc bdev_set_qos_limit "{\"name\": \"$2\", $off}" > /dev/null
}
case_run iops Null0 null0 '"rw_ios_per_sec": 20000' randread 32 4096
case_run rw_mbytes Malloc0 malloc0 '"rw_mbytes_per_sec": 200' randrw 8 65536
case_run r_w_mbytes Malloc0 malloc0 '"r_mbytes_per_sec": 100, "w_mbytes_per_sec": 50' r+w 8 65536
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
mib = 1024 * 1024
out = []
for name in ("iops", "rw_mbytes", "r_w_mbytes"):
    runs = {}
    for part in ("", "-read", "-write"):
        try:
            runs[part] = json.load(open(f"{work}/qos-{name}{part}.json"))
        except FileNotFoundError:
            pass
    limits = json.load(open(f"{work}/qos-{name}-bdev.json"))[0]["assigned_rate_limits"]
    before = {c["thread_id"]: c["num_read_ops"] + c["num_write_ops"] for c in json.load(open(f"{work}/qos-{name}-before.json"))["channels"]}
    after = {c["thread_id"]: c["num_read_ops"] + c["num_write_ops"] for c in json.load(open(f"{work}/qos-{name}-after.json"))["channels"]}
    per_reactor = {r: after[r] - before.get(r, 0) for r in after}
    errors = sum(r["errors"]["count"] + r["errors"]["cut_off_at_exit"] for r in runs.values())
    e = {"case": name, "limits": limits, "per_reactor_ios": per_reactor, "errors": errors, "ratios": {}}
    if limits["rw_ios_per_sec"]:
        e["ratios"]["rw_ios_per_sec"] = runs[""]["total"]["iops"] / limits["rw_ios_per_sec"]
    if limits["rw_mbytes_per_sec"]:
        e["ratios"]["rw_mbytes_per_sec"] = runs[""]["total"]["mib_per_s"] / limits["rw_mbytes_per_sec"]
    for k, part in (("r_mbytes_per_sec", "-read"), ("w_mbytes_per_sec", "-write")):
        if limits[k]:
            e["ratios"][k] = runs[part]["total"]["mib_per_s"] / limits[k]
    out.append(e)
    ratios = ", ".join(f"{k} {v:.3f}" for k, v in e["ratios"].items())
    print(f"[bench] qos {name}: achieved/limit {ratios}; I/Os per reactor {per_reactor}; errors {errors}", file=sys.stderr)
json.dump(out, open(f"{work}/qos.json", "w"), indent=1)
PY

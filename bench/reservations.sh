#!/usr/bin/env bash
# bench/reservations.sh WORK_DIR: what NVMe reservations cost the data path, measured in one
# session as ratios against a baseline of the same session. nvmfd (core 0) exports one null
# namespace (1 GiB of 4096-byte blocks: no data moved, so that the per-command work shows); a
# second nvmfd, host only (no listener, its own RPC socket and random Host ID, core 0, event
# mode: idle but for Keep Alive), is attached to it and changes the namespace's reservation
# state between runs of nvmf-perf (core 1), which is never registered:
#   none        no registrant (the baseline: a null reservation view per command);
#   held        the other host holds a Write Exclusive reservation (reads allowed to all:
#               each read is checked against a non-null view);
#   registered  the other host is registered, no reservation held.
# Runs alternate the states in rounds, for 4 KiB random read at QD 1 and QD 32; each round
# starts one state further (none held registered, held registered none, ...), so that every
# state runs first, second and third equally often, and is compared with the baseline run of
# its own round. Before them, a sanity check: a write from nvmf-perf while the reservation
# is held must fail with Reservation Conflict (and pass with no registrant).
# Writes WORK_DIR/reservations.json (medians, ratios to the baseline, samples, other
# processes' CPU per run, the load); bench/report.py turns it into a section of
# docs/performance.md. Called by bench/run.sh; alone it needs build/bin/{nvmfd,nvmfctl,nvmf-perf}.
# Knobs: BENCH_RESV_TIME (seconds per run, default 3), BENCH_RESV_SAMPLES (rounds per
# workload, default 9), BENCH_RESV_STATES (default "none held registered"; "none held"
# leaves the third out). Stops what it starts, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$1
mkdir -p "$work"
time_s=${BENCH_RESV_TIME:-3}
samples=${BENCH_RESV_SAMPLES:-9}
read -r -a states <<< "${BENCH_RESV_STATES:-none held registered}"
[ "${states[0]}" = none ] || { echo "[bench] resv: BENCH_RESV_STATES must start with none (the baseline)" >&2; exit 2; }
source bench/lib.sh
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  pids=()
}
trap cleanup EXIT
trap 'echo "[bench] resv: interrupted" >&2; exit 130' INT TERM
[ -f "$work/commands.txt" ] || : > "$work/commands.txt"

port=$(free_port)
nqn=nqn.2016-06.io.nvmfd:resv-bench
tsock=$work/resv-target.sock
hsock=$work/resv-holder.sock
cat > "$work/resv-target.json" <<CFG
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_null_create", "params": {"name": "Null0", "num_blocks": 262144, "block_size": 4096}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$nqn", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$nqn", "namespace": {"bdev_name": "Null0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$nqn",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}}]}]}
CFG
echo '{"subsystems": []}' > "$work/resv-holder.json"  # host only: no bdev, no listener

wait_rpc() {  # SOCKET PID
  for _ in $(seq 100); do
    build/bin/nvmfctl -s "$1" rpc_get_methods > /dev/null 2>&1 && return 0
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "[bench] resv: nvmfd ($1) did not come up" >&2
  exit 1
}
loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
read -r b0 t0 < <(cpu_busy_total)
sleep 1
read -r b1 t1 < <(cpu_busy_total)
busy_before=$(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))

start_bg "$work/resv-target.log" build/bin/nvmfd -c "$work/resv-target.json" -r "$tsock" -m 0x1
target_pid=$bg_pid
wait_rpc "$tsock" "$target_pid"
start_bg "$work/resv-holder.log" build/bin/nvmfd -c "$work/resv-holder.json" -r "$hsock" -m 0x1 --poll-mode event
holder_pid=$bg_pid
wait_rpc "$hsock" "$holder_pid"
# Every command from here on is listed in resv-commands.txt; commands.txt gets each kind once.
: > "$work/resv-commands.txt"
holder() {  # nvmfctl on the holder
  quote build/bin/nvmfctl -s "$hsock" "$@" >> "$work/resv-commands.txt"
  build/bin/nvmfctl -s "$hsock" "$@"
}
holder bdev_nvme_attach_controller --name R --trtype tcp --traddr 127.0.0.1 --trsvcid "$port" --subnqn "$nqn" > /dev/null

# The reservation state, moved by the holder; each move checked with a Reservation Report.
state=none
expect() {  # RTYPE REGCTL: the report must say so
  holder resv-report Rn1 > "$work/resv-report.json"
  python3 - "$work/resv-report.json" "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
if (r["rtype"], r["regctl"]) != (int(sys.argv[2]), int(sys.argv[3])):
    sys.exit(f"[bench] resv: expected rtype {sys.argv[2]}, regctl {sys.argv[3]}; the report says {r}")
PY
}
enter() {  # STATE
  [ "$1" = "$state" ] && return 0
  [ "$state" = held ] && holder resv-release Rn1 -c 0x1 -t 1 > /dev/null
  [ "$state" = none ] && holder resv-register Rn1 --nrkey 0x1 > /dev/null
  case $1 in
    none) holder resv-register Rn1 -c 0x1 -r 1 > /dev/null; expect 0 0 ;;
    held) holder resv-acquire Rn1 -c 0x1 -t 1 -a 0 > /dev/null; expect 1 1 ;;
    registered) expect 0 1 ;;
    *) echo "[bench] resv: unknown state $1" >&2; exit 2 ;;
  esac
  state=$1
}

trid="trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:$nqn"
perf_cmd() {  # OUT nvmf-perf-args...: the command line, as an array in cmd
  local json_out=$1
  shift
  cmd=(build/bin/nvmf-perf -c 0x2 "$@" -r "$trid" --json "$json_out")
}

# --- sanity: a write from the unregistered host conflicts while the reservation is held ----
for s in none held; do
  enter "$s"
  perf_cmd "$work/resv-write-$s.json" -q 1 -o 4096 -w randwrite -t 1 --warmup 0
  quote "${cmd[@]}" >> "$work/resv-commands.txt"
  rc=0
  "${cmd[@]}" > "$work/resv-write-$s.txt" 2>&1 || rc=$?
  echo "[bench] resv: 4 KiB writes, state $s: exit $rc, $(grep -E '^I/O errors' "$work/resv-write-$s.txt" || echo 'no I/O errors')" >&2
done
python3 - "$work" <<'PY'
import json, sys
w = {s: json.load(open(f"{sys.argv[1]}/resv-write-{s}.json")) for s in ("none", "held")}
if w["none"]["errors"]["count"] or not w["none"]["total"]["ios"]:
    sys.exit("[bench] resv: writes failed with no registrant")
st = w["held"]["errors"]["statuses"]
if w["held"]["total"]["ios"] or not st or any((e["sct"], e["sc"]) != (0, 0x83) for e in st):
    sys.exit(f"[bench] resv: writes under another host's Write Exclusive did not all fail with Reservation Conflict: {st}")
PY

# --- the runs: states alternated, per workload --------------------------------------------
printf 'name\tstate\ttarget_jiffies\tholder_jiffies\tmachine_busy_jiffies\twall_s\n' > "$work/resv-runs.tsv"
for qd in 1 32; do
  for i in $(seq "$samples"); do
    k=${#states[@]}
    for j in $(seq 0 $((k - 1))); do
      s=${states[$(( (i - 1 + j) % k ))]}
      enter "$s"
      name=resv-randread-qd$qd-$s-$i
      perf_cmd "$work/$name.json" -q "$qd" -o 4096 -w randread -t "$time_s" --warmup 1
      quote "${cmd[@]}" >> "$work/resv-commands.txt"
      tj0=$(proc_jiffies "$target_pid"); hj0=$(proc_jiffies "$holder_pid")
      read -r mb0 _ < <(cpu_busy_total)
      w0=$(date +%s.%N)
      "${cmd[@]}" > "$work/$name.txt" 2>&1 || { echo "[bench] resv: $name failed:" >&2; cat "$work/$name.txt" >&2; exit 1; }
      w1=$(date +%s.%N)
      read -r mb1 _ < <(cpu_busy_total)
      tj1=$(proc_jiffies "$target_pid"); hj1=$(proc_jiffies "$holder_pid")
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$s" "$((tj1 - tj0))" "$((hj1 - hj0))" "$((mb1 - mb0))" \
        "$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", b - a}')" >> "$work/resv-runs.tsv"
      echo "[bench] resv: randread 4 KiB QD$qd, $s, sample $i: $(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["total"]["iops"]), "IOPS")' "$work/$name.json")" >&2
    done
  done
done
enter none
stop_pid "$holder_pid"; forget_pid "$holder_pid"
stop_pid "$target_pid"; forget_pid "$target_pid"
sed -E 's/-[0-9]+\.json$/-N.json/' "$work/resv-commands.txt" | awk '!seen[$0]++' >> "$work/commands.txt"

python3 - "$work" "$samples" "$time_s" "$(getconf CLK_TCK)" "$loadavg_before" "$busy_before" \
  "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src apps 2>/dev/null || echo ' (with local changes)')" \
  "nice $(nice); $(cat /proc/self/autogroup 2>/dev/null || echo 'no autogroup')" \
  "$(env | grep -E '^BENCH_RESV_' | sort || true)" "${states[@]}" <<'PY'
import datetime, json, os, shlex, statistics, sys
work, n, time_s, clk = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
load_before, busy_before, git, prio, knobs = sys.argv[5], int(sys.argv[6]), sys.argv[7], sys.argv[8], sys.argv[9]
states = sys.argv[10:]
knobs = " ".join(k + "=" + shlex.quote(v) for k, v in (x.split("=", 1) for x in knobs.splitlines()))
cpu = {}  # run name -> (target, holder, others) cores busy
for line in open(f"{work}/resv-runs.tsv").read().splitlines()[1:]:
    name, _s, tj, hj, mb, wall = line.split("\t")
    perf_cores = json.load(open(f"{work}/{name}.json"))["process_cpu"]["cores_busy"]
    t, h, m = (int(x) / clk / float(wall) for x in (tj, hj, mb))
    cpu[name] = (t, h, max(0.0, m - t - h - perf_cores))
med = statistics.median
out = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"), "git": git,
       "nproc": os.cpu_count(), "loadavg_before": load_before, "busy_before_pct": busy_before,
       "loadavg_after": open("/proc/loadavg").read().split()[:3],
       "priority": prio, "knobs": knobs, "time_s": time_s, "warmup_s": 1, "samples": n, "states": states,
       "namespace": "null bdev, 1 GiB of 4096-byte blocks", "target_cpu": 0, "host_cpu": 1, "holder_cpu": 0,
       "sanity": {}, "runs": []}
for s in ("none", "held"):
    j = json.load(open(f"{work}/resv-write-{s}.json"))
    out["sanity"][s] = {"writes_completed": j["total"]["ios"], "errors": j["errors"]["count"],
                        "statuses": j["errors"]["statuses"]}
holder = []
for qd in (1, 32):
    per = {}
    for s in states:
        names = [f"resv-randread-qd{qd}-{s}-{i}" for i in range(1, n + 1)]
        tot = [json.load(open(f"{work}/{x}.json"))["total"] for x in names]
        holder += [cpu[x][1] for x in names]
        per[s] = {"iops": med(t["iops"] for t in tot), "avg_lat_us": med(t["latency_us"]["average"] for t in tot),
                  "p99_lat_us": med(t["latency_us"]["p99"] for t in tot),
                  "samples": [t["iops"] for t in tot], "target_cores": [round(cpu[x][0], 3) for x in names],
                  "others_cores": [round(cpu[x][2], 3) for x in names]}
    ratios = {}
    for s in states[1:]:
        pair = [b / a for a, b in zip(per["none"]["samples"], per[s]["samples"])]
        ratios[s] = {"of_medians": per[s]["iops"] / per["none"]["iops"], "pairwise_median": med(pair),
                     "pairwise_min": min(pair), "pairwise_max": max(pair), "pairwise": pair}
    out["runs"].append({"workload": "randread", "io_size": 4096, "queue_depth": qd, "states": per, "ratios": ratios})
out["holder_cores_max"] = max(holder)
json.dump(out, open(f"{work}/reservations.json", "w"), indent=1)
for r in out["runs"]:
    for s, q in r["ratios"].items():
        print(f"[bench] resv: randread 4 KiB QD{r['queue_depth']}: {s} / none = {q['pairwise_median']:.3f} "
              f"(median of {n} pairs, {q['pairwise_min']:.3f} - {q['pairwise_max']:.3f}); medians "
              f"{r['states']['none']['iops']:.0f} vs {r['states'][s]['iops']:.0f} IOPS", file=sys.stderr)
PY

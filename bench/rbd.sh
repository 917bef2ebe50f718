#!/usr/bin/env bash
# bench/rbd.sh WORK_DIR: nvmfd on Ceph RBD against `rbd bench` (librbd directly) on the same
# image of the same throw-away cluster, in one session, as ratios (issue 17, item 5).
#
#   bash bench/rbd.sh DIR                       # ~10 min; results in DIR/rbd.json
#   BENCH_RBD_TIME=2 BENCH_RBD_ROUNDS=1 BENCH_RBD_SIZE_MIB=256 bash bench/rbd.sh DIR   # ~2 min check
#
# The cluster: tests/ceph/ceph_cluster.sh start (BENCH_RBD_OSDS OSDs, default 1: on two CPUs
# more OSDs only add threads competing for the same cores; pool size 1) in a temp dir, each OSD
# a sparse file of 8 x the image + 4 GiB (small random writes grow BlueFS far beyond the data;
# docs/ceph.md), one image of BENCH_RBD_SIZE_MIB MiB (default 1024) written end to end first
# (4 MiB sequential writes with rbd bench) so that reads hit data. Cases (BENCH_RBD_CASES):
#   randread-4k  randwrite-4k  randrw70-4k (70 % reads)  read-128k (sequential), all at QD 32.
# Each case: one rbd bench run to warm up and size the runs (rbd bench stops after
# --io-total bytes, not after a time), then BENCH_RBD_ROUNDS rounds (default 5) of two runs,
# one per side, the side that goes first alternating round by round:
#   rbd    taskset -c 0 rbd bench --io-type T --io-pattern P --io-size S --io-threads 32
#          [--rw-mix-read 70] --io-total (last rate x (warm-up + time))
#   nvmfd  taskset -c 0 nvmfd -m 0x1 exporting bdev_rbd_create on the same image (block size
#          4096) over NVMe/TCP on 127.0.0.1, started for the run and stopped after it (rbd bench
#          too opens the image per run; no exclusive-lock ping-pong with an idle holder);
#          taskset -c 1 nvmf-perf -c 0x2 -q 32 -o S -w W [-M 70] -t BENCH_RBD_TIME --warmup W.
# Both sides use librbd's defaults (rbd_cache on, writeback) with
# rbd_cache_writethrough_until_flush=false: the rbd tool sets that itself at start-up, nvmfd
# gets it as the cluster's config_param (nvmf-perf never flushes; a host that does would see
# the same after its first FLUSH). Warm-up: nvmf-perf's first BENCH_RBD_WARMUP seconds (default
# 1) are not counted; for rbd bench the same seconds are cut from its per-second progress lines.
# CPU per run (bench/timed_run.py, /proc/PID/stat): rbd bench (wait4), nvmfd, nvmf-perf
# (its JSON), the OSDs and the monitor, and the rest of the machine (/proc/stat).
# Writes DIR/rbd.json; bench/report.py makes the section "nvmfd on Ceph RBD against rbd
# bench" (`report.py --update docs/performance.md rbd DIR` puts it into the page alone).
# Exit 77 when Ceph is not installed. Stops everything it starts, by PID (the cluster by its
# script), also on failure or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$1
mkdir -p "$work"
time_s=${BENCH_RBD_TIME:-5}
warmup_s=${BENCH_RBD_WARMUP:-1}
rounds=${BENCH_RBD_ROUNDS:-5}
osds=${BENCH_RBD_OSDS:-1}
size_mib=${BENCH_RBD_SIZE_MIB:-1024}
read -r -a cases <<< "${BENCH_RBD_CASES:-randread-4k randwrite-4k randrw70-4k read-128k}"
qd=32
run_timeout=$((60 + 10 * (time_s + warmup_s)))  # seconds, per client run
for b in nvmfd nvmfctl nvmf-perf; do [ -x "build/bin/$b" ] || { echo "[bench] rbd: build/bin/$b is missing" >&2; exit 1; }; done
source bench/lib.sh
[ -f "$work/commands.txt" ] || : > "$work/commands.txt"
cluster=""
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  pids=()
  if [ -n "$cluster" ]; then  # the daemons' and clients' logs are kept, the cluster removed
    cp -r "$cluster/log" "$work/rbd-ceph-logs" 2>/dev/null || true
    bash tests/ceph/ceph_cluster.sh stop "$cluster" >&2 || true
  fi
}
trap cleanup EXIT
trap 'echo "[bench] rbd: interrupted" >&2; exit 130' INT TERM

loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)
read -r b0 t0 < <(cpu_busy_total)
sleep 1
read -r b1 t1 < <(cpu_busy_total)
busy_before=$(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))

# --- the cluster and the image ---------------------------------------------------------------
cluster=$(mktemp -d /tmp/nvmfd-rbdbench.XXXXXX)
rc=0
bash tests/ceph/ceph_cluster.sh start "$cluster" --osds "$osds" --osd-size "$((size_mib * 8 / 1024 + 4))G" \
  2> "$work/rbd-cluster.log" || rc=$?
if [ "$rc" != 0 ]; then
  [ "$rc" = 77 ] && cluster=""  # nothing was started
  cat "$work/rbd-cluster.log" >&2
  exit "$rc"
fi
tail -n 1 "$work/rbd-cluster.log" >&2
eval "$(bash tests/ceph/ceph_cluster.sh env "$cluster")"
export CEPH_CONF
image=nvmfd-bench
spec=$CEPH_POOL/$image
rbd create --size "${size_mib}M" "$spec"
quote rbd create --size "${size_mib}M" "$spec" >> "$work/commands.txt"
echo "[bench] rbd: writing the ${size_mib} MiB image end to end" >&2
fill=(rbd bench --io-type write --io-pattern seq --io-size 4M --io-threads 16 --io-total "${size_mib}M" "$spec")
quote "${fill[@]}" >> "$work/commands.txt"
"${fill[@]}" > "$work/rbd-fill.txt" 2>&1 || { cat "$work/rbd-fill.txt" >&2; exit 1; }
osd_pids=()
for f in "$cluster"/run/osd.*.pid; do osd_pids+=("$(cat "$f")"); done
mon_pid=$(cat "$cluster"/run/mon.*.pid)
watch=()
for p in "${osd_pids[@]}" "$mon_pid"; do watch+=(--watch "$p"); done

# --- nvmfd's config: one RBD bdev on the image, one subsystem ------------------------------
port=$(free_port)
nqn=nqn.2016-06.io.nvmfd:rbd-bench
sock=$work/rbd-nvmfd.sock
cat > "$work/rbd-nvmfd.json" <<CFG
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_rbd_register_cluster", "params": {"name": "bench", "user_id": "$CEPH_USER",
      "config_file": "$CEPH_CONF", "key_file": "$CEPH_KEYRING",
      "config_param": {"rbd_cache_writethrough_until_flush": "false"}}},
    {"method": "bdev_rbd_create", "params": {"name": "Rbd0", "pool_name": "$CEPH_POOL", "rbd_name": "$image",
      "block_size": 4096, "cluster_name": "bench"}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP", "in_capsule_data_size": 4096,
      "max_io_size": 131072, "io_unit_size": 131072, "max_queue_depth": 256}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$nqn", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$nqn", "namespace": {"bdev_name": "Rbd0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$nqn",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}}]}]}
CFG
trid="trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:$nqn"

# case_params CASE: sets io_size, rbd_args (type, pattern, mix) and perf_args (workload, mix).
case_params() {
  case $1 in
    randread-4k) io_size=4096; rbd_args=(--io-type read --io-pattern rand); perf_args=(-w randread) ;;
    randwrite-4k) io_size=4096; rbd_args=(--io-type write --io-pattern rand); perf_args=(-w randwrite) ;;
    randrw70-4k) io_size=4096; rbd_args=(--io-type readwrite --rw-mix-read 70 --io-pattern rand); perf_args=(-w randrw -M 70) ;;
    read-128k) io_size=131072; rbd_args=(--io-type read --io-pattern seq); perf_args=(-w read) ;;
    *) echo "[bench] rbd: unknown case $1" >&2; exit 2 ;;
  esac
}
: > "$work/rbd-commands.txt"

# rbd_run NAME BYTES: one rbd bench run of the current case; its output in NAME.txt, the CPU
# readings in NAME.cpu.json; prints its whole-run IOPS.
rbd_run() {
  local name=$1 bytes=$2
  local cmd=(taskset -c 0 rbd bench "${rbd_args[@]}" --io-size "$io_size" --io-threads "$qd" --io-total "$bytes" "$spec")
  quote "${cmd[@]}" >> "$work/rbd-commands.txt"
  python3 bench/timed_run.py --out "$work/$name.txt" --result "$work/$name.cpu.json" --marker "bench  type" \
    "${watch[@]}" --timeout "$run_timeout" -- stdbuf -oL "${cmd[@]}" || { echo "[bench] rbd: $name failed:" >&2; cat "$work/$name.txt" >&2; exit 1; }
  awk '/^elapsed:/{print $6; exit}' "$work/$name.txt"
}

# nvmfd_run NAME: nvmfd started on the image, one nvmf-perf run of the current case, nvmfd stopped.
nvmfd_run() {
  local name=$1
  local tcmd=(taskset -c 0 build/bin/nvmfd -m 0x1 -c "$work/rbd-nvmfd.json" -r "$sock")
  quote "${tcmd[@]}" >> "$work/rbd-commands.txt"
  "${tcmd[@]}" > "$work/$name.nvmfd.log" 2>&1 &
  local tp=$!
  pids+=("$tp")
  wait_listening "$port" "$tp" || { echo "[bench] rbd: nvmfd did not come up" >&2; cat "$work/$name.nvmfd.log" >&2; exit 1; }
  local cmd=(taskset -c 1 build/bin/nvmf-perf -c 0x2 -q "$qd" -o "$io_size" "${perf_args[@]}" -t "$time_s"
             --warmup "$warmup_s" -r "$trid" --json "$work/$name.json")
  quote "${cmd[@]}" >> "$work/rbd-commands.txt"
  python3 bench/timed_run.py --out "$work/$name.txt" --result "$work/$name.cpu.json" --marker "Launching workers" \
    --watch "$tp" "${watch[@]}" --timeout "$run_timeout" -- stdbuf -oL "${cmd[@]}" || { echo "[bench] rbd: $name failed:" >&2; cat "$work/$name.txt" >&2; exit 1; }
  # nvmfd flushes librbd's cache and closes the image on SIGTERM: give it up to 60 s (a kill
  # would leave the image's exclusive lock to a dead owner until its watch times out).
  local t0 rc=0
  t0=$(date +%s.%N)
  kill -TERM "$tp"
  for _ in $(seq 600); do kill -0 "$tp" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$tp" 2>/dev/null && { echo "[bench] rbd: nvmfd took over 60 s to stop; killed" >&2; kill -KILL "$tp"; }
  wait "$tp" || rc=$?
  forget_pid "$tp"
  echo "rc=$rc stop_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}')" > "$work/$name.stop"
  [ "$rc" = 0 ] || { echo "[bench] rbd: nvmfd exited with $rc:" >&2; tail -n 20 "$work/$name.nvmfd.log" >&2; exit 1; }
}

for c in "${cases[@]}"; do
  case_params "$c"
  # Warm-up and sizing: about 2 s at a guess of 2,000 I/O per second.
  rate=$(rbd_run "rbd-$c-warmup" $((io_size * 4000)))
  echo "[bench] rbd: $c warm-up: rbd bench $(printf '%.0f' "$rate") IOPS" >&2
  for i in $(seq "$rounds"); do
    if (( i % 2 )); then order=(rbd nvmfd); else order=(nvmfd rbd); fi
    for side in "${order[@]}"; do
      name=rbd-$c-$side-$i
      if [ "$side" = rbd ]; then
        bytes=$(python3 -c 'import sys; r, t, s = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]); print(max(64, int(r * t)) * s)' \
          "$rate" "$((time_s + warmup_s))" "$io_size")
        rate=$(rbd_run "$name" "$bytes")
        echo "[bench] rbd: $c round $i rbd bench: $(printf '%.0f' "$rate") IOPS (whole run)" >&2
      else
        nvmfd_run "$name"
        echo "[bench] rbd: $c round $i nvmfd: $(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["total"]["iops"]))' "$work/$name.json") IOPS" >&2
      fi
    done
  done
done
sed -E 's/--io-total [0-9]+/--io-total BYTES/' "$work/rbd-commands.txt" | awk '!seen[$0]++' >> "$work/commands.txt"
echo "# nvmfd config: $work/rbd-nvmfd.json" >> "$work/commands.txt"

python3 bench/rbd_results.py "$work" "$rounds" "$time_s" "$warmup_s" "$osds" "$size_mib" "$qd" \
  "$loadavg_before" "$busy_before" \
  "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src apps 2>/dev/null || echo ' (with local changes)')" \
  "nice $(nice); $(cat /proc/self/autogroup 2>/dev/null || echo 'no autogroup')" \
  "$(env | grep -E '^BENCH_RBD_' | sort || true)" "$(ceph --version | awk '{print $3}')" "${cases[@]}"

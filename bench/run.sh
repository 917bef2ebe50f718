#!/usr/bin/env bash
# bench/run.sh: measures raw TCP loopback (iperf3) and nvmfd driven by nvmf-perf on this
# machine, then writes docs/performance.md from the tools' JSON output (bench/README.md).
#
#   bash bench/run.sh                          # about 35 minutes once built (30 of them side by
#                                              # side with SPDK; BENCH_COMPARE=0 leaves that out)
#   BENCH_TIME=5 BENCH_WARMUP=1 BENCH_DOC=/tmp/p.md bash bench/run.sh   # quicker, elsewhere
#
# The target runs on core 0 (nvmfd -m 0x1), nvmf-perf on core 1 (-c 0x2); iperf3's client
# (sender, like the target for reads) on core 0 and its server on core 1. Results and logs
# stay in build/bench/<UTC time>/. Every process started here is stopped by PID on exit.
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.."

time_s=${BENCH_TIME:-10}
warmup_s=${BENCH_WARMUP:-2}
doc=${BENCH_DOC:-docs/performance.md}
target_cpu=0
host_cpu=1
if [ "$(nproc)" -lt 2 ]; then
  echo "[bench] only one CPU: target and host share it" >&2
  host_cpu=0
fi
# Highest CPU priority when allowed (root), so that other work on the machine disturbs the
# runs less; BENCH_NICE=0 turns it off. The report shows how much CPU others used meanwhile.
nice_level=${BENCH_NICE:--20}
prio=()
if [ "$nice_level" != 0 ] && nice -n "$nice_level" true 2>/dev/null; then
  prio=(nice -n "$nice_level")
  # With autogroup scheduling, sessions share the CPUs before nice counts: run in a session of
  # our own, whose autogroup gets the same nice value. Signals are passed on to it.
  if [ "$(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null)" = 1 ] && [ -z "${BENCH_OWN_SESSION:-}" ] &&
     command -v setsid >/dev/null; then
    BENCH_OWN_SESSION=1 setsid bash "$self" "$@" &
    inner=$!
    trap 'kill -TERM "$inner" 2>/dev/null || true' INT TERM
    rc=0
    wait "$inner" || rc=$?
    while kill -0 "$inner" 2>/dev/null; do rc=0; wait "$inner" || rc=$?; done
    exit "$rc"
  fi
  [ -n "${BENCH_OWN_SESSION:-}" ] && { echo "$nice_level" > /proc/self/autogroup; } 2>/dev/null || true
fi
target_mask=$(printf '0x%x' $((1 << target_cpu)))
host_mask=$(printf '0x%x' $((1 << host_cpu)))

# --- processes: every one we start is in pids, stopped by PID on exit ---------------------
source bench/lib.sh
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  pids=()
  [ -n "${rpc_sock:-}" ] && rm -f "$rpc_sock"
  return 0
}
trap cleanup EXIT
trap 'echo "[bench] interrupted" >&2; exit 130' INT TERM

# --- tools ---------------------------------------------------------------------------------
need=()
command -v iperf3 >/dev/null || need+=(iperf3)
command -v python3 >/dev/null || need+=(python3)
command -v taskset >/dev/null || need+=(util-linux)
command -v ss >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  echo "[bench] installing: ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ "${BENCH_NO_BUILD:-0}" = 1 ]; then
  for b in nvmfd nvmfctl nvmf-perf nvmf-failover-bench nvmf-lvol-bench; do [ -x "build/bin/$b" ] || { echo "[bench] build/bin/$b is missing" >&2; exit 1; }; done
else
  if [ ! -f build/build.ninja ]; then bash scripts/deps.sh; cmake --preset release >/dev/null; fi
  for b in nvmfd nvmfctl nvmf-perf nvmf-failover-bench nvmf-lvol-bench; do cmake --build build --target "$b" >/dev/null; done
fi

work=build/bench/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$work"
: > "$work/commands.txt"
: > "$work/runs.tsv"
echo "[bench] results in $work" >&2


# --- the machine, and how busy it is before we start ----------------------------------------
read -r b0 t0 < <(cpu_busy_total)
sleep 1
read -r b1 t1 < <(cpu_busy_total)
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "nproc=$(nproc)"
  echo "cpu_model=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
  echo "kernel=$(uname -r)"
  echo "mem_total_kib=$(awk '/^MemTotal/{print $2}' /proc/meminfo)"
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "busy_before_pct=$(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))"
  echo "git=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src apps 2>/dev/null || echo ' (with local changes)')"
  echo "invocation=$(env | grep -E '^BENCH_(TIME|WARMUP|DOC|NICE|NO_BUILD|COMPARE|PAIRS|IDLE_S|RBD)=' | sort | tr '\n' ' ' | sed 's/ $//' || true)"
  echo "time_s=$time_s"
  echo "warmup_s=$warmup_s"
  echo "target_cpu=$target_cpu"
  echo "host_cpu=$host_cpu"
  echo "clk_tck=$(getconf CLK_TCK)"
  echo "nice=${prio[*]:-none}; $(cat /proc/self/autogroup 2>/dev/null || echo 'no autogroup')"
} > "$work/machine.env"
busy=$(awk -F= '/^busy_before_pct/{print $2}' "$work/machine.env")
[ "$busy" -le 10 ] || echo "[bench] warning: the machine is already ${busy}% busy; figures will suffer" >&2

# --- a. raw TCP loopback: iperf3, one stream, 1 MiB writes; three runs (the report uses the median)
for i in 1 2 3; do
  port=$(free_port)
  start_bg "$work/iperf3_server_$i.json" "${prio[@]}" taskset -c "$host_cpu" iperf3 -s -1 -p "$port" -J
  server_pid=$bg_pid
  wait_listening "$port" "$server_pid" || { echo "[bench] nothing listens on port $port" >&2; exit 1; }
  echo "[bench] iperf3 run $i, ${time_s}s" >&2
  read -r mb0 mt0 < <(cpu_busy_total)
  w0=$(date +%s.%N)
  start_bg "$work/iperf3_client_$i.json" "${prio[@]}" taskset -c "$target_cpu" iperf3 -c 127.0.0.1 -p "$port" -l 1M -t "$time_s" -J
  client_pid=$bg_pid
  wait "$client_pid" || { echo "[bench] iperf3 client failed" >&2; cat "$work/iperf3_client_$i.json" >&2; exit 1; }
  forget_pid "$client_pid"
  w1=$(date +%s.%N)
  read -r mb1 mt1 < <(cpu_busy_total)
  printf 'iperf3_%s\t-\t0\t%s\t%s\t%s\n' "$i" "$((mb1 - mb0))" "$((mt1 - mt0))" \
    "$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", b - a}')" >> "$work/runs.tsv"
  stop_pid "$server_pid"
  forget_pid "$server_pid"
done

# --- b. nvmfd on core 0 with a null and a RAM namespace, each in its own subsystem -----------
port=$(free_port)
rpc_sock=$work/rpc.sock
sed "s/@PORT@/$port/g" bench/nvmfd_bench.json > "$work/nvmfd_config.json"
start_bg "$work/nvmfd.log" "${prio[@]}" build/bin/nvmfd -c "$work/nvmfd_config.json" -r "$rpc_sock" -m "$target_mask"
nvmfd_pid=$bg_pid
for _ in $(seq 100); do
  build/bin/nvmfctl -s "$rpc_sock" nvmf_get_subsystems > /dev/null 2>&1 && break
  kill -0 "$nvmfd_pid" 2>/dev/null || { echo "[bench] nvmfd died" >&2; cat "$work/nvmfd.log" >&2; exit 1; }
  sleep 0.1
done
quote build/bin/nvmfctl -s "$rpc_sock" nvmf_get_transports >> "$work/commands.txt"
build/bin/nvmfctl -s "$rpc_sock" nvmf_get_transports > "$work/transports.json"

trid() { echo "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$port subnqn:nqn.2016-06.io.nvmfd:$1"; }

# perf NAME TARGET SECONDS WARMUP nvmf-perf-args...: one run, its JSON in $work/NAME.json; adds
# a line to runs.tsv with the CPU the target and the whole machine used meanwhile.
perf() {
  local name=$1 target=$2 secs=$3 warm=$4
  shift 4
  local cmd=("${prio[@]}" build/bin/nvmf-perf "$@" -t "$secs" --warmup "$warm" -r "$(trid "$target")" -c "$host_mask"
             --json "$work/$name.json")
  echo "[bench] $name: $*" >&2
  local tj0 tj1 mb0 mt0 mb1 mt1 w0 w1
  tj0=$(proc_jiffies "$nvmfd_pid")
  read -r mb0 mt0 < <(cpu_busy_total)
  w0=$(date +%s.%N)
  start_bg "$work/$name.txt" "${cmd[@]}"
  local p=$bg_pid
  if ! wait "$p"; then
    forget_pid "$p"
    echo "[bench] nvmf-perf $name failed:" >&2
    cat "$work/$name.txt" >&2
    exit 1
  fi
  forget_pid "$p"
  w1=$(date +%s.%N)
  read -r mb1 mt1 < <(cpu_busy_total)
  tj1=$(proc_jiffies "$nvmfd_pid")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$target" "$((tj1 - tj0))" "$((mb1 - mb0))" "$((mt1 - mt0))" \
    "$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", b - a}')" >> "$work/runs.tsv"
  grep '^Total' "$work/$name.txt" >&2 || true
}

workloads() {  # the five runs on one target
  local t=$1
  perf "$t-randread-4k-qd1" "$t" "$time_s" "$warmup_s" -q 1 -o 4096 -w randread
  perf "$t-randread-4k-qd32" "$t" "$time_s" "$warmup_s" -q 32 -o 4096 -w randread
  perf "$t-randread-4k-qd128" "$t" "$time_s" "$warmup_s" -q 128 -o 4096 -w randread
  perf "$t-read-128k-qd16" "$t" "$time_s" "$warmup_s" -q 16 -o 131072 -w read
  perf "$t-randwrite-4k-qd32" "$t" "$time_s" "$warmup_s" -q 32 -o 4096 -w randwrite
}

workloads null0
# A RAM disk's untouched pages read as the kernel's shared zero page (always in cache): write
# all of it first so that reads copy real memory. One sequential pass: the run must cover it.
ram_bytes=$((262144 * 4096))
perf malloc0-fill malloc0 3 0 -q 16 -o 131072 -w write
written=$(python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j['total']['ios'] * j['parameters']['io_size'])" "$work/malloc0-fill.json")
if [ "$written" -lt "$ram_bytes" ]; then
  secs=$(python3 -c "import sys; w,n=map(int,sys.argv[1:]); print(min(120, int(3 * n / max(w,1) * 1.3) + 1))" "$written" "$ram_bytes")
  perf malloc0-fill malloc0 "$secs" 0 -q 16 -o 131072 -w write
fi
workloads malloc0

stop_pid "$nvmfd_pid"
forget_pid "$nvmfd_pid"

# --- c. multipath failover: host and target in one process, two loopback paths ---------------
echo "[bench] failover: ANA change, listener removed, link cut (KATO 1 s and 3 s)" >&2
start_bg "$work/failover.txt" "${prio[@]}" build/bin/nvmf-failover-bench --samples "${BENCH_FAILOVER_SAMPLES:-7}" \
  --kato-ms 1000 --kato-ms 3000 --json "$work/failover.json"
fo_pid=$bg_pid
if ! wait "$fo_pid"; then
  forget_pid "$fo_pid"
  echo "[bench] nvmf-failover-bench failed:" >&2
  cat "$work/failover.txt" >&2
  exit 1
fi
forget_pid "$fo_pid"
cat "$work/failover.txt" >&2

# --- d. logical volume overhead (bench/lvol.sh) ----------------------------------------------
echo "[bench] lvol: thick volume vs its base bdev, through NVMe/TCP and at the bdev layer" >&2
"${prio[@]}" bash bench/lvol.sh "$work"

# --- d2. TLS 1.3 (PSK) vs clear text (bench/tls.sh) -----------------------------------------
echo "[bench] tls: TLS vs clear text, same subsystem through two listeners, alternated" >&2
"${prio[@]}" bash bench/tls.sh "$work"

# --- d3. reservations on the data path (bench/reservations.sh) ------------------------------
echo "[bench] reservations: no registrant vs another host's Write Exclusive, alternated" >&2
"${prio[@]}" bash bench/reservations.sh "$work"

# --- d4. nvmfd on Ceph RBD against rbd bench (bench/rbd.sh; its own throw-away cluster) --------
# Skipped, saying so, when Ceph is not installed (exit 77) or with BENCH_RBD=0.
if [ "${BENCH_RBD:-1}" != 0 ]; then
  echo "[bench] rbd: nvmfd on an RBD image vs rbd bench on the same image, rounds alternated" >&2
  rc=0
  # Not under "${prio[@]}": the Ceph daemons daemonise into sessions of their own (autogroups
  # at nice 0), so nvmfd and the clients at nice -20 would take the CPUs from the OSD.
  bash bench/rbd.sh "$work" || rc=$?
  if [ "$rc" = 77 ]; then echo "[bench] rbd: Ceph is not installed (scripts/deps.sh); section left out" >&2
  elif [ "$rc" != 0 ]; then exit "$rc"; fi
fi

# --- d5. gateway group failover time (bench/gateway_failover.sh; a throw-away cluster per sample) --
if [ "${BENCH_GW:-1}" != 0 ]; then
  echo "[bench] gateway failover: SIGKILL of the optimized gateway under verified I/O" >&2
  rc=0
  BENCH_DOC=$doc bash bench/gateway_failover.sh "$work/gateway_failover" || rc=$?
  if [ "$rc" = 77 ]; then echo "[bench] gateway failover: Ceph is not installed; section left out" >&2
  elif [ "$rc" != 0 ]; then exit "$rc"; fi
fi

# --- e. side by side with SPDK v26.05's nvmf_tgt (bench/spdk_compare.sh, results in compare/) --
# Not under "${prio[@]}": it sets the priority of what it runs itself, and runs its plain part
# without. Without the SPDK peer (SPDK_PEER_DIR) it measures the nvmfd half only.
if [ "${BENCH_COMPARE:-1}" != 0 ]; then
  echo "[bench] side by side with SPDK: bench/spdk_compare.sh" >&2
  BENCH_NO_BUILD=1 bash bench/spdk_compare.sh "$work/compare"
fi

# --- f. the report ---------------------------------------------------------------------------
python3 bench/report.py "$work" > "$work/performance.md"
mkdir -p "$(dirname "$doc")"
cp "$work/performance.md" "$doc"
# Sections made by their own scripts: the gateway failover table, the latency charts.
if [ -f "$work/gateway_failover/section.md" ]; then printf '\n' >> "$doc"; cat "$work/gateway_failover/section.md" >> "$doc"; fi
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  /usr/bin/python3 bench/charts.py "$work" "$(dirname "$doc")/images/perf" --doc "$doc" >&2
else
  echo "[bench] charts: python3-matplotlib is not installed (scripts/deps.sh installs it); left out" >&2
fi
echo "[bench] wrote $doc" >&2
sed -n '/^## Results/,/^## Setup/p' "$doc" | sed '$d'

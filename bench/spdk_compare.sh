#!/usr/bin/env bash
# bench/spdk_compare.sh [WORK_DIR]: nvmfd side by side with SPDK v26.05's nvmf_tgt, driven by
# the same clients (SPDK's spdk_nvme_perf and our nvmf-perf) in one run (bench/README.md).
#
#   bash bench/spdk_compare.sh            # results in build/bench/<UTC time>/, then rewrites the
#                                         # "Side by side with SPDK" section of docs/performance.md
#   bash bench/spdk_compare.sh DIR        # results in DIR, no document (bench/run.sh does this and
#                                         # puts the section into the page it writes)
#   BENCH_TIME=1 BENCH_PAIRS=1 BENCH_IDLE_S=3 BENCH_DOC=/tmp/x.md bash bench/spdk_compare.sh  # a quick check
#
# Parts (BENCH_COMPARE_PARTS, default all five):
#  main       5 cases x {null, RAM} x {spdk_nvme_perf, nvmf-perf}; nvmfd and SPDK alternate run by
#             run (nvmfd, SPDK, nvmfd, SPDK, ...), BENCH_PAIRS pairs. Both targets on core 0
#             (-m 0x1 under taskset -c 0), the client on core 1. While one target runs the other
#             is stopped (SIGSTOP): SPDK polls its core even when idle.
#  idle       each target with no host, then with one connected host doing nothing but Keep Alive
#             (a second nvmfd in host role on core 1): CPU per core over BENCH_IDLE_S seconds.
#  multicore  4 KiB randread QD128 over 2 connections against nvmfd -m 0x1 vs -m 0x3.
#  plain      as a new user runs it (no nice, no warm-up): nvmfd with its defaults, 128 KiB
#             sequential read QD16 on a null (512-byte blocks) and a RAM namespace, vs iperf3.
#  limits     where the 4 KiB random read ceiling at QD32/QD128 is: nvmf-tcp-floor (an ideal
#             target and client with nothing of NVMe, bench/tcp_floor/main.cc) and nvmfd in event
#             mode (it sleeps when it has nothing to do, so its CPU shows what the work needs),
#             with both clients on the null namespace.
# Every process started here is stopped by its PID on exit; only 127.0.0.1, free ports.
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$0")/.."

time_s=${BENCH_TIME:-5}
warmup_s=${BENCH_WARMUP:-1}
pairs=${BENCH_PAIRS:-5}
idle_s=${BENCH_IDLE_S:-30}
plain_time_s=${BENCH_PLAIN_TIME:-4}
doc=${BENCH_DOC:-docs/performance.md}
parts=" ${BENCH_COMPARE_PARTS:-main idle multicore plain limits} "
build_dir=${BENCH_BUILD_DIR:-build}
bin=$build_dir/bin
peer=${SPDK_PEER_DIR:-../shared/spdk-peer}
spdk_mem_mb=${BENCH_SPDK_MEM_MB:-2048}  # nvmf_tgt --no-huge -s: the 1 GiB RAM bdev lives in it
read -r -a nvmfd_args <<< "${BENCH_NVMFD_ARGS:-}"            # extra flags for nvmfd as a target
read -r -a host_nvmfd_args <<< "${BENCH_HOST_NVMFD_ARGS:-}"  # extra flags for the idle host nvmfd
# The idle host's Host NQN. spdk_nvme_perf runs as a new user runs it, without hostnqn: in -r
# (it then sends an empty Host NQN, which both targets take where any host is allowed), unless
# BENCH_HOSTNQN is set, which it then sends to both.
hostnqn=${BENCH_HOSTNQN:-nqn.2014-08.org.nvmexpress:uuid:$(cat /proc/sys/kernel/random/uuid)}
perf_hostnqn=${BENCH_HOSTNQN:+ hostnqn:$BENCH_HOSTNQN}
target_cpu=0
host_cpu=1
if [ "$(nproc)" -lt 2 ]; then
  echo "[compare] needs two CPUs (target on 0, client on 1)" >&2
  exit 1
fi

# Same priority as bench/run.sh (nice -20 when allowed, in a session of our own whose autogroup
# gets it too); the plain part runs without it, in a new session, as a user would.
nice_level=${BENCH_NICE:--20}
prio=()
if [ "$nice_level" != 0 ] && nice -n "$nice_level" true 2>/dev/null; then
  prio=(nice -n "$nice_level")
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

# --- processes: every one we start is in pids, stopped by PID on exit ---------------------
source bench/lib.sh
cleanup() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  pids=()
  return 0
}
trap cleanup EXIT
trap 'echo "[compare] interrupted" >&2; exit 130' INT TERM

# --- tools and binaries ----------------------------------------------------------------------
need=()
command -v python3 >/dev/null || need+=(python3)
command -v taskset >/dev/null || need+=(util-linux)
command -v ss >/dev/null || need+=(iproute2)
case $parts in *" plain "*) command -v iperf3 >/dev/null || need+=(iperf3) ;; esac
if [ ${#need[@]} -gt 0 ]; then
  echo "[compare] installing: ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  if [ ! -f "$build_dir/build.ninja" ]; then bash scripts/deps.sh; cmake --preset release >/dev/null; fi
  for b in nvmfd nvmfctl nvmf-perf nvmf-tcp-floor; do cmake --build "$build_dir" --target "$b" >/dev/null; done
fi
for b in nvmfd nvmfctl nvmf-perf nvmf-tcp-floor; do [ -x "$bin/$b" ] || { echo "[compare] $bin/$b is missing" >&2; exit 1; }; done

have_spdk=1
for f in bin/nvmf_tgt bin/spdk_nvme_perf scripts/rpc.py; do
  if [ ! -e "$peer/$f" ]; then
    have_spdk=0
    echo "[compare] SPDK peer not found ($peer/$f is missing; set SPDK_PEER_DIR): the SPDK half is skipped," \
         "only nvmfd is measured, with nvmf-perf" >&2
    break
  fi
done
spdk_rpc() { PYTHONPATH=$peer/python /usr/bin/python3 "$peer/scripts/rpc.py" "$@"; }
[ -x /usr/bin/python3 ] || spdk_rpc() { PYTHONPATH=$peer/python python3 "$peer/scripts/rpc.py" "$@"; }

# --- the results directory -------------------------------------------------------------------
standalone=0
if [ $# -ge 1 ]; then
  work=$1
else
  work=$build_dir/bench/$(date -u +%Y%m%dT%H%M%SZ)
  standalone=1
fi
mkdir -p "$work"
: > "$work/commands.txt"
printf 'section\tpair\tclient\ttarget\tns\tcase\tprefix\trc\n' > "$work/runs.tsv"
printf 'target\thost\twindow_s\ttarget_jiffies\thost_jiffies\ttarget_cores\n' > "$work/idle.tsv"
printf 'round\tkind\tprefix\trc\n' > "$work/plain.tsv"
printf 'pair\tqd\tprefix\trc\n' > "$work/floor.tsv"
echo "[compare] results in $work" >&2


# The BENCH_* settings of this run, as they would be typed: NAME=VALUE or NAME='VALUE'.
invocation() {
  local kv out=()
  while IFS= read -r kv; do
    [[ ${kv#*=} =~ ^[A-Za-z0-9_./:=,@%+-]*$ ]] && out+=("$kv") || out+=("${kv%%=*}='${kv#*=}'")
  done < <(env | grep -E '^(BENCH_[A-Z_]+|SPDK_PEER_DIR)=' | grep -v '^BENCH_OWN_SESSION=' | sort)
  echo "${out[*]}"
}

read -r b0 t0 < <(cpu_busy_total)
sleep 1
read -r b1 t1 < <(cpu_busy_total)
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "nproc=$(nproc)"
  echo "cpu_model=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)"
  echo "kernel=$(uname -r)"
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "busy_before_pct=$(( (b1 - b0) * 100 / (t1 - t0 > 0 ? t1 - t0 : 1) ))"
  echo "git=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src apps 2>/dev/null || echo ' (with local changes)')"
  echo "invocation=$(invocation)"
  echo "time_s=$time_s"
  echo "warmup_s=$warmup_s"
  echo "pairs=$pairs"
  echo "idle_s=$idle_s"
  echo "plain_time_s=$plain_time_s"
  echo "parts=$(echo $parts)"
  echo "target_cpu=$target_cpu"
  echo "host_cpu=$host_cpu"
  echo "clk_tck=$(getconf CLK_TCK)"
  echo "nice=${prio[*]:-none}"
  echo "nvmfd_args=${nvmfd_args[*]:-}"
  echo "host_nvmfd_args=${host_nvmfd_args[*]:-}"
  echo "hostnqn=$hostnqn"
  echo "have_spdk=$have_spdk"
  echo "spdk_peer=$peer"
  echo "spdk_mem_mb=$spdk_mem_mb"
  echo "standalone=$standalone"
} > "$work/machine.env"
busy=$(awk -F= '/^busy_before_pct/{print $2}' "$work/machine.env")
[ "$busy" -le 10 ] || echo "[compare] warning: the machine is already ${busy}% busy; figures will suffer" >&2

# --- targets -----------------------------------------------------------------------------------
declare -A tpid tport tsock
active=""
# activate NAME: NAME runs, every other target started here is stopped (SIGSTOP) meanwhile.
activate() {
  local n
  [ "$active" = "$1" ] && return 0
  sleep 0.3  # the last client's disconnect is handled by the target it used
  for n in "${!tpid[@]}"; do [ "$n" = "$1" ] || kill -STOP "${tpid[$n]}" 2>/dev/null || true; done
  kill -CONT "${tpid[$1]}"
  active=$1
  sleep 0.2
}
retire() {  # NAME: stop the target for good
  stop_pid "${tpid[$1]}"
  forget_pid "${tpid[$1]}"
  unset "tpid[$1]"
  [ "$active" = "$1" ] && active=""
  return 0
}
# config PORT: the benchmark config (bench/nvmfd_bench.json) on PORT, for either target.
config() { local f=$work/config-$1.json; sed "s/@PORT@/$1/g" bench/nvmfd_bench.json > "$f"; echo "$f"; }

# start_nvmfd NAME MASK CPUS [ARGS...]: nvmfd with the benchmark config under taskset -c CPUS,
# with BENCH_NVMFD_ARGS and then ARGS.
start_nvmfd() {
  local name=$1 mask=$2 cpus=$3 port cfg
  shift 3
  port=$(free_port)
  cfg=$(config "$port")
  tsock[$name]=$work/$name.sock
  start_bg "$work/$name.log" "${prio[@]}" taskset -c "$cpus" "$bin/nvmfd" -c "$cfg" -r "${tsock[$name]}" -m "$mask" \
    "${nvmfd_args[@]}" "$@"
  tpid[$name]=$bg_pid
  tport[$name]=$port
  for _ in $(seq 100); do
    "$bin/nvmfctl" -s "${tsock[$name]}" nvmf_get_subsystems > /dev/null 2>&1 && break
    kill -0 "$bg_pid" 2>/dev/null || { echo "[compare] nvmfd ($name) died:" >&2; cat "$work/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  wait_listening "$port" "$bg_pid" || { echo "[compare] nvmfd ($name) does not listen" >&2; cat "$work/$name.log" >&2; exit 1; }
  "$bin/nvmfctl" -s "${tsock[$name]}" nvmf_get_transports > "$work/$name-transports.json"
  active=$name
}
# start_spdk NAME: SPDK's nvmf_tgt with the same config file on core 0.
start_spdk() {
  local name=$1 port cfg
  port=$(free_port)
  cfg=$(config "$port")
  tsock[$name]=$work/$name.sock
  start_bg "$work/$name.log" "${prio[@]}" taskset -c "$target_cpu" "$peer/bin/nvmf_tgt" -m 0x1 -u --no-huge \
    -s "$spdk_mem_mb" --disable-cpumask-locks -r "${tsock[$name]}" --json "$cfg"
  tpid[$name]=$bg_pid
  tport[$name]=$port
  wait_listening "$port" "$bg_pid" || { echo "[compare] nvmf_tgt ($name) does not listen:" >&2; cat "$work/$name.log" >&2; exit 1; }
  spdk_rpc -s "${tsock[$name]}" spdk_get_version > "$work/$name-version.json" 2>&1 || true
  spdk_rpc -s "${tsock[$name]}" nvmf_get_transports > "$work/$name-transports.json" 2>&1 || true
  active=$name
}

nqn() { echo "nqn.2016-06.io.nvmfd:$1"; }
trid() { echo "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$1 subnqn:$(nqn "$2")"; }
failures=0

# client_run SECTION PAIR CLIENT TARGET NS CASE ARGS...: one client run against target TARGET
# (a name of tpid), namespace NS (null0 or malloc0), through bench/timed_run.py, which reads the
# target's CPU time when the client starts its I/O and when it has exited.
client_run() {
  local section=$1 pair=$2 client=$3 target=$4 ns=$5 case=$6
  shift 6
  local prefix=$section-$client-$target-$ns-$case-$pair cmd
  case $client in
    spdk_nvme_perf)
      local warm=(); [ "$warmup_s" != 0 ] && warm=(-a "$warmup_s")
      cmd=(stdbuf -oL "${prio[@]}" taskset -c "$host_cpu" "$peer/bin/spdk_nvme_perf" -c "$host_mask" --no-huge -s 1024
           "$@" -t "$time_s" "${warm[@]}" -r "$(trid "${tport[$target]}" "$ns")$perf_hostnqn") ;;
    nvmf-perf)
      cmd=(stdbuf -oL "${prio[@]}" taskset -c "$host_cpu" "$bin/nvmf-perf" "$@" -t "$time_s" --warmup "$warmup_s"
           -r "$(trid "${tport[$target]}" "$ns")" -c "$host_mask" --json "$work/$prefix.json") ;;
  esac
  activate "$target"
  quote "${cmd[@]}" >> "$work/commands.txt"
  local rc=0
  taskset -c "$host_cpu" python3 bench/timed_run.py --out "$work/$prefix.txt" --result "$work/$prefix.run.json" \
    --marker "Launching workers" --watch "${tpid[$target]}" --timeout $((time_s + warmup_s + 60)) -- "${cmd[@]}" &
  local p=$!
  pids+=("$p")
  wait "$p" || rc=$?
  forget_pid "$p"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$section" "$pair" "$client" "$target" "$ns" "$case" "$prefix" "$rc" \
    >> "$work/runs.tsv"
  local total
  total=$(grep -m1 '^Total' "$work/$prefix.txt" | sed 's/  */ /g' || true)
  if [ "$rc" != 0 ]; then
    failures=$((failures + 1))
    echo "[compare] $prefix FAILED (exit $rc), see $work/$prefix.txt:" >&2
    tail -5 "$work/$prefix.txt" >&2
  else
    echo "[compare] $prefix: $total" >&2
  fi
}

# fill TARGET: write the RAM namespace end to end (sequential 128 KiB writes with nvmf-perf), so
# that reads copy written memory rather than the kernel's zero page.
fill() {
  local target=$1 secs=3 written
  local ram_bytes=$((262144 * 4096))
  activate "$target"
  for attempt in 1 2; do
    local cmd=("${prio[@]}" taskset -c "$host_cpu" "$bin/nvmf-perf" -q 16 -o 131072 -w write -t "$secs"
               -r "$(trid "${tport[$target]}" malloc0)" -c "$host_mask" --json "$work/fill-$target.json")
    quote "${cmd[@]}" >> "$work/commands.txt"
    "${cmd[@]}" > "$work/fill-$target.txt" 2>&1 || { echo "[compare] filling $target failed:" >&2; cat "$work/fill-$target.txt" >&2; exit 1; }
    written=$(python3 -c "import json,sys; j=json.load(open(sys.argv[1])); print(j['total']['ios'] * j['parameters']['io_size'])" "$work/fill-$target.json")
    [ "$written" -ge "$ram_bytes" ] && break
    secs=$(python3 -c "import sys; w,n,s=map(int,sys.argv[1:]); print(min(120, int(s * n / max(w,1) * 1.3) + 1))" "$written" "$ram_bytes" "$secs")
  done
  [ "$written" -ge "$ram_bytes" ] || echo "[compare] warning: only $((written / 1048576)) MiB of $target's RAM namespace written" >&2
  echo "[compare] $target: RAM namespace written ($((written / 1048576)) MiB)" >&2
}

host_mask=$(printf '0x%x' $((1 << host_cpu)))
clients=(nvmf-perf)
targets=(nvmfd)
if [ "$have_spdk" = 1 ]; then clients=(spdk_nvme_perf nvmf-perf); targets=(nvmfd spdk); fi
cases=(
  "randread-4k-qd1 -q 1 -o 4096 -w randread"
  "randread-4k-qd32 -q 32 -o 4096 -w randread"
  "randread-4k-qd128 -q 128 -o 4096 -w randread"
  "read-128k-qd16 -q 16 -o 131072 -w read"
  "randwrite-4k-qd32 -q 32 -o 4096 -w randwrite"
)

# --- main: the same cases on both targets, alternated ------------------------------------------
if [[ $parts == *" main "* || $parts == *" idle "* ]]; then
  start_nvmfd nvmfd 0x1 "$target_cpu"
  [ "$have_spdk" = 1 ] && start_spdk spdk
  if [[ $parts == *" main "* ]]; then for t in "${targets[@]}"; do fill "$t"; done; fi
fi
if [[ $parts == *" main "* ]]; then
  for pair in $(seq "$pairs"); do
    for client in "${clients[@]}"; do
      for ns in null0 malloc0; do
        for c in "${cases[@]}"; do
          read -r -a words <<< "$c"
          for t in "${targets[@]}"; do
            client_run main "$pair" "$client" "$t" "$ns" "${words[0]}" "${words[@]:1}"
          done
        done
      done
    done
  done
fi

# --- idle: no host, then one host doing nothing but Keep Alive ---------------------------------
if [[ $parts == *" idle "* ]]; then
  for t in "${targets[@]}"; do
    activate "$t"
    sleep 1
    j0=$(proc_jiffies "${tpid[$t]}"); w0=$(date +%s.%N)
    echo "[compare] idle: $t with no host, ${idle_s}s" >&2
    sleep "$idle_s"
    j1=$(proc_jiffies "${tpid[$t]}"); w1=$(date +%s.%N)
    printf '%s\tnone\t%s\t%s\t-\t1\n' "$t" "$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", b - a}')" "$((j1 - j0))" \
      >> "$work/idle.tsv"

    hcfg=$work/idle-host-$t.json
    cat > "$hcfg" <<CFG
{"subsystems": [{"subsystem": "bdev", "config": [
  {"method": "bdev_nvme_attach_controller", "params": {"name": "Nvme0", "trtype": "TCP", "adrfam": "IPv4",
   "traddr": "127.0.0.1", "trsvcid": "${tport[$t]}", "subnqn": "$(nqn null0)", "hostnqn": "$hostnqn"}}]}]}
CFG
    hsock=$work/idle-host-$t.sock
    start_bg "$work/idle-host-$t.log" "${prio[@]}" taskset -c "$host_cpu" "$bin/nvmfd" -m "$host_mask" -r "$hsock" \
      -c "$hcfg" "${host_nvmfd_args[@]}"
    hpid=$bg_pid
    attached=0
    for _ in $(seq 100); do
      if "$bin/nvmfctl" -s "$hsock" bdev_get_bdevs 2>/dev/null | grep -q '"Nvme0n1"'; then attached=1; break; fi
      kill -0 "$hpid" 2>/dev/null || break
      sleep 0.1
    done
    "$bin/nvmfctl" -s "$hsock" bdev_nvme_get_controllers > "$work/idle-host-$t-controllers.json" 2>&1 || true
    if [ "$attached" = 1 ]; then
      sleep 1
      j0=$(proc_jiffies "${tpid[$t]}"); h0=$(proc_jiffies "$hpid"); w0=$(date +%s.%N)
      echo "[compare] idle: $t with one connected host (nvmfd on core $host_cpu), ${idle_s}s" >&2
      sleep "$idle_s"
      j1=$(proc_jiffies "${tpid[$t]}"); h1=$(proc_jiffies "$hpid"); w1=$(date +%s.%N)
      printf '%s\tnvmfd\t%s\t%s\t%s\t1\n' "$t" "$(awk -v a="$w0" -v b="$w1" 'BEGIN{printf "%.3f", b - a}')" \
        "$((j1 - j0))" "$((h1 - h0))" >> "$work/idle.tsv"
    else
      failures=$((failures + 1))
      echo "[compare] idle: the host nvmfd could not attach to $t:" >&2
      tail -5 "$work/idle-host-$t.log" >&2
    fi
    stop_pid "$hpid"
    forget_pid "$hpid"
  done
fi
for t in "${!tpid[@]}"; do retire "$t"; done

# --- multicore: 2 connections, nvmfd with 1 reactor vs 2 ---------------------------------------
if [[ $parts == *" multicore "* ]]; then
  start_nvmfd mc1 0x1 "$target_cpu"
  start_nvmfd mc2 0x3 "$target_cpu,$host_cpu"
  # With a third CPU the client gets it, rather than sharing core 1 with the second reactor.
  main_host_cpu=$host_cpu
  [ "$(nproc)" -ge 3 ] && host_cpu=2 && host_mask=0x4
  for pair in $(seq "$pairs"); do
    for client in "${clients[@]}"; do
      # 128 I/Os outstanding in all: spdk_nvme_perf spreads -q over its -P queue pairs, nvmf-perf's
      # -q is per queue pair.
      case $client in
        spdk_nvme_perf) args=(-q 128 -o 4096 -w randread -P 2) ;;
        nvmf-perf) args=(-q 64 -o 4096 -w randread -P 2) ;;
      esac
      for t in mc1 mc2; do client_run multicore "$pair" "$client" "$t" null0 randread-4k-qd128-2conn "${args[@]}"; done
    done
  done
  retire mc1
  retire mc2
  host_cpu=$main_host_cpu
  host_mask=$(printf '0x%x' $((1 << host_cpu)))
fi

# --- plain: as a new user runs it, vs raw TCP (iperf3) -----------------------------------------
if [[ $parts == *" plain "* ]]; then
  # A new session (own autogroup, nice 0) unless setsid is missing: no priority, no warm-up.
  plain=(); command -v setsid >/dev/null && plain=(setsid)
  # The defaults place both: nvmfd and nvmf-perf run on the CPUs taskset gives them.
  # BENCH_PLAIN_DEFAULTS=0 pins them explicitly (-m 0x1, -c 0x2) as well.
  plain_nvmfd_pin=()
  plain_perf_pin=()
  if [ "${BENCH_PLAIN_DEFAULTS:-1}" = 0 ]; then plain_nvmfd_pin=(-m 0x1); plain_perf_pin=(-c 0x2); fi
  port=$(free_port)
  pcfg=$work/plain-config.json
  cat > "$pcfg" <<CFG
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_null_create", "params": {"name": "Null0", "num_blocks": 2097152, "block_size": 512}},
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 2097152, "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$(nqn null0)", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$(nqn null0)", "namespace": {"bdev_name": "Null0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$(nqn null0)",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$(nqn malloc0)", "allow_any_host": true}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$(nqn malloc0)", "namespace": {"bdev_name": "Malloc0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$(nqn malloc0)",
      "listen_address": {"trtype": "TCP", "adrfam": "IPv4", "traddr": "127.0.0.1", "trsvcid": "$port"}}}]}]}
CFG
  # -r only to keep off the default socket path, which another nvmfd may hold.
  start_bg "$work/plain-nvmfd.log" "${plain[@]}" taskset -c "$target_cpu" "$bin/nvmfd" -c "$pcfg" -r "$work/plain.sock" \
    "${plain_nvmfd_pin[@]}"
  tpid[plain]=$bg_pid
  tport[plain]=$port
  active=plain
  wait_listening "$port" "$bg_pid" || { echo "[compare] plain nvmfd does not listen:" >&2; cat "$work/plain-nvmfd.log" >&2; exit 1; }
  # The RAM namespace is written once (not a warm-up: unwritten RAM reads the kernel's zero page).
  cmd=("${plain[@]}" taskset -c "$host_cpu" "$bin/nvmf-perf" -q 16 -o 131072 -w write -t 3 -r "$(trid "$port" malloc0)"
       "${plain_perf_pin[@]}" --json "$work/plain-fill.json")
  quote "${cmd[@]}" >> "$work/commands.txt"
  "${cmd[@]}" > "$work/plain-fill.txt" 2>&1 || { echo "[compare] plain fill failed:" >&2; cat "$work/plain-fill.txt" >&2; exit 1; }
  for round in 1 2 3; do
    # iperf3 with nvmfd stopped (SIGSTOP), so that both measure the cores alone.
    kill -STOP "${tpid[plain]}"
    iport=$(free_port)
    start_bg "$work/plain-iperf3-server-$round.json" "${plain[@]}" taskset -c "$host_cpu" iperf3 -s -1 -p "$iport" -J
    spid=$bg_pid
    wait_listening "$iport" "$spid" || { echo "[compare] iperf3 -s does not listen" >&2; exit 1; }
    rc=0
    start_bg "$work/plain-iperf3-$round.json" "${plain[@]}" taskset -c "$target_cpu" iperf3 -c 127.0.0.1 -p "$iport" -l 1M \
      -t "$plain_time_s" -J
    cpid=$bg_pid
    wait "$cpid" || rc=$?
    forget_pid "$cpid"
    stop_pid "$spid"
    forget_pid "$spid"
    printf '%s\tiperf3\tplain-iperf3-%s\t%s\n' "$round" "$round" "$rc" >> "$work/plain.tsv"
    echo "[compare] plain round $round: iperf3 $(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"]/8/2**20), "MiB/s")' "$work/plain-iperf3-$round.json" 2>/dev/null || echo failed)" >&2
    kill -CONT "${tpid[plain]}"
    sleep 0.2
    for ns in null0 malloc0; do
      prefix=plain-$ns-$round
      rc=0
      start_bg "$work/$prefix.txt" "${plain[@]}" taskset -c "$host_cpu" "$bin/nvmf-perf" -q 16 -o 131072 -w read \
        -t "$plain_time_s" -r "$(trid "$port" "$ns")" "${plain_perf_pin[@]}" --json "$work/$prefix.json"
      cpid=$bg_pid
      wait "$cpid" || rc=$?
      forget_pid "$cpid"
      printf '%s\t%s\t%s\t%s\n' "$round" "$ns" "$prefix" "$rc" >> "$work/plain.tsv"
      echo "[compare] plain round $round: $ns $(grep -m1 '^Total' "$work/$prefix.txt" | sed 's/  */ /g' || echo failed)" >&2
    done
  done
  retire plain
fi

# --- limits: where the 4 KiB random read ceiling is ---------------------------------------------
if [[ $parts == *" limits "* ]]; then
  start_nvmfd event 0x1 "$target_cpu" --poll-mode event
  for pair in $(seq "$pairs"); do
    for qd in 32 128; do
      # The ideal pair alone on the cores (the event-mode nvmfd sleeps, and is stopped too).
      kill -STOP "${tpid[event]}"
      active=""
      prefix=floor-qd$qd-$pair
      cmd=("${prio[@]}" "$bin/nvmf-tcp-floor" --send-cpu "$target_cpu" --recv-cpu "$host_cpu" -q "$qd" -t "$time_s"
           --json "$work/$prefix.json")
      quote "${cmd[@]}" >> "$work/commands.txt"
      rc=0
      "${cmd[@]}" > "$work/$prefix.txt" 2>&1 || rc=$?
      printf '%s\t%s\t%s\t%s\n' "$pair" "$qd" "$prefix" "$rc" >> "$work/floor.tsv"
      [ "$rc" = 0 ] || failures=$((failures + 1))
      echo "[compare] $prefix: $(cat "$work/$prefix.txt")" >&2
      for client in "${clients[@]}"; do
        client_run limits "$pair" "$client" event null0 "randread-4k-qd$qd" -q "$qd" -o 4096 -w randread
      done
    done
  done
  retire event
fi

[ "$failures" = 0 ] || echo "[compare] $failures run(s) failed: the report shows them" >&2
if [ "$standalone" = 1 ]; then
  python3 bench/compare_report.py "$work" > "$work/compare.md"
  python3 bench/compare_report.py --update "$doc" "$work"
  echo "[compare] updated the SPDK section of $doc" >&2
  cat "$work/compare.md"
fi

#!/usr/bin/env bash
# SPDK's own hosts as clients of nvmfd (issue 13): programs nobody here wrote, with SPDK's
# defaults — notably spdk_nvme_perf's EMPTY Host NQN unless hostnqn: is in its -r string
# (spdk_nvme_identify and bdev_nvme send a generated nqn...:uuid: one).
#
#   spdk_clients_test.sh BIN_DIR [SPDK_PEER_DIR]     (env SPDK_PEER_DIR, when set, wins)
#
# nvmfd (-m: one core) exports on 127.0.0.1:PORT
#   - OPEN (allow_any_host): nsid 1 a null bdev, nsid 2 a RAM bdev;
#   - ACL: only HOST may connect (a null bdev).
# Checks, each a separate SPDK process:
#   1. spdk_nvme_identify on the discovery subsystem: its discovery log lists OPEN, not ACL
#      (a subsystem with an allow list is hidden from a host not on it, as SPDK and nvmet
#      do). (spdk_nvme_discover cannot run without hugepages.)
#   2. spdk_nvme_identify: OPEN's NQN, serial, both namespaces with their sizes;
#   3. spdk_nvme_perf (no hostnqn) randread and randwrite 4 KiB QD32 2 s: 0 errors, IOPS > 0;
#   4. spdk_nvme_perf against ACL with hostnqn:HOST: accepted, I/O done;
#   5. spdk_nvme_perf against ACL without hostnqn: refused, and nvmfd's log has the warning
#      naming the peer, ACL, "host nqn ''" and the hostnqn field;
#   6. bdevperf -w verify 3 s on OPEN's RAM namespace through bdev_nvme (JSON config).
# Skipped (exit 77, ctest SKIP_RETURN_CODE) when SPDK_PEER_DIR has no binaries or they cannot
# run here (missing runtime packages: scripts/deps.sh installs them).
# Every process started here is stopped by its PID; DPDK's runtime directory of each SPDK
# process (.../dpdk/spdk_pid<PID>) is removed after it ends.
set -euo pipefail
bin=$1
peer=${SPDK_PEER_DIR:-${2:-}}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib/nvmfd_proc.sh"

spdk_bin=$peer/bin
for tool in spdk_nvme_perf spdk_nvme_identify bdevperf; do
  if [ -z "$peer" ] || [ ! -x "$spdk_bin/$tool" ]; then
    echo "spdk_clients: SKIPPED (no SPDK peer: $spdk_bin/$tool not found; set SPDK_PEER_DIR)"
    exit 77
  fi
done
if ldd "$spdk_bin/spdk_nvme_perf" 2>/dev/null | grep -q "not found"; then
  echo "spdk_clients: SKIPPED (SPDK's runtime libraries are missing: bash scripts/deps.sh)"
  ldd "$spdk_bin/spdk_nvme_perf" | grep "not found"
  exit 77
fi

work=$(mktemp -d /tmp/nvmfd-spdk.XXXXXX)
spdk_pid=""
# DPDK's runtime directory of an SPDK process that has ended (root: /var/run/dpdk, else
# $XDG_RUNTIME_DIR/dpdk or /tmp/dpdk), named after its PID.
remove_dpdk_dir() {
  rm -rf "/var/run/dpdk/spdk_pid$1" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/spdk_pid$1"
}
cleanup() {
  if [ -n "$spdk_pid" ]; then
    kill -KILL "$spdk_pid" 2>/dev/null || true
    wait "$spdk_pid" 2>/dev/null || true
    remove_dpdk_dir "$spdk_pid"
  fi
  stop_pidfile "$work/nvmfd.pid"
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- nvmfd log (last 40 lines) ---"
  tail -n 40 "$work/nvmfd.log" 2>/dev/null || true
  exit 1
}

# Cores: nvmfd on the first CPU this test may use, SPDK's clients on the last (the same
# one if there is only one).
read -r cpu_target cpu_host < <(python3 -c 'import os; c=sorted(os.sched_getaffinity(0)); print(c[0], c[-1])')
host_mask=$(printf '0x%x' $((1 << cpu_host)))
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
open_nqn=nqn.2016-06.io.nvmfd:spdk-open
acl_nqn=nqn.2016-06.io.nvmfd:spdk-acl
host_nqn=nqn.2014-08.org.nvmexpress:uuid:5b7c1a3e-2d4f-4e6a-9b8c-0123456789ab
null_blocks=2097152   # 1 GiB of 512-byte blocks
ram_blocks=16384      # 64 MiB of 4096-byte blocks
listen="\"listen_address\": {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"$port\"}"
cat > "$work/nvmfd.json" <<CFG
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_null_create", "params": {"name": "Null0", "num_blocks": $null_blocks, "block_size": 512}},
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": $ram_blocks, "block_size": 4096}},
    {"method": "bdev_null_create", "params": {"name": "Null1", "num_blocks": $null_blocks, "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$open_nqn", "allow_any_host": true,
      "serial_number": "NVMFDSPDK0000000001", "model_number": "nvmfd spdk clients"}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$open_nqn", "namespace": {"bdev_name": "Null0", "nsid": 1}}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$open_nqn", "namespace": {"bdev_name": "Malloc0", "nsid": 2}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$open_nqn", $listen}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$acl_nqn", "allow_any_host": false}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$acl_nqn", "namespace": {"bdev_name": "Null1"}}},
    {"method": "nvmf_subsystem_add_host", "params": {"nqn": "$acl_nqn", "host": "$host_nqn"}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$acl_nqn", $listen}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2014-08.org.nvmexpress.discovery", $listen}}]}]}
CFG

"$bin/nvmfd" -c "$work/nvmfd.json" -r "$work/rpc.sock" -m "[$cpu_target]" > "$work/nvmfd.log" 2>&1 &
echo $! > "$work/nvmfd.pid"
wait_rpc "$bin" "$work/rpc.sock" || fail "nvmfd did not answer on its RPC socket"
echo "nvmfd on core $cpu_target, 127.0.0.1:$port; SPDK clients on core $cpu_host"

trid() { echo "trtype:TCP adrfam:IPv4 traddr:127.0.0.1 trsvcid:$port subnqn:$1${2:+ hostnqn:$2}"; }

# Runs an SPDK program for at most SECS seconds (then SIGTERM, SIGKILL 5 s later), output
# to $work/NAME.out; returns its exit status. Its PID names its DPDK runtime directory.
run_spdk() {
  local name=$1 secs=$2 rc=0 waited=0
  shift 2
  "$@" > "$work/$name.out" 2>&1 &
  spdk_pid=$!
  while kill -0 "$spdk_pid" 2>/dev/null; do
    sleep 0.1
    waited=$((waited + 1))
    if [ "$waited" -eq $((secs * 10)) ]; then
      echo "$name: still running after $secs s, stopping it" >> "$work/$name.out"
      kill -TERM "$spdk_pid" 2>/dev/null || true
    elif [ "$waited" -eq $((secs * 10 + 50)) ]; then
      kill -KILL "$spdk_pid" 2>/dev/null || true
    fi
  done
  wait "$spdk_pid" || rc=$?
  remove_dpdk_dir "$spdk_pid"
  spdk_pid=""
  return "$rc"
}
spdk_env=(--no-huge -s 1024)

# 1. discovery, no hostnqn
run_spdk discover 60 "$spdk_bin/spdk_nvme_identify" "${spdk_env[@]}" -r "$(trid nqn.2014-08.org.nvmexpress.discovery)" \
  || { cat "$work/discover.out"; fail "spdk_nvme_identify of the discovery subsystem failed"; }
grep -q "$open_nqn" "$work/discover.out" || { cat "$work/discover.out"; fail "the discovery log does not list $open_nqn"; }
if grep -q "$acl_nqn" "$work/discover.out"; then
  cat "$work/discover.out"; fail "the discovery log shows $acl_nqn to a host without a name"
fi
echo "1. spdk_nvme_identify of discovery: the log lists $open_nqn, hides $acl_nqn"

# 2. identify, no hostnqn
run_spdk identify 60 "$spdk_bin/spdk_nvme_identify" "${spdk_env[@]}" -r "$(trid "$open_nqn")" \
  || { cat "$work/identify.out"; fail "spdk_nvme_identify failed"; }
id_out=$work/identify.out
grep -qE "Subsystem NQN: +$open_nqn" "$id_out" || { cat "$id_out"; fail "identify: no 'Subsystem NQN: $open_nqn'"; }
grep -qE "Serial Number: +NVMFDSPDK0000000001" "$id_out" || { cat "$id_out"; fail "identify: serial number"; }
grep -qE "Size \(in LBAs\): +$null_blocks " "$id_out" || { cat "$id_out"; fail "identify: no namespace of $null_blocks LBAs"; }
grep -qE "Size \(in LBAs\): +$ram_blocks " "$id_out" || { cat "$id_out"; fail "identify: no namespace of $ram_blocks LBAs"; }
echo "2. spdk_nvme_identify: $open_nqn, namespaces of $null_blocks and $ram_blocks LBAs"

# spdk_nvme_perf's Total row: IOPS, MiB/s, average, min, max latency (us). Sets iops.
check_perf() {
  local name=$1 out=$work/$1.out total
  total=$(grep -E "^Total +:" "$out" | tail -n 1 || true)
  [ -n "$total" ] || { cat "$out"; fail "$name: no Total row"; }
  iops=$(awk -F: '{split($2, f, " "); print f[1]}' <<< "$total")
  awk -v v="$iops" 'BEGIN { exit !(v > 0) }' || { cat "$out"; fail "$name: IOPS $iops"; }
  # At its end spdk_nvme_perf logs "CQ transport error -6 (No such device or address)" for
  # each I/O queue it has just disconnected itself; it does so against SPDK's nvmf_tgt too.
  if grep -viE "CQ transport error -6 .*No such device or address" "$out" | grep -qiE "error|failed|abort"; then
    cat "$out"; fail "$name: errors reported"
  fi
}

# 3. perf, no hostnqn
for w in randread randwrite; do
  run_spdk "perf-$w" 60 "$spdk_bin/spdk_nvme_perf" "${spdk_env[@]}" -c "$host_mask" -q 32 -o 4096 -w "$w" -t 2 \
    -r "$(trid "$open_nqn")" || { cat "$work/perf-$w.out"; fail "spdk_nvme_perf $w failed"; }
  check_perf "perf-$w"
  echo "3. spdk_nvme_perf $w 4 KiB QD32 (empty host NQN, both namespaces): $iops IOPS in total, 0 errors"
done

# 4. perf against the allow list, with the allowed host NQN
run_spdk perf-acl 60 "$spdk_bin/spdk_nvme_perf" "${spdk_env[@]}" -c "$host_mask" -q 32 -o 4096 -w randread -t 2 \
  -r "$(trid "$acl_nqn" "$host_nqn")" || { cat "$work/perf-acl.out"; fail "spdk_nvme_perf with hostnqn: failed"; }
check_perf perf-acl
echo "4. spdk_nvme_perf with hostnqn:$host_nqn on $acl_nqn: accepted, $iops IOPS"

# 5. perf against the allow list without a host NQN: refused (Connect Invalid Host, SC 84h
# = 132), and logged. spdk_nvme_perf exits 0 when it finds no controller: judge by its output.
rc=0
run_spdk perf-refused 60 "$spdk_bin/spdk_nvme_perf" "${spdk_env[@]}" -c "$host_mask" -q 32 -o 4096 -w randread -t 1 \
  -r "$(trid "$acl_nqn")" || rc=$?
refused=$work/perf-refused.out
if grep -qE "^Total +:" "$refused"; then cat "$refused"; fail "spdk_nvme_perf without hostnqn was let into $acl_nqn"; fi
grep -qE "Connect command completed with error: sct 1, sc 132" "$refused" \
  || { cat "$refused"; fail "spdk_nvme_perf did not report Connect Invalid Host (sct 1, sc 132)"; }
line=$(grep -F "Connect refused from 127.0.0.1:" "$work/nvmfd.log" | grep -F "'$acl_nqn'" \
  | grep -F "host nqn '' not allowed" | grep -F "(field hostnqn, offset 512 of Connect data)" | head -n 1 || true)
[ -n "$line" ] || fail "nvmfd's log has no warning for the refused Connect"
grep -q "\[warning\]" <<< "$line" || fail "the refusal is not logged at warn level: $line"
echo "5. spdk_nvme_perf without hostnqn on $acl_nqn: refused with sct 1, sc 132 (exit $rc); nvmfd logged:"
echo "   $line"

# 6. bdevperf verify through bdev_nvme (SPDK's host stack) on the RAM namespace
cat > "$work/bdevperf.json" <<CFG
{"subsystems": [{"subsystem": "bdev", "config": [
  {"method": "bdev_nvme_attach_controller", "params": {"name": "Nvmfd0", "trtype": "tcp", "adrfam": "ipv4",
    "traddr": "127.0.0.1", "trsvcid": "$port", "subnqn": "$open_nqn"}},
  {"method": "bdev_wait_for_examine"}]}]}
CFG
run_spdk bdevperf 90 "$spdk_bin/bdevperf" "${spdk_env[@]}" -m "$host_mask" --disable-cpumask-locks \
  -r "$work/bdevperf.sock" -c "$work/bdevperf.json" -T Nvmfd0n2 -q 32 -o 4096 -w verify -t 3 \
  || { cat "$work/bdevperf.out"; fail "bdevperf verify failed"; }
bp=$work/bdevperf.out
total=$(grep -E "^[[:space:]]*Total[[:space:]]+:" "$bp" | tail -n 1 || true)
[ -n "$total" ] || { cat "$bp"; fail "bdevperf: no Total row"; }
# Its Total row: IOPS, MiB/s, Fail/s, TO/s, average, min, max latency (us).
read -r bp_iops bp_fail bp_to < <(awk -F: '{split($2, f, " "); print f[1], f[3], f[4]}' <<< "$total")
awk -v v="$bp_iops" 'BEGIN { exit !(v > 0) }' || { cat "$bp"; fail "bdevperf: IOPS $bp_iops"; }
[ "$bp_fail" = "0.00" ] && [ "$bp_to" = "0.00" ] || { cat "$bp"; fail "bdevperf: Fail/s $bp_fail, TO/s $bp_to"; }
if grep -qiE "\*ERROR\*|miscompare|mismatch" "$bp"; then cat "$bp"; fail "bdevperf reported errors"; fi
echo "6. bdevperf -w verify 4 KiB QD32 3 s on Nvmfd0n2 (RAM) through bdev_nvme: $bp_iops IOPS, no miscompare"

kill -0 "$(cat "$work/nvmfd.pid")" 2>/dev/null || fail "nvmfd is no longer running"
stop_pidfile "$work/nvmfd.pid"
echo "spdk_clients: PASS"

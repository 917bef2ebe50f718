#!/usr/bin/env bash
# bench/tls.sh WORK_DIR: what TLS 1.3 (PSK, TLS_AES_128_GCM_SHA256) costs over clear text on
# NVMe/TCP, measured in one session: nvmfd (core 0) exports one RAM namespace through two
# listeners of the same subsystem, a clear-text one and a secure_channel one; nvmf-perf
# (core 1) alternates clear and TLS runs (clear, TLS, clear, TLS, ...) for
#   - 4 KiB random read at QD 32, and
#   - 128 KiB sequential read at QD 8.
# Writes WORK_DIR/tls.json (medians, TLS/clear ratios, samples, and which crypto path the
# target reported: kTLS or user-space). Called by bench/run.sh; alone it needs
# build/bin/{nvmfd,nvmfctl,nvmf-perf}. Stops what it starts, by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p "$1"
work=$(cd "$1" && pwd)  # absolute: keyring_file_add_key takes no relative path
time_s=${BENCH_TLS_TIME:-5}
samples=${BENCH_TLS_SAMPLES:-3}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
clear_port=$(free_port)
tls_port=$(free_port)
sock=$work/tls-rpc.sock
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; true' EXIT
nqn=nqn.2016-06.io.nvmfd:tls-bench
host=nqn.2014-08.org.nvmexpress:uuid:0b0e7c1a-9d2b-4a5e-8f61-3c2d1e0f9a8b
key=$work/tls-bench.key
python3 - "$key" <<'PY'
import base64, os, struct, sys, zlib
k = os.urandom(32)
open(sys.argv[1], "w").write("NVMeTLSkey-1:01:" + base64.b64encode(k + struct.pack("<I", zlib.crc32(k))).decode() + ":")
PY
chmod 0600 "$key"
listener() {
  echo "{\"method\": \"nvmf_subsystem_add_listener\", \"params\": {\"nqn\": \"$nqn\", \"secure_channel\": $2,
    \"listen_address\": {\"trtype\": \"TCP\", \"adrfam\": \"IPv4\", \"traddr\": \"127.0.0.1\", \"trsvcid\": \"$1\"}}}"
}
cat > "$work/tls-config.json" <<CFG
{"subsystems": [
  {"subsystem": "keyring", "config": [
    {"method": "keyring_file_add_key", "params": {"name": "key0", "path": "$key"}}]},
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "Malloc0", "num_blocks": 131072, "block_size": 4096}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$nqn", "allow_any_host": false}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$nqn", "namespace": {"bdev_name": "Malloc0"}}},
    {"method": "nvmf_subsystem_add_host", "params": {"nqn": "$nqn", "host": "$host", "psk": "key0"}},
    $(listener "$clear_port" false),
    $(listener "$tls_port" true)]}]}
CFG
build/bin/nvmfd -c "$work/tls-config.json" -r "$sock" -m 0x1 > "$work/tls-nvmfd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do build/bin/nvmfctl -s "$sock" rpc_get_methods > /dev/null 2>&1 && break; sleep 0.1; done
trid() { echo "trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:$1 subnqn:$nqn hostnqn:$host"; }
run() {  # MODE WORKLOAD QD SIZE OUT
  local port=$clear_port psk=()
  if [ "$1" = tls ]; then port=$tls_port; psk=(--psk-path "$key"); fi
  build/bin/nvmf-perf -c 0x2 -q "$3" -o "$4" -w "$2" -t "$time_s" --warmup 1 "${psk[@]}" -r "$(trid "$port")" \
    --json "$5" > /dev/null
}
# Written end to end first, so that reads touch written memory.
build/bin/nvmf-perf -c 0x2 -q 8 -o 131072 -w write -t 3 -r "$(trid "$clear_port")" > /dev/null
for spec in "randread 32 4096" "read 8 131072"; do
  read -r w qd size <<< "$spec"
  for i in $(seq "$samples"); do
    for m in clear tls; do
      run "$m" "$w" "$qd" "$size" "$work/tls-$w-$m-$i.json"
      echo "[bench] tls: $w ${size}B QD$qd $m sample $i: $(python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["total"]; print(round(t["iops"]), "IOPS,", round(t["mib_per_s"]), "MiB/s")' "$work/tls-$w-$m-$i.json")" >&2
    done
  done
done
path=$(grep -oE "TLS: NVMe0R01 .* from [^ ]+: TLS_[A-Z0-9_]+, [a-zA-Z -]+" "$work/tls-nvmfd.log" | head -n 1 | sed 's/.*: //' || true)
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
python3 - "$work" "$samples" "$path" <<'PY'
import json, statistics, sys
work, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = {"crypto_path": path, "runs": []}
for w, qd, size in (("randread", 32, 4096), ("read", 8, 131072)):
    s = {m: [json.load(open(f"{work}/tls-{w}-{m}-{i}.json"))["total"] for i in range(1, n + 1)] for m in ("clear", "tls")}
    med = {m: statistics.median(t["iops"] for t in s[m]) for m in s}
    mib = {m: statistics.median(t["mib_per_s"] for t in s[m]) for m in s}
    lat = {m: statistics.median(t["latency_us"]["average"] for t in s[m]) for m in s}
    out["runs"].append({"workload": w, "queue_depth": qd, "io_size": size,
                        "clear_iops": med["clear"], "tls_iops": med["tls"], "ratio": med["tls"] / med["clear"],
                        "clear_mib_s": mib["clear"], "tls_mib_s": mib["tls"],
                        "clear_avg_lat_us": lat["clear"], "tls_avg_lat_us": lat["tls"],
                        "clear_samples": [t["iops"] for t in s["clear"]], "tls_samples": [t["iops"] for t in s["tls"]]})
json.dump(out, open(f"{work}/tls.json", "w"), indent=1)
for e in out["runs"]:
    print(f"[bench] TLS vs clear, {e['workload']} {e['io_size']} B QD{e['queue_depth']}: clear {e['clear_iops']:.0f}, "
          f"TLS {e['tls_iops']:.0f} IOPS, TLS/clear {e['ratio']:.3f} ({path})", file=sys.stderr)
PY

# Shell helpers for tests that run nvmfd gateways of one gateway group as processes
# (sourced, bash; needs CEPH_CONF, CEPH_KEYRING, CEPH_POOL as ceph_cluster.sh env gives them).
#   gw_config GW NQN IMAGE TRADDR PORT TAG [LEASE_MS]
#       prints the config of gateway GW ("a" or "b"): RBD image IMAGE as namespace 1 of NQN in
#       ANA group 1 (home a) of gateway group "gw", one listener TRADDR:PORT. The namespace's
#       UUID/NGUID end in TAG (4 hex digits), the same on every gateway; a and b get disjoint
#       cntlid ranges (a host refuses a second controller of a subsystem with a cntlid it has).
#       The cluster's config_param is GW_RBD_CONFIG (environment; a JSON object), by default
#       {"rbd_cache": "false"}: librbd's cache off, as a gateway group requires (docs/gateway.md).
#   gw_rpc BIN WORK GW ARGS...  nvmfctl on WORK/GW.sock
#   gw_ana_of BIN WORK GW       GW's listener state of ANA group 1 (empty if it does not answer)
#   gw_start BIN WORK GW        starts nvmfd with WORK/GW.json in the background (log WORK/GW.log,
#                               pid WORK/GW.pid); returns once it answers RPCs, 1 if it did not
#   gw_pid_is_nvmfd PID

gw_config() {
  local gw=$1 nqn=$2 image=$3 traddr=$4 port=$5 tag=$6 lease=${7:-4000} cntlid
  local cfg=${GW_RBD_CONFIG:-'{"rbd_cache": "false"}'}
  case "$gw" in
    a) cntlid='"min_cntlid": 1, "max_cntlid": 32767' ;;
    *) cntlid='"min_cntlid": 32768, "max_cntlid": 65519' ;;
  esac
  cat <<JSON
{"subsystems": [
 {"subsystem": "bdev", "config": [
  {"method": "bdev_rbd_register_cluster", "params": {"name": "ceph", "user_id": "admin",
    "config_file": "$CEPH_CONF", "key_file": "$CEPH_KEYRING", "config_param": $cfg}},
  {"method": "bdev_rbd_create", "params": {"name": "rbd0", "pool_name": "$CEPH_POOL", "rbd_name": "$image",
    "block_size": 4096, "cluster_name": "ceph", "uuid": "6a1f2c3d-0000-4000-8000-00000000$tag"}}]},
 {"subsystem": "nvmf_gateway", "config": [
  {"method": "nvmf_gateway_group_create", "params": {"name": "gw", "gateway_id": "$gw", "cluster_name": "ceph",
    "pool_name": "$CEPH_POOL", "ana_groups": [{"anagrpid": 1, "home": "a"}], "lease_ms": $lease}}]},
 {"subsystem": "nvmf", "config": [
  {"method": "nvmf_create_transport", "params": {"trtype": "TCP"}},
  {"method": "nvmf_create_subsystem", "params": {"nqn": "$nqn", "allow_any_host": true,
    "serial_number": "NVMFDGW$tag", "model_number": "nvmfd gateway", "ana_reporting": true, $cntlid}},
  {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$nqn", "namespace": {"nsid": 1, "bdev_name": "rbd0",
    "uuid": "6a1f2c3d-0000-4000-8000-00000000$tag", "nguid": "6A1F2C3D00004000800000000000$tag", "anagrpid": 1}}},
  {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$nqn", "listen_address": {"trtype": "TCP",
    "adrfam": "IPv4", "traddr": "$traddr", "trsvcid": "$port"}}}]}]}
JSON
}

gw_rpc() { local bin=$1 work=$2 gw=$3; shift 3; timeout 30 "$bin/nvmfctl" -s "$work/$gw.sock" -t 20 "$@"; }

gw_ana_of() {
  gw_rpc "$1" "$2" "$3" call nvmf_subsystem_get_listeners "{\"nqn\": \"$(cat "$2/$3.nqn")\"}" 2>/dev/null |
    python3 -c 'import json,sys; l=json.load(sys.stdin)[0]; print(next(s["ana_state"] for s in l["ana_states"] if s["ana_group"]==1))' 2>/dev/null
}

gw_pid_is_nvmfd() { grep -q nvmfd "/proc/$1/cmdline" 2>/dev/null && [ "$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat")" != Z ]; }

gw_start() {
  local bin=$1 work=$2 gw=$3 p
  python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(next(x["params"]["nqn"] for s in c["subsystems"] for x in s["config"] if x["method"]=="nvmf_create_subsystem"))' \
    "$work/$gw.json" > "$work/$gw.nqn"
  rm -f "$work/$gw.sock"
  echo "=== start $(date +%T.%N)" >> "$work/$gw.log"
  "$bin/nvmfd" -m 0x1 -c "$work/$gw.json" -r "$work/$gw.sock" < /dev/null >> "$work/$gw.log" 2>&1 &
  p=$!
  echo "$p" > "$work/$gw.pid"
  for _ in $(seq 300); do
    [ -S "$work/$gw.sock" ] && gw_rpc "$bin" "$work" "$gw" call nvmf_gateway_group_get '{}' > /dev/null 2>&1 && return 0
    gw_pid_is_nvmfd "$p" || { echo "nvmfd $gw exited" >&2; tail -n 30 "$work/$gw.log" >&2; return 1; }
    sleep 0.1
  done
  echo "nvmfd $gw did not start" >&2
  return 1
}

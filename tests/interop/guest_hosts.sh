# Guest helpers (busybox sh, sourced) for tests that connect the kernel to one subsystem as
# several hosts: run-guest --add tests/interop/guest_hosts.sh, then . /lprun/files/guest_hosts.sh
#   connect_host ADDR PORT NQN HOSTNQN HOSTID [OPTIONS]   a controller for that host; OPTIONS
#       are more fabrics options (e.g. reconnect_delay=1,ctrl_loss_tmo=120); prints the kernel's
#       "instance=N,cntlid=M". The options go to /dev/nvme-fabrics as nvme-cli would write them:
#       nvme-cli 2.3 (libnvme 1.3) refuses a second host NQN to the same address and subsystem
#       as "already connected", even with --duplicate-connect.
#   ctrl_of NQN HOSTNQN   the controller (nvmeX) of subsystem NQN connected as HOSTNQN

connect_host() {
  _opts="transport=tcp,traddr=$1,trsvcid=$2,nqn=$3,hostnqn=$4,hostid=$5${6:+,$6}"
  exec 3<>/dev/nvme-fabrics
  printf '%s' "$_opts" >&3 || { exec 3>&-; echo "the kernel refused $_opts" >&2; return 1; }
  _created=
  read -r _created <&3 || true
  exec 3>&-
  echo "$_created"
}

ctrl_of() {
  for _c in /sys/class/nvme/nvme*; do
    [ -e "$_c/hostnqn" ] || continue
    if [ "$(cat "$_c/subsysnqn")" = "$1" ] && [ "$(cat "$_c/hostnqn")" = "$2" ]; then
      echo "${_c##*/}"
      return 0
    fi
  done
  return 1
}

# Asynchronous events the kernel received, from its nvme_async_event trace point:
#   aen_trace_on                 start recording (before connecting)
#   aen_count CTRL RESULT        how many events with that completion dword 0 (e.g. 0x040002:
#                                Namespace Attribute Changed) controller CTRL (nvmeX) received
AEN_EVENT=/sys/kernel/tracing/events/nvme/nvme_async_event
aen_trace_on() {
  [ -e "$AEN_EVENT/enable" ] || { echo "no $AEN_EVENT in this kernel" >&2; return 1; }
  echo 1 > "$AEN_EVENT/enable"
}
aen_count() {
  grep -c " $1: NVME_AEN=$2 " /sys/kernel/tracing/trace || true
}

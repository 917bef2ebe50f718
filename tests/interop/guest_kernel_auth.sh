#!/bin/sh
# Guest side of kernel_auth.sh (busybox sh). $1 = nvmfd port on 10.0.2.2, $2 = host NQN,
# $3 = host secret, $4 = controller secret, $5 = discovery secret, $6 = a wrong secret.
set -e
. /lp/lp-guest.sh
PORT=$1
HOST=$2
KEY=$3
CKEY=$4
DKEY=$5
WRONG=$6
SUB=nqn.2016-06.io.nvmfd:auth
fail() { echo "CHECK FAILED: $*"; dmesg | grep -i nvme | tail -n 20; exit 1; }
check() { echo "ok: $*"; }
uname -r
grep -q "nvme_auth\|nvme-auth" /proc/modules || [ -d /sys/module/nvme_auth ] || fail "no nvme_auth in this kernel"

wait_dev() { lp_wait_for "[ -b $1 ]" 30 || fail "$1 did not appear"; }
wait_gone() { lp_wait_for "[ ! -e $1 ]" 30 || fail "$1 did not go away"; }
connect() { nvme connect -t tcp -a 10.0.2.2 -s "$PORT" -n "$SUB" --hostnqn="$HOST" "$@"; }

verify_io() {
  dd if=/dev/urandom of=/tmp/pat bs=64k count=64 2>/dev/null
  dd if=/tmp/pat of=/dev/nvme0n1 bs=64k oflag=direct 2>/dev/null
  dd if=/dev/nvme0n1 of=/tmp/rb bs=64k count=64 iflag=direct 2>/dev/null
  [ "$(md5sum < /tmp/pat)" = "$(md5sum < /tmp/rb)" ] || fail "read back differs ($1)"
  check "4 MiB written and read back identical ($1)"
}

echo "== unidirectional"
connect --dhchap-secret="$KEY" || fail "connect with the host secret"
wait_dev /dev/nvme0n1
verify_io unidirectional
dmesg | grep -q "qid 0: authenticated" || fail "the kernel did not log its authentication"
nvme disconnect -n "$SUB" > /dev/null
wait_gone /dev/nvme0n1
check "connect --dhchap-secret"

echo "== bidirectional"
connect --dhchap-secret="$KEY" --dhchap-ctrl-secret="$CKEY" || fail "connect with both secrets"
wait_dev /dev/nvme0n1
verify_io bidirectional
dmesg | grep -q "controller authenticated" || fail "the kernel did not log the controller's authentication"
nvme disconnect -n "$SUB" > /dev/null
wait_gone /dev/nvme0n1
check "connect --dhchap-secret --dhchap-ctrl-secret"

echo "== refusals"
if connect --dhchap-secret="$WRONG" 2>/tmp/err; then fail "a wrong secret was accepted"; fi
check "wrong secret refused: $(cat /tmp/err)"
if connect --dhchap-secret="$KEY" --dhchap-ctrl-secret="$WRONG" 2>/tmp/err; then
  fail "a wrong controller secret was accepted"
fi
check "wrong controller secret refused: $(cat /tmp/err)"
if connect 2>/tmp/err; then fail "a host without a secret connected where one is required"; fi
check "no secret refused: $(cat /tmp/err)"
[ ! -e /dev/nvme0n1 ] || fail "a refused connect left a namespace behind"

echo "== discovery"
DISC=nqn.2014-08.org.nvmexpress.discovery
auths_before=$(dmesg | grep -c "qid 0: authenticated with hash" || true)
if nvme discover -t tcp -a 10.0.2.2 -s "$PORT" --hostnqn="$HOST" --dhchap-secret="$DKEY" > /tmp/disc 2>/tmp/err; then
  check "nvme discover --dhchap-secret"
else
  # libnvme 1.3 (nvme-cli 2.3) leaves the secret out of a discovery controller's options
  # ("qid 0: no key" in the kernel log); the kernel takes it when given, so write the options
  # to /dev/nvme-fabrics as nvme-cli would, with the secret.
  echo "note: nvme discover --dhchap-secret failed ($(head -n1 /tmp/err)); asking the kernel directly"
  exec 3<>/dev/nvme-fabrics
  printf 'transport=tcp,traddr=10.0.2.2,trsvcid=%s,nqn=%s,hostnqn=%s,hostid=%s,dhchap_secret=%s' \
    "$PORT" "$DISC" "$HOST" "$(cat /etc/nvme/hostid)" "$DKEY" >&3 || fail "the kernel refused the discovery controller with the secret"
  read -r created <&3 || true
  exec 3>&-
  echo "created: $created"
  dev=$(echo "$created" | sed -n 's/.*instance=\([0-9]*\).*/nvme\1/p')
  [ -n "$dev" ] || fail "no instance in '$created'"
  nvme discover --device="$dev" > /tmp/disc || fail "discovery log through the authenticated discovery controller"
  echo 1 > "/sys/class/nvme/$dev/delete_controller"
  lp_wait_for "[ ! -e /dev/$dev ]" 30 || fail "the discovery controller did not go away"
fi
cat /tmp/disc
grep -q "subnqn:  $SUB" /tmp/disc || fail "the discovery log lacks $SUB"
[ "$(dmesg | grep -c "qid 0: authenticated with hash" || true)" -gt "$auths_before" ] \
  || fail "the kernel did not authenticate to the discovery controller"
check "discovery log from an authenticated discovery controller"
if nvme discover -t tcp -a 10.0.2.2 -s "$PORT" --hostnqn="$HOST" > /tmp/disc 2>/tmp/err; then
  fail "discover without the secret succeeded"
fi
check "discover without the secret refused: $(head -n1 /tmp/err)"
echo "all checks passed"

#!/bin/bash
# nvmfctl gen-dhchap-key / gen-tls-key / check-key against nvme-cli (a tool nobody here wrote):
# what nvmfctl generates, nvme check-dhchap-key / check-tls-key accept, and what nvme
# gen-dhchap-key / gen-tls-key generate, nvmfctl check-key accepts; fixed secrets give nvme-cli's
# strings; a key file written with -o is mode 0600. Without nvme-cli the cross-checks are skipped.
#
#   tests/apps/key_commands_test.sh BIN_DIR
set -u
BIN=${1:?usage: $0 BIN_DIR}
CTL=$BIN/nvmfctl
WORK=$(mktemp -d /tmp/nvmfd_keys.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
NQN=nqn.2014-08.org.nvmexpress:uuid:test
S32=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f

for m in 0 1 2 3; do
  k=$("$CTL" gen-dhchap-key -m $m -n $NQN) || fail "gen-dhchap-key -m $m"
  case $k in "DHHC-1:0$m:"*":") ;; *) fail "gen-dhchap-key -m $m printed '$k'" ;; esac
  "$CTL" check-key "$k" >/dev/null || fail "check-key refuses its own DH-HMAC-CHAP key $k"
done
for m in 1 2; do
  k=$("$CTL" gen-tls-key -m $m) || fail "gen-tls-key -m $m"
  "$CTL" check-key "$k" | grep -q "valid TLS PSK: hash 0$m" || fail "check-key on $k"
done
"$CTL" gen-dhchap-key -m 5 2>/dev/null && fail "gen-dhchap-key -m 5 succeeded"
"$CTL" check-key "DHHC-1:00:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaS:" 2>"$WORK/err" && fail "bad CRC accepted"
grep -q "CRC-32 mismatch" "$WORK/err" || fail "bad CRC message: $(cat "$WORK/err")"

"$CTL" gen-dhchap-key -m 2 -n $NQN -o "$WORK/key" || fail "gen-dhchap-key -o"
[ "$(stat -c %a "$WORK/key")" = 600 ] || fail "-o file mode is $(stat -c %a "$WORK/key")"
"$CTL" check-key -f "$WORK/key" | grep -q "hash 02 (SHA-384), 48-byte key" || fail "check-key -f"
chmod 0640 "$WORK/key"
"$CTL" check-key -f "$WORK/key" 2>"$WORK/err" && fail "check-key -f accepted a 0640 file"
grep -q "Invalid permissions" "$WORK/err" || fail "check-key -f 0640: $(cat "$WORK/err")"

if ! command -v nvme >/dev/null 2>&1; then
  echo "key_commands_test: nvme-cli not installed: cross-checks skipped"
  exit 0
fi
HEX_FOR=("$S32" "$S32" "$S32${S32:0:32}" "$S32$S32")  # the secret's hex for --hmac 0 1 2 3
for m in 0 1 2 3; do
  ours=$("$CTL" gen-dhchap-key -m $m -n $NQN -s "${HEX_FOR[$m]}")
  theirs=$(nvme gen-dhchap-key -m $m -n $NQN -s "${HEX_FOR[$m]}" 2>&1)
  [ "$ours" = "$theirs" ] || fail "gen-dhchap-key -m $m -s: '$ours', nvme-cli: '$theirs'"
  k=$("$CTL" gen-dhchap-key -m $m -n $NQN)
  nvme check-dhchap-key -k "$k" >/dev/null 2>&1 || fail "nvme check-dhchap-key refuses $k"
  k=$(nvme gen-dhchap-key -m $m -n $NQN)
  "$CTL" check-key "$k" >/dev/null || fail "check-key refuses nvme-cli's $k"
done
for m in 1 2; do
  k=$("$CTL" gen-tls-key -m $m)
  nvme check-tls-key -k "$k" >/dev/null 2>&1 || fail "nvme check-tls-key refuses $k"
  k=$(nvme gen-tls-key -m $m 2>/dev/null | grep NVMeTLSkey) || continue  # older nvme-cli: -m 1 only
  "$CTL" check-key "$k" >/dev/null || fail "check-key refuses nvme-cli's $k"
done
echo "key_commands_test: all checks passed"

#!/usr/bin/env bash
# nvmfctl's bash completion (generated at build time): it offers nvmfctl's commands and exactly
# the RPC methods of `nvmfd --rpc-methods`, completes method names after `call`, and its list
# of commands matches what `nvmfctl --help` documents.
# Usage: completion_test.sh BIN_DIR COMPLETION_FILE
set -euo pipefail
bin=$1 script=$2
fail() { echo "FAIL: $*"; exit 1; }
[ -f "$script" ] || fail "no $script (target nvmfd_docs)"
# shellcheck disable=SC1090
source "$script"
complete_words() {  # WORDS...: the completions of the last word
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMPREPLY=()
  _nvmfctl
  printf '%s\n' "${COMPREPLY[@]}"
}
methods=$("$bin/nvmfd" --rpc-methods)
[ "$(echo "$methods" | wc -l)" -gt 50 ] || fail "nvmfd --rpc-methods lists too few methods"
# Every method, and nothing that is not one or a command, at the first position.
all=$(complete_words nvmfctl "" | sort)
for m in $methods; do grep -qx "$m" <<< "$all" || fail "method $m not offered"; done
commands=$(grep -oP 'local commands="\K[^"]*' "$script")
help=$("$bin/nvmfctl" --help)
for c in $commands; do
  grep -qx "$c" <<< "$all" || fail "command $c not offered"
  grep -qE "(nvmfctl|\]) $c( |$)" <<< "$help" || fail "command $c is not in nvmfctl --help"
done
[ "$(wc -l <<< "$all")" = "$(( $(wc -w <<< "$methods $commands") ))" ] || fail "unexpected completions"
# Prefixes, after global options, and after `call`.
[ "$(complete_words nvmfctl nvmf_get_sub)" = nvmf_get_subsystems ] || fail "nvmf_get_sub"
[ "$(complete_words nvmfctl -s /tmp/x.sock -t 5 bdev_malloc_c)" = bdev_malloc_create ] || fail "after -s -t"
[ "$(complete_words nvmfctl call rpc_get_m)" = rpc_get_methods ] || fail "after call"
[ -z "$(complete_words nvmfctl bdev_get_bdevs --na)" ] || fail "completions after a method"
complete_words nvmfctl -- | grep -qx -- --server || fail "global options"
echo "PASS"

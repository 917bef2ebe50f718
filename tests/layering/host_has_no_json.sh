#!/usr/bin/env bash
# Checks that the host library needs no JSON (issue 14: presentation code such as nvme-cli's
# output formats lives with the RPC/CLI that prints it): no file of src/host, of the layers
# under it or of its public header (include/nvmfd) names nlohmann, and nvmfd_host's link
# closure (worked out by CMake, tests/layering/CMakeLists.txt) holds no JSON library.
# Usage: host_has_no_json.sh SRC_DIR INCLUDE_DIR "LINK;CLOSURE;..."
set -euo pipefail
src=${1:?usage: host_has_no_json.sh SRC_DIR INCLUDE_DIR LINK_CLOSURE}
inc=${2:?usage: host_has_no_json.sh SRC_DIR INCLUDE_DIR LINK_CLOSURE}
links=${3:?usage: host_has_no_json.sh SRC_DIR INCLUDE_DIR LINK_CLOSURE}
status=0
checked=0
for dir in "$src"/host "$src"/nvme_tcp "$src"/bdev "$src"/reactor "$src"/proto "$src"/keys "$src"/base "$inc"/nvmfd; do
  [ -d "$dir" ] || { echo "FAIL: $dir is missing" >&2; exit 1; }
  while IFS= read -r -d '' f; do
    checked=$((checked + 1))
    if grep -n 'nlohmann' "$f"; then
      echo "FAIL: $f names nlohmann (JSON belongs to src/rpc and apps/)" >&2
      status=1
    fi
  done < <(find "$dir" \( -name '*.h' -o -name '*.cc' \) -print0)
done
[ "$checked" -gt 0 ] || { echo "FAIL: no files checked under $src" >&2; exit 1; }
if tr ';' '\n' <<<"$links" | grep -i 'nlohmann'; then
  echo "FAIL: nvmfd_host links a JSON library (above)" >&2
  status=1
fi
[ "$status" -eq 0 ] && echo "ok: $checked files of the host and the layers under it name no JSON library; links: $links"
exit "$status"

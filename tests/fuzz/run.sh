#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS on a scratch copy of its seed corpus, so that the
# committed corpus (tests/fuzz/corpus/TARGET) is never written to. One process, one worker.
#
#   tests/fuzz/run.sh TARGET SECONDS [extra libFuzzer flags...]
#   e.g. tests/fuzz/run.sh fuzz_target_connection 600
#
# TARGET: fuzz_target_connection, fuzz_pdu_reader, fuzz_proto_decoders or fuzz_key_formats, built by
#   NVMFD_PRESET=fuzz bash scripts/build.sh
# Environment:
#   NVMFD_FUZZ_BUILD  build directory (default build-fuzz)
#   NVMFD_FUZZ_WORK   scratch directory (default $TMPDIR/nvmfd-fuzz/TARGET-YYYYmmdd-HHMMSS):
#                     corpus/ (seeds + what the run found), artifacts/ (crash-*, leak-*,
#                     timeout-*, oom-*), fuzz.log
#   NVMFD_FUZZ_IGNORE, NVMFD_FUZZ_TRACE, NVMFD_FUZZ_LOG: see docs/fuzzing.md
# Exit status: libFuzzer's (0 when the time ran out without a finding).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ $# -lt 2 ]; then
  sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
target=$1
seconds=$2
shift 2

bin=${NVMFD_FUZZ_BUILD:-build-fuzz}/bin/$target
seeds=tests/fuzz/corpus/$target
if [ ! -x "$bin" ]; then
  echo "run.sh: $bin is missing; build it with: NVMFD_PRESET=fuzz bash scripts/build.sh" >&2
  exit 2
fi
if [ ! -d "$seeds" ]; then
  echo "run.sh: no seed corpus $seeds" >&2
  exit 2
fi

work=${NVMFD_FUZZ_WORK:-${TMPDIR:-/tmp}/nvmfd-fuzz/$target-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$work/corpus" "$work/artifacts"
# Seeds only: crash-* files are regressions of fixed bugs, replayed by ctest -L fuzz-replay.
find "$seeds" -maxdepth 1 -type f -name 'seed-*' -exec cp {} "$work/corpus/" \;

echo "run.sh: $target for ${seconds}s; corpus, artifacts and log in $work" >&2
status=0
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" "$@" "$work/corpus" 2>&1 | tee "$work/fuzz.log" || status=$?

files=$(find "$work/corpus" -type f | wc -l)
bytes=$(du -sb "$work/corpus" | cut -f1)
findings=$(find "$work/artifacts" -type f | wc -l)
{
  echo "run.sh: final: $(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$work/fuzz.log" | tail -1)"
  echo "run.sh: corpus now $files files, $bytes bytes; $findings finding(s) in $work/artifacts"
} >&2
exit "$status"

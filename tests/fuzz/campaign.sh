#!/usr/bin/env bash
# A fuzzing campaign: every libFuzzer target of tests/fuzz in turn (one process at a time,
# one core, niced), with a total execution budget shared across them, then a results
# table (date, commit, per-target executions, exec/s, coverage, corpus, findings, totals)
# written into docs/fuzzing.md between the campaign-results markers.
#
#   tests/fuzz/campaign.sh TOTAL_EXECS [TARGET[=RUNS][@SECONDS]...]
#   e.g. tests/fuzz/campaign.sh 100000000
#        tests/fuzz/campaign.sh 100000000 fuzz_key_formats=65000000 fuzz_host_pdu@600 ...
#
# A target given RUNS gets that many runs (libFuzzer -runs=); one given only @SECONDS runs
# for that long (-max_total_time=); one given both stops at whichever comes first; the
# others share what is left of TOTAL_EXECS evenly, bounded by NVMFD_CAMPAIGN_SECONDS if set. The targets differ by four orders of magnitude in speed (a key parser against a whole
# target behind a socket pair), so a campaign gives fast ones runs and slow ones time.
# The corpus of each target persists in NVMFD_CAMPAIGN_CORPUS/<target> (default
# ~/.cache/nvmfd-fuzz/corpus), so later campaigns go on from where this one stopped; it
# starts from the committed seeds (tests/fuzz/corpus/<target>/seed-*).
# Findings (crash-*, leak-*, timeout-*, oom-*) are copied to
# tests/fuzz/corpus/<target>/crash-campaign-<name>: the test command replays them
# (fuzz-replay), so it fails until the bug is fixed; minimize them first if large
# (docs/fuzzing.md).
# Environment: NVMFD_FUZZ_BUILD (default build-fuzz), NVMFD_CAMPAIGN_WORK (logs and
# artifacts; default $TMPDIR/nvmfd-campaign/<time>), NVMFD_CAMPAIGN_NICE (default 10),
# NVMFD_CAMPAIGN_NO_DOC=1 (do not touch docs/fuzzing.md).
# A target not built when its turn comes is skipped (a "not built" row).
# Exit status: 0 without findings, 1 with findings, 2 on a usage problem.
set -uo pipefail
cd "$(dirname "$0")/../.."

all_targets=(fuzz_proto_decoders fuzz_pdu_reader fuzz_target_connection fuzz_host_pdu fuzz_auth_messages
             fuzz_key_formats fuzz_jsonrpc fuzz_config_loader)

if [ $# -lt 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
total=$1
shift
specs=("$@")
[ ${#specs[@]} -eq 0 ] && specs=("${all_targets[@]}")
build=${NVMFD_FUZZ_BUILD:-build-fuzz}
# Parse TARGET[=RUNS][@SECONDS]; targets without RUNS share what the explicit ones leave.
declare -A runs_of seconds_of
targets=()
explicit=0
shared=0
for spec in "${specs[@]}"; do
  if ! [[ $spec =~ ^(fuzz_[a-z_]+)(=([0-9]+))?(@([0-9]+))?$ ]]; then
    echo "campaign.sh: '$spec' is not TARGET[=RUNS][@SECONDS] (targets: ${all_targets[*]})" >&2
    exit 2
  fi
  t=${BASH_REMATCH[1]}
  targets+=("$t")
  runs_of[$t]=${BASH_REMATCH[3]}
  seconds_of[$t]=${BASH_REMATCH[5]}
  if [ -n "${runs_of[$t]}" ]; then
    explicit=$((explicit + runs_of[$t]))
  elif [ -n "${seconds_of[$t]}" ]; then
    runs_of[$t]=-1  # time only
  else
    seconds_of[$t]=${NVMFD_CAMPAIGN_SECONDS:-}
    shared=$((shared + 1))
  fi
done
per=0
if [ "$shared" -gt 0 ]; then
  per=$(( (total > explicit ? total - explicit : 0) / shared ))
  [ "$per" -lt 1 ] && per=1
fi
for t in "${targets[@]}"; do [ -z "${runs_of[$t]}" ] && runs_of[$t]=$per; done
corpus_root=${NVMFD_CAMPAIGN_CORPUS:-$HOME/.cache/nvmfd-fuzz/corpus}
work=${NVMFD_CAMPAIGN_WORK:-${TMPDIR:-/tmp}/nvmfd-campaign/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$work"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo "+changes" || true)
started=$(date -u +"%Y-%m-%d %H:%M UTC")
plan=$(for t in "${targets[@]}"; do printf '%s=%s%s ' "$t" "${runs_of[$t]/#-1/any}" "${seconds_of[$t]:+@${seconds_of[$t]}s}"; done)
echo "campaign.sh: budget $total executions over ${#targets[@]} targets: $plan; logs in $work" >&2

rows=()
sum_execs=0
sum_findings=0
sum_seconds=0
for t in "${targets[@]}"; do
  if [ ! -x "$build/bin/$t" ]; then  # checked when its turn comes: it may still be building
    echo "campaign.sh: $build/bin/$t is missing (NVMFD_PRESET=fuzz bash scripts/build.sh $t): skipped" >&2
    rows+=("| \`$t\` | | not built | | | | | | | |")
    continue
  fi
  corpus=$corpus_root/$t
  arts=$work/$t-artifacts
  mkdir -p "$corpus" "$arts"
  find "tests/fuzz/corpus/$t" -maxdepth 1 -type f -name 'seed-*' -exec cp -n {} "$corpus/" \;
  log=$work/$t.log
  limit=()
  [ -n "${seconds_of[$t]}" ] && limit=(-max_total_time="${seconds_of[$t]}")
  echo "campaign.sh: $t: -runs=${runs_of[$t]} ${limit[*]}" >&2
  t0=$(date +%s)
  nice -n "${NVMFD_CAMPAIGN_NICE:-10}" "$build/bin/$t" -runs="${runs_of[$t]}" "${limit[@]}" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$arts/" "$corpus" >"$log" 2>&1
  status=$?
  seconds=$(( $(date +%s) - t0 ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | grep -E 'cov: ' | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(du -sb "$corpus" | cut -f1)
  findings=$(find "$arts" -type f | wc -l)
  for f in "$arts"/*; do
    [ -f "$f" ] || continue
    cp "$f" "tests/fuzz/corpus/$t/crash-campaign-$(basename "$f")"
    echo "campaign.sh: $t: FINDING $(basename "$f") (copied to tests/fuzz/corpus/$t/)" >&2
  done
  [ -z "$execs" ] && execs=0
  [ "$findings" -eq 0 ] && [ "$status" -ne 0 ] && findings="exit $status"
  echo "campaign.sh: $t: $execs runs in ${seconds}s (${rate:-?}/s), cov ${cov:-?} ft ${ft:-?}, corpus $files files, findings $findings" >&2
  if [ "${runs_of[$t]}" = -1 ]; then budget="${seconds_of[$t]} s"
  else budget="$(printf "%'d" "${runs_of[$t]}")${seconds_of[$t]:+ or ${seconds_of[$t]} s}"; fi
  rows+=("| \`$t\` | $budget | $(printf "%'d" "$execs") | ${seconds} s | ${rate:-?} | ${cov:-?} | ${ft:-?} | $files / $((bytes / 1024)) KiB | ${rss:-?} MB | $findings |")
  sum_execs=$((sum_execs + execs))
  sum_seconds=$((sum_seconds + seconds))
  [[ $findings =~ ^[0-9]+$ ]] && sum_findings=$((sum_findings + findings)) || sum_findings=$((sum_findings + 1))
done

table=$(
  echo "Campaign of $started, commit $commit$dirty, budget $(printf "%'d" "$total") executions, \`tests/fuzz/campaign.sh $total${specs[*]:+ ${specs[*]}}\`, $(nproc) CPUs (shared), one process at a time, \`nice -n ${NVMFD_CAMPAIGN_NICE:-10}\`."
  echo "A target's budget is runs, seconds, or both (whichever ends first); cov and ft are libFuzzer's coverage counters at the end."
  echo
  echo "| target | budget | executions | time | exec/s | cov | ft | corpus | peak RSS | findings |"
  echo "|---|---|--:|--:|--:|--:|--:|---|--:|--:|"
  printf '%s\n' "${rows[@]}"
  echo "| **total** | | **$(printf "%'d" "$sum_execs")** | $sum_seconds s | | | | | | **$sum_findings** |"
)
echo "$table"
if [ -z "${NVMFD_CAMPAIGN_NO_DOC:-}" ]; then
  doc=docs/fuzzing.md
  if grep -q '<!-- campaign-results:begin -->' "$doc"; then
    TABLE="$table" python3 - "$doc" <<'PY'
import os, re, sys
p = sys.argv[1]
s = open(p).read()
s = re.sub(r'(<!-- campaign-results:begin -->\n).*?(<!-- campaign-results:end -->)',
           lambda m: m.group(1) + os.environ['TABLE'] + '\n' + m.group(2), s, flags=re.S)
open(p, 'w').write(s)
PY
    echo "campaign.sh: results written to $doc" >&2
  else
    echo "campaign.sh: no campaign-results markers in $doc; table not written" >&2
  fi
fi
[ "$sum_findings" -eq 0 ]

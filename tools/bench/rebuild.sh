#!/usr/bin/env bash
# Read-model rebuild throughput on this machine: `eventcrm bench rebuild` (generate N CRM-like
# events, then rebuild every read model from position 0) beside RocksDB's own sequential read
# of N records of the same size (`db_bench --benchmarks=fillseq,readseq`).
#
#   tools/bench/rebuild.sh [--events N] [--eventcrm PATH] [--work-dir DIR] [--json]
#
# Prints events/s of the rebuild, readseq ops/s, their ratio (target >= 0.5) and the rebuild's
# peak RSS. --json prints one line: events_per_sec, readseq_per_sec, ratio_vs_readseq,
# peak_rss_mb (and the inputs). Needs db_bench (Debian: rocksdb-tools).
set -euo pipefail

events=5000000
json=0
eventcrm="${EVENTCRM:-}"
work_parent="${TMPDIR:-/tmp}"

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) events="$2"; shift 2 ;;
    --eventcrm) eventcrm="$2"; shift 2 ;;
    --work-dir) work_parent="$2"; shift 2 ;;
    --json) json=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "rebuild.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

log() { echo "$@" >&2; }
die() { log "rebuild.sh: $*"; exit 1; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -z "$eventcrm" ]]; then
  for candidate in "$repo"/build/bin/eventcrm "$repo"/build-*/bin/eventcrm; do
    if [[ -x "$candidate" ]]; then eventcrm="$candidate"; break; fi
  done
fi
[[ -z "$eventcrm" ]] && eventcrm="$(command -v eventcrm || true)"
[[ -x "$eventcrm" ]] || die "no eventcrm executable (build it, or pass --eventcrm PATH)"
command -v db_bench >/dev/null || die "db_bench not found (apt-get install rocksdb-tools)"

work="$(mktemp -d "$work_parent/eventcrm-rebuild-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

log "eventcrm bench rebuild --events $events ..."
ours="$("$eventcrm" bench rebuild --events "$events" --data-dir "$work/eventcrm" --json)"
field() { sed -E "s/.*\"$1\":([0-9.]+).*/\1/" <<<"$ours"; }
events_per_sec="$(field events_per_sec)"
peak_rss_mb="$(field peak_rss_mb)"
value_size="$(field avg_record_bytes)"
rm -rf "$work/eventcrm"

log "db_bench --benchmarks=fillseq,readseq --num=$events --value_size=$value_size ..."
dbb="$(db_bench --benchmarks=fillseq,readseq --num="$events" --value_size="$value_size" \
  --key_size=8 --db="$work/db_bench" --compression_type=none --threads=1 2>/dev/null)"
readseq_per_sec="$(awk '/^readseq/ { for (i = 2; i <= NF; i++) if ($i ~ /^ops\/sec/) { print $(i-1); exit } }' <<<"$dbb")"
[[ -n "$readseq_per_sec" ]] || die "could not read db_bench's readseq figure: $dbb"
ratio="$(awk -v a="$events_per_sec" -v b="$readseq_per_sec" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')"

if [[ $json -eq 1 ]]; then
  printf '{"events":%s,"value_size":%s,"events_per_sec":%s,"readseq_per_sec":%s,"ratio_vs_readseq":%s,"peak_rss_mb":%s}\n' \
    "$events" "$value_size" "$events_per_sec" "$readseq_per_sec" "$ratio" "$peak_rss_mb"
else
  echo "rebuild of every read model over $events events (avg record $value_size bytes)"
  printf '  eventcrm rebuild   %14.0f events/s   (peak RSS %s MiB)\n' "$events_per_sec" "$peak_rss_mb"
  printf '  db_bench readseq   %14.0f ops/s\n' "$readseq_per_sec"
  printf '  ratio              %14s x   (target >= 0.5)\n' "$ratio"
fi

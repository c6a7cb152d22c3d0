#!/usr/bin/env bash
# How fast could any rebuild of the read models be on this machine? Rebuilds every read model
# over N generated events (`eventcrm bench rebuild`, which also runs the readseq anchor), counts
# the rows the read models then hold (sst_dump's table properties: entries, key and value
# bytes), then times RocksDB storing as many rows of the same average sizes with nothing else
# to do, two ways:
#   table writer   `eventcrm bench table-write`: SstFileWriter, rows given in order (the path
#                  offline rebuilds store their rows through), one thread; the bound counts it
#                  on every core at once;
#   fillseq        db_bench fillseq --disable_wal=1: RocksDB's fastest way through memtables.
# A rebuild must at least store those rows, so rows/s divided by the rows per event bounds the
# rebuild rate from above, whatever the projections' code does; the script compares the bounds
# with the rebuild target (0.5x readseq).
#
#   tools/bench/rebuild_floor.sh [--events N] [--eventcrm PATH] [--work-dir DIR]
#
# Needs db_bench and sst_dump (Debian: rocksdb-tools).
set -euo pipefail

events=1000000
eventcrm="${EVENTCRM:-}"
work_parent="${TMPDIR:-/tmp}"

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) events="$2"; shift 2 ;;
    --eventcrm) eventcrm="$2"; shift 2 ;;
    --work-dir) work_parent="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "rebuild_floor.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$repo/tools/bench/lib.sh"
if [[ -z "$eventcrm" ]]; then
  for candidate in "$repo"/build/bin/eventcrm "$repo"/build-*/bin/eventcrm; do
    if [[ -x "$candidate" ]]; then eventcrm="$candidate"; break; fi
  done
fi
[[ -x "$eventcrm" ]] || bench_die "no eventcrm executable (build it, or pass --eventcrm PATH)"
command -v db_bench >/dev/null || bench_die "db_bench not found (apt-get install rocksdb-tools)"
command -v sst_dump >/dev/null || bench_die "sst_dump not found (apt-get install rocksdb-tools)"

work="$(mktemp -d "$work_parent/eventcrm-rebuild-floor.XXXXXX")"
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

bench_log "rebuilding every read model over $events events (and the readseq anchor)..."
rebuild="$("$eventcrm" bench rebuild --events "$events" --data-dir "$work/data" --rounds 1 --json)"
field() { echo "$rebuild" | sed -n "s/.*\"$1\":\([0-9.eE+-]*\).*/\1/p"; }
rebuild_rate="$(field events_per_sec)"
readseq_rate="$(field readseq_per_sec)"

read -r rows key_bytes value_bytes < <(
  for f in "$work/data/readmodels"/*.sst; do sst_dump --file="$f" --show_properties 2>/dev/null; done |
    awk '/# entries/ { e += $NF } /raw key size/ { k += $NF } /raw value size/ { v += $NF }
         END { printf "%.0f %.0f %.0f\n", e, k, v }')
[[ "$rows" -gt 0 ]] || bench_die "no rows found in the rebuilt read models"
key_size=$(( key_bytes / rows ))
value_size=$(( value_bytes / rows ))
rows_per_event="$(awk -v r="$rows" -v e="$events" 'BEGIN { printf "%.1f", r / e }')"

bench_log "db_bench fillseq --disable_wal=1: $rows rows of $key_size + $value_size bytes..."
fill_rate="$(db_bench --db="$work/fill" --benchmarks=fillseq --disable_wal=1 --num="$rows" \
  --key_size="$key_size" --value_size="$value_size" --compression_type=lz4 --histogram=0 2>&1 |
  awk '/^fillseq/ { for (i = 1; i <= NF; i++) if ($i == "ops/sec") print $(i - 1) }')"
[[ -n "$fill_rate" ]] || bench_die "db_bench fillseq printed no ops/sec"

bench_log "eventcrm bench table-write: the same rows..."
table_rate="$("$eventcrm" bench table-write --rows "$rows" --key-size "$key_size" \
  --value-size "$value_size" --dir "$work" --json | sed -n 's/.*"rows_per_sec":\([0-9.]*\).*/\1/p')"
[[ -n "$table_rate" ]] || bench_die "bench table-write printed no rows_per_sec"
cores="$(nproc)"

per_event() { awk -v f="$1" -v r="$rows" -v e="$events" 'BEGIN { printf "%.0f", f * e / r }'; }
fill_bound="$(per_event "$fill_rate")"
table_bound="$(per_event "$(awk -v t="$table_rate" -v c="$cores" 'BEGIN { print t * c }')")"
target="$(awk -v s="$readseq_rate" 'BEGIN { printf "%.0f", s * 0.5 }')"
printf 'events                      %12d\n' "$events"
printf 'read-model rows per event   %12s  (%d rows, %d + %d bytes each on average)\n' \
  "$rows_per_event" "$rows" "$key_size" "$value_size"
printf 'rebuild                     %12.0f events/s\n' "$rebuild_rate"
printf 'readseq                     %12.0f ops/s: the target, 0.5x, is %s events/s\n' \
  "$readseq_rate" "$target"
printf 'table writer                %12.0f rows/s per thread: x %d cores = %s events/s\n' \
  "$table_rate" "$cores" "$table_bound"
printf 'fillseq                     %12.0f rows/s = %s events/s\n' "$fill_rate" "$fill_bound"
printf 'bound / target              %12s (table writer), %s (fillseq)\n' \
  "$(bench_ratio "$table_bound" "$target")" "$(bench_ratio "$fill_bound" "$target")"
printf 'rebuild / bound             %12s (table writer), %s (fillseq)\n' \
  "$(bench_ratio "$rebuild_rate" "$table_bound")" "$(bench_ratio "$rebuild_rate" "$fill_bound")"

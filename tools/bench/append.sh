#!/usr/bin/env bash
# Durable append throughput on this machine: eventcrm vs RocksDB's db_bench vs PostgreSQL 15,
# all fsyncing every commit, all on the same disk, interleaved round by round.
#
#   tools/bench/append.sh [--rounds N] [--seconds S] [--eventcrm PATH] [--work-dir DIR] [--json]
#                         [--no-postgres]
#
# Each round runs, in turn:
#   single events, 64 writers:  eventcrm bench append --writers 64 --batch 1 --event-size 400
#                               (twice: --driver threads, a thread per writer as db_bench has,
#                               and --driver async, appends chained as the HTTP server makes them)
#                               db_bench fillseq --sync=1 --threads=64 --value_size=400
#                               pgbench -c 64 -j 2: one INSERT of one event per transaction
#   batches of 100:             eventcrm bench append --batch 100
#                               db_bench fillseq --sync=1 --batch_size=100
# and prints the median of each figure over the rounds and the ratios against the targets
# (single: >= 4x db_bench and >= 10x PostgreSQL; batch 100: >= 0.8x db_bench), with what each
# case cost in CPU per event beside the budget a target leaves on this machine's cores.
# Needs: db_bench (rocksdb-tools), PostgreSQL 15 binaries (initdb, pg_ctl, postgres, psql,
# pgbench; as root they run as the `postgres` user), awk. farm-bench is not needed.
set -euo pipefail

rounds=3
seconds=6
writers=64
event_size=400
batch=100
json=0
postgres=1
eventcrm="${EVENTCRM:-}"
work_parent="${TMPDIR:-/tmp}"

usage() { sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --eventcrm) eventcrm="$2"; shift 2 ;;
    --work-dir) work_parent="$2"; shift 2 ;;
    --json) json=1; shift ;;
    --no-postgres) postgres=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "append.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$repo/tools/bench/lib.sh"
log() { bench_log "$@"; }
die() { bench_die "$@"; }
if [[ -z "$eventcrm" ]]; then
  for candidate in "$repo"/build/bin/eventcrm "$repo"/build-*/bin/eventcrm; do
    if [[ -x "$candidate" ]]; then eventcrm="$candidate"; break; fi
  done
fi
[[ -z "$eventcrm" ]] && eventcrm="$(command -v eventcrm || true)"
[[ -x "$eventcrm" ]] || die "no eventcrm executable (build it, or pass --eventcrm PATH)"
command -v db_bench >/dev/null || die "db_bench not found (apt-get install rocksdb-tools)"

if [[ $postgres -eq 1 ]]; then
  bench_pg_find || die "PostgreSQL 15 binaries not found (or pass --no-postgres)"
fi

work="$(mktemp -d "$work_parent/eventcrm-append-bench.XXXXXX")"
cleanup() {
  bench_pg_stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fs_type="$(df --output=fstype "$work" 2>/dev/null | tail -1 || stat -f -c %T "$work")"
load_start="$(cut -d' ' -f1 /proc/loadavg)"
[[ "$fs_type" == "tmpfs" ]] && log "warning: $work is on tmpfs: fsync costs nothing there"
log "work dir $work ($fs_type), $(nproc) cores, $rounds rounds of ${seconds}s, load $(cut -d' ' -f1-3 /proc/loadavg)"

# --- eventcrm -------------------------------------------------------------------------------
# Prints the JSON line of one `eventcrm bench append` run.
run_eventcrm() {  # batch [driver]
  rm -rf "$work/eventcrm"
  timeout $((seconds + 120)) "$eventcrm" bench append --writers "$writers" --batch "$1" \
    --event-size "$event_size" --seconds "$seconds" --durability sync \
    --driver "${2:-threads}" --data-dir "$work/eventcrm" --json
}
json_field() {  # json key
  echo "$1" | sed -n "s/.*\"$2\":\([0-9.eE+-]*\).*/\1/p"
}

# --- db_bench --------------------------------------------------------------------------------
# fillseq ignores --duration, so the key count per thread is sized from a short calibration run.
db_bench_run() {  # batch_size num_per_thread -> ops/sec
  rm -rf "$work/db_bench"
  timeout $((seconds * 4 + 120)) db_bench --db="$work/db_bench" --benchmarks=fillseq --sync=1 \
    --threads="$writers" --value_size="$event_size" --batch_size="$1" --num="$2" \
    --use_existing_db=0 --histogram=0 2>&1 |
    awk '/^fillseq/ { for (i = 1; i <= NF; i++) if ($i == "ops/sec") print $(i - 1) }'
}
declare -A db_bench_num
db_bench_calibrate() {  # batch_size
  # Two probes: the first is dominated by start-up; the second runs about a second.
  local num=$(( $1 * 20 )) rate probe
  for probe in 1 2; do
    rate="$(db_bench_run "$1" "$num")"
    [[ -n "$rate" ]] || die "db_bench calibration printed no ops/sec"
    num="$(awk -v r="$rate" -v s="$( ((probe == 1)) && echo 1 || echo "$seconds")" \
      -v t="$writers" -v b="$1" 'BEGIN { n = int(r * s / t / b) * b; if (n < b) n = b; print n }')"
  done
  db_bench_num[$1]="$num"
  log "db_bench batch $1: calibrated at $rate ops/s -> --num=$num per thread"
}

# --- PostgreSQL ------------------------------------------------------------------------------
pg_start() {
  bench_pg_start $((writers + 20))
  bench_pg_sql "create sequence event_version;"
  local pad
  pad="$(head -c $((event_size - 32)) /dev/zero | tr '\0' x)"
  # One event per transaction; (stream, version) distinct: the stream from the client, the
  # version from a sequence.
  cat >"$work/pg/append.sql" <<SQL
insert into events(stream, version, type, data)
values ('bench-' || :client_id, nextval('event_version'), 'bench.appended.v1',
        '{"writer":0,"seq":0,"pad":"$pad"}'::jsonb);
SQL
}
pg_run() { bench_pg_run "$work/pg/append.sql" "$writers" "$seconds"; }

# --- the rounds ------------------------------------------------------------------------------
ours_single=() ours_single_p50=() ours_single_p99=() ours_single_epc=()
ours_batch=() ours_batch_epc=() dbb_single=() dbb_batch=() pg_single=()
ours_async=() ours_async_p50=() ours_async_p99=()

db_bench_calibrate 1
db_bench_calibrate "$batch"
[[ $postgres -eq 1 ]] && pg_start

# CPU per event of each case (us, user + system): the whole process for eventcrm (the store
# and its writers are one process) and db_bench; PostgreSQL's server processes and pgbench.
cpu_single=() cpu_async=() cpu_batch=() cpu_dbb_single=() cpu_dbb_batch=() cpu_pg=()
pg_pid=0
[[ $postgres -eq 1 ]] && pg_pid="$(head -1 "$pg_data/postmaster.pid")"
measure() { bench_measured "$@"; }
cpu_per_event() {  # operations
  bench_cpu_us "$(awk -v a="$bench_server_s" -v b="$bench_client_s" 'BEGIN { print a + b }')" "$1"
}
events_of() {  # json-line
  bench_product "$(json_field "$1" events_per_sec)" "$(json_field "$1" seconds)"
}

for ((r = 1; r <= rounds; r++)); do
  measure 0 run_eventcrm 1 || die "eventcrm bench append failed: $bench_out"
  line="$bench_out"
  ours_single+=("$(json_field "$line" events_per_sec)")
  ours_single_p50+=("$(json_field "$line" p50_us)")
  ours_single_p99+=("$(json_field "$line" p99_us)")
  ours_single_epc+=("$(json_field "$line" events_per_sync)")
  cpu_single+=("$(cpu_per_event "$(events_of "$line")")")
  log "round $r: eventcrm single  $line; CPU ${cpu_single[-1]} us/event"

  measure 0 run_eventcrm 1 async || die "eventcrm bench append failed: $bench_out"
  line="$bench_out"
  ours_async+=("$(json_field "$line" events_per_sec)")
  ours_async_p50+=("$(json_field "$line" p50_us)")
  ours_async_p99+=("$(json_field "$line" p99_us)")
  cpu_async+=("$(cpu_per_event "$(events_of "$line")")")
  log "round $r: eventcrm async   $line; CPU ${cpu_async[-1]} us/event"

  measure 0 db_bench_run 1 "${db_bench_num[1]}"
  v="$bench_out"
  [[ -n "$v" ]] || die "db_bench printed no ops/sec"
  dbb_single+=("$v")
  cpu_dbb_single+=("$(cpu_per_event $((writers * db_bench_num[1])))")
  log "round $r: db_bench single  $v ops/s; CPU ${cpu_dbb_single[-1]} us/op"

  if [[ $postgres -eq 1 ]]; then
    measure "$pg_pid" pg_run
    v="$bench_out"
    [[ -n "$v" ]] || die "pgbench printed no tps"
    pg_single+=("$v")
    cpu_pg+=("$(cpu_per_event "$(bench_product "$v" "$seconds")")")
    log "round $r: postgres single  $v tps; CPU ${cpu_pg[-1]} us/tx (server and client)"
  fi

  measure 0 run_eventcrm "$batch" || die "eventcrm bench append failed: $bench_out"
  line="$bench_out"
  ours_batch+=("$(json_field "$line" events_per_sec)")
  ours_batch_epc+=("$(json_field "$line" events_per_sync)")
  cpu_batch+=("$(cpu_per_event "$(events_of "$line")")")
  log "round $r: eventcrm batch   $line; CPU ${cpu_batch[-1]} us/event"

  measure 0 db_bench_run "$batch" "${db_bench_num[$batch]}"
  v="$bench_out"
  [[ -n "$v" ]] || die "db_bench printed no ops/sec"
  dbb_batch+=("$v")
  cpu_dbb_batch+=("$(cpu_per_event $((writers * db_bench_num[$batch])))")
  log "round $r: db_bench batch   $v ops/s; CPU ${cpu_dbb_batch[-1]} us/op"
done

median() { bench_median "$@"; }
ratio() { bench_ratio "$@"; }
meets() { bench_meets "$@"; }

load_end="$(cut -d' ' -f1 /proc/loadavg)"
m_ours_single="$(median "${ours_single[@]}")"
m_ours_p50="$(median "${ours_single_p50[@]}")"
m_ours_p99="$(median "${ours_single_p99[@]}")"
m_ours_epc="$(median "${ours_single_epc[@]}")"
m_ours_batch="$(median "${ours_batch[@]}")"
m_ours_async="$(median "${ours_async[@]}")"
m_ours_async_p50="$(median "${ours_async_p50[@]}")"
m_ours_async_p99="$(median "${ours_async_p99[@]}")"
m_ours_batch_epc="$(median "${ours_batch_epc[@]}")"
m_dbb_single="$(median "${dbb_single[@]}")"
m_dbb_batch="$(median "${dbb_batch[@]}")"
m_pg="null"
[[ $postgres -eq 1 ]] && m_pg="$(median "${pg_single[@]}")"
r_single_dbb="$(ratio "$m_ours_single" "$m_dbb_single")"
r_single_pg="null"
[[ $postgres -eq 1 ]] && r_single_pg="$(ratio "$m_ours_single" "$m_pg")"
r_batch_dbb="$(ratio "$m_ours_batch" "$m_dbb_batch")"
r_async_dbb="$(ratio "$m_ours_async" "$m_dbb_single")"
r_async_pg="null"
[[ $postgres -eq 1 ]] && r_async_pg="$(ratio "$m_ours_async" "$m_pg")"

m_cpu_single="$(median "${cpu_single[@]}")" m_cpu_async="$(median "${cpu_async[@]}")"
m_cpu_batch="$(median "${cpu_batch[@]}")" m_cpu_dbb_single="$(median "${cpu_dbb_single[@]}")"
m_cpu_dbb_batch="$(median "${cpu_dbb_batch[@]}")" m_cpu_pg="null"
[[ $postgres -eq 1 ]] && m_cpu_pg="$(median "${cpu_pg[@]}")"
# What the targets leave per event on these cores.
target_single="$(bench_product "$m_dbb_single" 4)" target_batch="$(bench_product "$m_dbb_batch" 0.8)"
budget_single="$(bench_budget_us "$target_single")" budget_batch="$(bench_budget_us "$target_batch")"

if [[ $json -eq 1 ]]; then
  printf '{"rounds":%d,"seconds":%s,"writers":%d,"event_size":%d,"batch":%d,"load_start":%s,"load_end":%s,' \
    "$rounds" "$seconds" "$writers" "$event_size" "$batch" "$load_start" "$load_end"
  printf '"eventcrm_single_events_per_sec":%s,"eventcrm_single_p50_us":%s,' "$m_ours_single" "$m_ours_p50"
  printf '"eventcrm_single_p99_us":%s,"eventcrm_single_events_per_sync":%s,' "$m_ours_p99" "$m_ours_epc"
  printf '"eventcrm_async_events_per_sec":%s,"eventcrm_async_p50_us":%s,"eventcrm_async_p99_us":%s,' \
    "$m_ours_async" "$m_ours_async_p50" "$m_ours_async_p99"
  printf '"db_bench_single_ops_per_sec":%s,"postgres_single_tps":%s,' "$m_dbb_single" "$m_pg"
  printf '"eventcrm_batch_events_per_sec":%s,"eventcrm_batch_events_per_sync":%s,' "$m_ours_batch" "$m_ours_batch_epc"
  printf '"db_bench_batch_ops_per_sec":%s,' "$m_dbb_batch"
  printf '"ratio_single_vs_db_bench":%s,"ratio_single_vs_postgres":%s,' "$r_single_dbb" "$r_single_pg"
  printf '"ratio_async_vs_db_bench":%s,"ratio_async_vs_postgres":%s,' "$r_async_dbb" "$r_async_pg"
  printf '"ratio_batch_vs_db_bench":%s,' "$r_batch_dbb"
  printf '"cpu_us_per_event":{"eventcrm_single":%s,"eventcrm_async":%s,"eventcrm_batch":%s,' \
    "$m_cpu_single" "$m_cpu_async" "$m_cpu_batch"
  printf '"db_bench_single":%s,"db_bench_batch":%s,"postgres":%s},' \
    "$m_cpu_dbb_single" "$m_cpu_dbb_batch" "$m_cpu_pg"
  printf '"cpu_budget_us":{"single":%s,"batch":%s}}\n' "$budget_single" "$budget_batch"
else
  echo
  echo "Durable appends, $writers writers, ${event_size}-byte events, median of $rounds rounds of ${seconds}s ($fs_type)"
  echo "$(nproc) cores, load average $load_start at the start, $load_end at the end"
  printf '%-44s %14s   %s\n' "case" "median" "rounds"
  printf '%-44s %14.0f   %s\n' "eventcrm, 1 event/append (events/s)" "$m_ours_single" "${ours_single[*]}"
  printf '%-44s %14s   %s\n' "  append latency p50 / p99 (us)" "$m_ours_p50 / $m_ours_p99" ""
  printf '%-44s %14s   %s\n' "  events per WAL sync (fsync)" "$m_ours_epc" "${ours_single_epc[*]}"
  printf '%-44s %14.0f   %s\n' "eventcrm, 1 event/append, async (events/s)" "$m_ours_async" "${ours_async[*]}"
  printf '%-44s %14s   %s\n' "  append latency p50 / p99 (us)" "$m_ours_async_p50 / $m_ours_async_p99" ""
  printf '%-44s %14.0f   %s\n' "db_bench fillseq sync=1 (ops/s)" "$m_dbb_single" "${dbb_single[*]}"
  if [[ $postgres -eq 1 ]]; then
    printf '%-44s %14.0f   %s\n' "PostgreSQL 15 pgbench, 1 insert/tx (tps)" "$m_pg" "${pg_single[*]}"
  fi
  printf '%-44s %14.0f   %s\n' "eventcrm, $batch events/append (events/s)" "$m_ours_batch" "${ours_batch[*]}"
  printf '%-44s %14s   %s\n' "  events per WAL sync (fsync)" "$m_ours_batch_epc" "${ours_batch_epc[*]}"
  printf '%-44s %14.0f   %s\n' "db_bench fillseq sync=1 batch $batch (ops/s)" "$m_dbb_batch" "${dbb_batch[*]}"
  echo
  printf '%-44s %8s  target %-6s %s\n' "eventcrm / db_bench, single" "$r_single_dbb" ">= 4" "$(meets "$r_single_dbb" 4)"
  if [[ $postgres -eq 1 ]]; then
    printf '%-44s %8s  target %-6s %s\n' "eventcrm / PostgreSQL, single" "$r_single_pg" ">= 10" "$(meets "$r_single_pg" 10)"
  fi
  printf '%-44s %8s  target %-6s %s\n' "eventcrm async / db_bench, single" "$r_async_dbb" ">= 4" "$(meets "$r_async_dbb" 4)"
  if [[ $postgres -eq 1 ]]; then
    printf '%-44s %8s  target %-6s %s\n' "eventcrm async / PostgreSQL, single" "$r_async_pg" ">= 10" "$(meets "$r_async_pg" 10)"
  fi
  printf '%-44s %8s  target %-6s %s\n' "eventcrm / db_bench, batch $batch" "$r_batch_dbb" ">= 0.8" "$(meets "$r_batch_dbb" 0.8)"
  echo
  echo "CPU per event (us, user + system, medians; PostgreSQL: server processes and pgbench)"
  printf '%-44s %8s\n' "eventcrm, 1 event/append" "$m_cpu_single"
  printf '%-44s %8s\n' "eventcrm, 1 event/append, async" "$m_cpu_async"
  printf '%-44s %8s\n' "db_bench, single" "$m_cpu_dbb_single"
  [[ $postgres -eq 1 ]] && printf '%-44s %8s\n' "PostgreSQL, 1 insert/tx" "$m_cpu_pg"
  printf '%-44s %8s\n' "eventcrm, $batch events/append" "$m_cpu_batch"
  printf '%-44s %8s\n' "db_bench, batch $batch" "$m_cpu_dbb_batch"
  echo "What a target leaves per event on these $(nproc) cores:"
  printf '%-44s %8s\n' "  4x db_bench single ($target_single/s)" "$budget_single"
  printf '%-44s %8s\n' "  0.8x db_bench batch ($target_batch/s)" "$budget_batch"
fi

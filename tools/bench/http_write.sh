#!/usr/bin/env bash
# The durable write path through HTTP: `eventcrm bench http-write` (64 keep-alive connections
# logging activities against 10,000 accounts through POST /v1/activities of a real
# `eventcrm serve`, durability sync) beside its anchors in the same run, round by round:
#   - PostgreSQL 15 (pgbench, 64 clients): the equivalent write — check the account exists and
#     insert the activity event into an events table with a unique (stream, version) key, one
#     transaction per activity, synchronous_commit=on;
#   - nginx serving a static file of the size of our answer (wrk, 64 connections).
# All three clients drive their 64 connections from 2 threads (bench http-write --threads 2,
# pgbench -j 2, wrk -t 2), on the same 2 cores as the servers.
# Prints the medians and the ratios against the targets (>= 5x PostgreSQL, >= 0.5x nginx),
# and what each request cost in CPU, server side (/proc) and client side, beside the budget a
# target leaves on this machine's cores.
#
#   tools/bench/http_write.sh [--rounds N] [--seconds S] [--eventcrm PATH] [--json]
set -euo pipefail

rounds=3
seconds=8
connections=64
accounts=10000
json=0
eventcrm="${EVENTCRM:-}"
usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --eventcrm) eventcrm="$2"; shift 2 ;;
    --json) json=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "http_write.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$repo/tools/bench/lib.sh"
[[ -n "$eventcrm" ]] || eventcrm="$repo/build/bin/eventcrm"
[[ -x "$eventcrm" ]] || bench_die "no eventcrm executable at $eventcrm (build it, or pass --eventcrm PATH)"
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || bench_die "$tool is required (tools/dev install)"
done
bench_pg_find || bench_die "PostgreSQL 15 binaries not found (apt-get install postgresql-15)"

# Every request below carries the server's first administrator key (README, "Authentication").
export EVENTCRM_BOOTSTRAP_ADMIN_KEY="eck_scripts1_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
curl() { command curl -H "Authorization: Bearer $EVENTCRM_BOOTSTRAP_ADMIN_KEY" "$@"; }
work="$(mktemp -d "${TMPDIR:-/tmp}/eventcrm-http-write.XXXXXX")"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  bench_nginx_stop
  bench_pg_stop
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fs_type="$(df --output=fstype "$work" 2>/dev/null | tail -1)"
[[ "$fs_type" == "tmpfs" ]] && bench_log "warning: $work is on tmpfs: fsync costs nothing there"
load_start="$(cut -d' ' -f1 /proc/loadavg)"

# --- eventcrm: a durable server (sync is the default) -----------------------------------------
# The 64 connections share one API key, and one principal's default rate limit (10,000
# requests/s, bursts of 20,000) would cap the figure: the limiter still checks every request,
# its cap is set above what the machine reaches. (Without this, a round could reach 13,300/s at
# most, 6 s at 10,000/s plus the burst; a 6 s run right after a 1 s warm-up got 27 % 429s.)
"$eventcrm" serve --port 0 --data-dir "$work/data" --log-level warn --no-access-log \
  --rate-limit-principal 1000000 --rate-burst-principal 1000000 \
  >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 150); do
  grep -q "listening on" "$work/serve.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || bench_die "eventcrm serve exited: $(cat "$work/serve.err")"
  sleep 0.1
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/serve.out")
[[ -n "$port" ]] || bench_die "eventcrm did not start: $(cat "$work/serve.err")"
bench_log "eventcrm on 127.0.0.1:$port; creating $accounts accounts"
"$eventcrm" bench http-write --port "$port" --connections "$connections" --accounts "$accounts" \
  --seconds 1 --ids-file "$work/ids" --json >"$work/warmup.json" ||
  bench_die "warm-up failed: $(cat "$work/warmup.json")"
answer_bytes=$(curl -s -X POST -H 'Content-Type: application/json' \
  "http://127.0.0.1:$port/v1/activities" \
  -d "{\"kind\":\"call\",\"account_id\":\"$(head -1 "$work/ids")\",\"subject\":\"probe\"}" | wc -c)

# --- PostgreSQL: accounts, then one transaction per activity -----------------------------------
bench_pg_start $((connections + 20))
bench_pg_sql "create table accounts(id int primary key, name text not null);
  insert into accounts select i, 'Bench account ' || i from generate_series(1, $accounts) i;"
cat >"$work/pg/activity.sql" <<SQL
\set aid random(1, $accounts)
insert into events(stream, version, type, data)
select 'activity-' || gen_random_uuid(), 0, 'activity.logged.v1',
       jsonb_build_object('account_id', a.id, 'kind', 'call',
         'subject', 'Follow-up on the renewal',
         'notes', 'Customer asked for a revised quote with the volume discount.',
         'outcome', 'positive', 'duration_minutes', 12)
from accounts a where a.id = :aid;
SQL

# --- nginx: a static file the size of our answer ----------------------------------------------
mkdir -p "$work/www"
head -c "$answer_bytes" /dev/zero | tr '\0' x >"$work/www/answer.json"
bench_nginx_start 2 answer.json

ours=() ours_p50=() ours_p99=() pg=() ngx=()
# CPU per operation, server side and client side (us), round by round.
ours_srv=() ours_cli=() pg_srv=() pg_cli=() ngx_srv=() ngx_cli=()
pg_pid="$(head -1 "$pg_data/postmaster.pid")"
cpu_per_op() {  # server-array client-array rate
  local -n srv="$1" cli="$2"
  local ops
  ops="$(bench_product "$3" "$seconds")"
  srv+=("$(bench_cpu_us "$bench_server_s" "$ops")")
  cli+=("$(bench_cpu_us "$bench_client_s" "$ops")")
}
for ((r = 1; r <= rounds; r++)); do
  bench_measured "$server_pid" "$eventcrm" bench http-write --port "$port" \
    --connections "$connections" --seconds "$seconds" --ids-file "$work/ids" --json ||
    bench_die "http-write failed: $bench_out"
  line="$bench_out"
  ours+=("$(sed -n 's/.*"requests_per_sec":\([0-9.]*\).*/\1/p' <<<"$line")")
  ours_p50+=("$(sed -n 's/.*"p50_ms":\([0-9.]*\).*/\1/p' <<<"$line")")
  ours_p99+=("$(sed -n 's/.*"p99_ms":\([0-9.]*\).*/\1/p' <<<"$line")")
  cpu_per_op ours_srv ours_cli "${ours[-1]}"
  bench_log "round $r: eventcrm $line; CPU us per request: server ${ours_srv[-1]}, client ${ours_cli[-1]}"
  bench_measured "$pg_pid" bench_pg_run "$work/pg/activity.sql" "$connections" "$seconds"
  [[ -n "$bench_out" ]] || bench_die "pgbench printed no tps"
  pg+=("$bench_out")
  cpu_per_op pg_srv pg_cli "$bench_out"
  bench_log "round $r: postgres $bench_out tps; CPU us per tx: server ${pg_srv[-1]}, client ${pg_cli[-1]}"
  bench_measured "$nginx_pid" bench_wrk "http://127.0.0.1:$nginx_port/answer.json" 2 \
    "$connections" "$seconds"
  ngx+=("$(cut -d' ' -f1 <<<"$bench_out")")
  cpu_per_op ngx_srv ngx_cli "${ngx[-1]}"
  bench_log "round $r: nginx $bench_out (req/s p50_ms p99_ms); CPU us per request: server ${ngx_srv[-1]}, client ${ngx_cli[-1]}"
done

m_ours="$(bench_median "${ours[@]}")"
m_p50="$(bench_median "${ours_p50[@]}")"
m_p99="$(bench_median "${ours_p99[@]}")"
m_pg="$(bench_median "${pg[@]}")"
m_ngx="$(bench_median "${ngx[@]}")"
r_pg="$(bench_ratio "$m_ours" "$m_pg")"
r_ngx="$(bench_ratio "$m_ours" "$m_ngx")"
m_ours_srv="$(bench_median "${ours_srv[@]}")" m_ours_cli="$(bench_median "${ours_cli[@]}")"
m_pg_srv="$(bench_median "${pg_srv[@]}")" m_pg_cli="$(bench_median "${pg_cli[@]}")"
m_ngx_srv="$(bench_median "${ngx_srv[@]}")" m_ngx_cli="$(bench_median "${ngx_cli[@]}")"
# What the targets leave per request on these cores, clients included.
target_pg="$(bench_product "$m_pg" 5)" target_ngx="$(bench_product "$m_ngx" 0.5)"
budget_pg="$(bench_budget_us "$target_pg")" budget_ngx="$(bench_budget_us "$target_ngx")"
load_end="$(cut -d' ' -f1 /proc/loadavg)"
if [[ $json -eq 1 ]]; then
  printf '{"rounds":%d,"seconds":%s,"connections":%d,"accounts":%d,"load_start":%s,"load_end":%s,' \
    "$rounds" "$seconds" "$connections" "$accounts" "$load_start" "$load_end"
  printf '"eventcrm_activities_per_sec":%s,"eventcrm_p50_ms":%s,"eventcrm_p99_ms":%s,' "$m_ours" "$m_p50" "$m_p99"
  printf '"postgres_tps":%s,"nginx_rps":%s,"ratio_vs_postgres":%s,"ratio_vs_nginx":%s,' \
    "$m_pg" "$m_ngx" "$r_pg" "$r_ngx"
  printf '"cpu_us_per_op":{"eventcrm":[%s,%s],"postgres":[%s,%s],"nginx":[%s,%s]},' \
    "$m_ours_srv" "$m_ours_cli" "$m_pg_srv" "$m_pg_cli" "$m_ngx_srv" "$m_ngx_cli"
  printf '"cpu_budget_us":{"vs_postgres":%s,"vs_nginx":%s}}\n' "$budget_pg" "$budget_ngx"
else
  echo
  echo "Durable HTTP writes, $connections connections, median of $rounds rounds of ${seconds}s ($fs_type)"
  echo "$(nproc) cores, load average $load_start at the start, $load_end at the end"
  printf '%-48s %12s   %s\n' "case" "median" "rounds"
  printf '%-48s %12.0f   %s\n' "eventcrm POST /v1/activities (201/s)" "$m_ours" "${ours[*]}"
  printf '%-48s %12s\n' "  latency p50 / p99 (ms)" "$m_p50 / $m_p99"
  printf '%-48s %12.0f   %s\n' "PostgreSQL 15, check + insert per tx (tps)" "$m_pg" "${pg[*]}"
  printf '%-48s %12.0f   %s\n' "nginx static file, $answer_bytes bytes (req/s)" "$m_ngx" "${ngx[*]}"
  echo
  printf '%-48s %8s  target %-6s %s\n' "eventcrm / PostgreSQL" "$r_pg" ">= 5" "$(bench_meets "$r_pg" 5)"
  printf '%-48s %8s  target %-6s %s\n' "eventcrm / nginx" "$r_ngx" ">= 0.5" "$(bench_meets "$r_ngx" 0.5)"
  echo
  echo "CPU per request (us, user + system, medians): server processes / client"
  printf '%-48s %8s / %s\n' "eventcrm (all threads: HTTP, store, read models)" "$m_ours_srv" "$m_ours_cli"
  printf '%-48s %8s / %s\n' "PostgreSQL (postmaster and its processes)" "$m_pg_srv" "$m_pg_cli"
  printf '%-48s %8s / %s\n' "nginx (master and workers)" "$m_ngx_srv" "$m_ngx_cli"
  echo "What a target leaves on these $(nproc) cores, server and client together:"
  printf '%-48s %8s us per request\n' "  5x PostgreSQL ($target_pg/s)" "$budget_pg"
  printf '%-48s %8s us per request\n' "  0.5x nginx ($target_ngx/s)" "$budget_ngx"
fi

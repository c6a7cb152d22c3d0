#!/usr/bin/env bash
# Customer history latency over HTTP (R-AUD 1 benchmark): a customer with 10,000 events (its
# account, and activities logged on it through POST /v1/activities, among another customer's),
# then wrk pages through GET /v1/customers/{id}/history?limit=100 with every cursor of that
# history in turn (each request a different page), at 1 connection (the service time) and at 16;
# nginx serving a static file of the same size is the anchor, at the same concurrency, in the same
# run, rounds alternating. Prints medians of the rounds: p50/p99 and req/s of both.
#
#   tools/bench/history.sh [--events N] [--rounds R] [--duration S] [--bin PATH] [--json]
#
# Target: p99 < 10 ms for a page of 100.
set -euo pipefail
cd "$(dirname "$0")/../.."

EVENTS=10000
ROUNDS=3
DURATION=5
JSON=0
THREADS=2
BIN="${EVENTCRM_BIN:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --events) EVENTS="$2"; shift ;;
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --bin) BIN="$2"; shift ;;
    --json) JSON=1 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "history.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -z "$BIN" ]; then
  for candidate in build/bin/eventcrm build-*/bin/eventcrm; do
    if [ -x "$candidate" ]; then BIN="$candidate"; break; fi
  done
fi
[ -x "$BIN" ] || { echo "history.sh: no eventcrm executable (build it, or pass --bin)" >&2; exit 1; }
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "history.sh: $tool is required" >&2; exit 1; }
done

. tools/bench/lib.sh
log() { [ "$JSON" = 1 ] || echo "$@"; }
key="eck_historyb_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
export WRK_HEADER="Authorization: Bearer $key"
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  bench_nginx_stop
  rm -rf "$work"
}
trap cleanup EXIT

# A throwaway administrator key for this server only; rate limits off (one client, many requests).
EVENTCRM_BOOTSTRAP_ADMIN_KEY="$key" "$BIN" serve --port 0 --data-dir "$work/data" \
  --log-level warn --no-access-log --durability relaxed --io-threads "$THREADS" \
  --rate-limit-principal 0 --rate-limit-address 0 >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/serve.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || bench_die "eventcrm serve exited: $(cat "$work/serve.err")"
  sleep 0.1
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/serve.out")
[ -n "$port" ] || bench_die "eventcrm did not start: $(cat "$work/serve.err")"
base="http://127.0.0.1:$port"
api() { command curl -sS -H "$WRK_HEADER" -H 'Content-Type: application/json' "$@"; }
id_of() { sed -n 's/.*"id":"\([^"]*\)".*/\1/p'; }

customer=$(api -X POST "$base/v1/accounts" -d '{"name":"History bench customer","industry":"retail"}' | id_of)
other=$(api -X POST "$base/v1/accounts" -d '{"name":"Another customer","industry":"retail"}' | id_of)
[ -n "$customer" ] && [ -n "$other" ] || bench_die "could not create the accounts"

# The activities: one curl process, keep-alive connections in parallel, from a config file.
log "logging $((EVENTS - 1)) activities on the customer (and $((EVENTS / 4)) on another) ..."
kinds=(call meeting email visit note)
{
  for i in $(seq 1 $((EVENTS - 1 + EVENTS / 4))); do
    if [ $((i % 5)) -eq 0 ] && [ $((i / 5)) -le $((EVENTS / 4)) ]; then acc="$other"; else acc="$customer"; fi
    [ "$i" -gt 1 ] && echo next
    printf 'url = "%s/v1/activities"\nheader = "%s"\nheader = "Content-Type: application/json"\n' "$base" "$WRK_HEADER"
    printf 'data = "{\\"kind\\":\\"%s\\",\\"account_id\\":\\"%s\\",\\"subject\\":\\"Follow-up %d on the renewal\\",\\"notes\\":\\"Customer asked for a revised quote with the volume discount.\\",\\"outcome\\":\\"positive\\",\\"duration_minutes\\":12}"\n' \
      "${kinds[$((i % 5))]}" "$acc" "$i"
    printf 'output = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n'
  done
} >"$work/activities.curl"
command curl -sS --no-progress-meter --parallel --parallel-max 32 -K "$work/activities.curl" >"$work/codes.txt"
created=$(grep -c '^201$' "$work/codes.txt" || true)
[ "$created" -ge $((EVENTS - 1)) ] || bench_die "only $created activities were created: $(sort "$work/codes.txt" | uniq -c)"

# Every page of the customer's history (once it is all applied), as wrk's list of paths.
mine=0
for _ in $(seq 100); do
  : >"$work/paths.txt"
  after=0
  mine=0
  while :; do
    path="/v1/customers/$customer/history?limit=100&after=$after"
    echo "$path" >>"$work/paths.txt"
    api "$base$path" >"$work/page.json"
    n=$(grep -o '"position":' "$work/page.json" | wc -l)
    mine=$((mine + n))
    next=$(sed -n 's/.*"next_cursor":"\([0-9]*\)".*/\1/p' "$work/page.json")
    [ -n "$next" ] || break
    after="$next"
  done
  [ "$mine" -ge "$EVENTS" ] && break
  sleep 0.2
done
[ "$mine" -ge "$EVENTS" ] || bench_die "the history has $mine events, expected $EVENTS"
# Full pages only (the last one may be short): each request returns 100 events.
pages=$(($(wc -l <"$work/paths.txt") - 1))
head -n "$pages" "$work/paths.txt" >"$work/full.txt"
mid=$(sed -n "$((pages / 2))p" "$work/full.txt")
api "$base$mid" >"$work/page.json"
size=$(stat -c %s "$work/page.json")
{
  echo 'local paths = {}'
  while read -r p; do echo "paths[#paths + 1] = \"$p\""; done <"$work/full.txt"
  cat <<LUA
local i = 0
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i], { ["Authorization"] = "Bearer $key" })
end
LUA
} >"$work/pages.lua"

mkdir -p "$work/www"
cp "$work/page.json" "$work/www/page.json"
bench_nginx_start "$THREADS" page.json
nurl="http://127.0.0.1:$nginx_port/page.json"

# wrk → "rps p50_ms p99_ms" (bench_wrk with the paging script).
wrk_pages() {  # connections
  local threads=$THREADS
  [ "$1" -lt "$threads" ] && threads=$1
  wrk -t"$threads" -c"$1" -d"${DURATION}s" --latency -s "$work/pages.lua" "$base" | awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v + 0
    }
    /Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { if (bad > 0) { print "non-2xx responses: " bad > "/dev/stderr"; exit 1 } printf "%s %s %s\n", rps, p50, p99 }'
}
wrk_nginx() {  # connections
  local threads=$THREADS
  [ "$1" -lt "$threads" ] && threads=$1
  bench_wrk "$nurl" "$threads" "$1" "$DURATION"
}
median_col() { cut -d' ' -f"$2" "$1" | { mapfile -t v; bench_median "${v[@]}"; }; }

log "history of $mine events for one customer: $pages full pages of 100 ($size bytes each); $ROUNDS rounds of ${DURATION}s"
json="{\"events\":$mine,\"pages\":$pages,\"page_bytes\":$size,\"rounds\":$ROUNDS"
for c in 1 16; do
  : >"$work/e$c.txt"
  : >"$work/n$c.txt"
  for r in $(seq "$ROUNDS"); do
    e=$(wrk_pages "$c")
    n=$(wrk_nginx "$c")
    echo "$e" >>"$work/e$c.txt"
    echo "$n" >>"$work/n$c.txt"
    log "  $c conn, round $r: eventcrm $e | nginx $n   (req/s p50_ms p99_ms)"
  done
  e_rps=$(median_col "$work/e$c.txt" 1); e50=$(median_col "$work/e$c.txt" 2); e99=$(median_col "$work/e$c.txt" 3)
  n_rps=$(median_col "$work/n$c.txt" 1); n50=$(median_col "$work/n$c.txt" 2); n99=$(median_col "$work/n$c.txt" 3)
  log "$c connection(s), medians: eventcrm p50 $e50 ms, p99 $e99 ms, $e_rps req/s | nginx p50 $n50 ms, p99 $n99 ms, $n_rps req/s | rate ratio $(bench_ratio "$e_rps" "$n_rps") | p99 < 10 ms: $(awk -v p="$e99" 'BEGIN { print (p < 10) ? "yes" : "NO" }')"
  json="$json,\"c$c\":{\"p50_ms\":$e50,\"p99_ms\":$e99,\"rps\":$e_rps,\"nginx_p50_ms\":$n50,\"nginx_p99_ms\":$n99,\"nginx_rps\":$n_rps}"
done
[ "$JSON" = 1 ] && echo "$json}"
exit 0

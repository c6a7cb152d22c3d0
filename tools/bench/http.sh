#!/usr/bin/env bash
# HTTP read benchmark: wrk (64 connections) against eventcrm's GET /v1/streams/{stream}?limit=10
# and against nginx serving a static file of the same size, alternating, several rounds.
# Prints both medians and the ratio; --json prints one line for machines.
# Usage: tools/bench/http.sh [--json] [--rounds N] [--duration SECONDS] [--bin path/to/eventcrm]
set -euo pipefail
cd "$(dirname "$0")/../.."

JSON=0
ROUNDS=3
DURATION=5
CONNECTIONS=64
THREADS=2
BIN="${EVENTCRM_BIN:-build/bin/eventcrm}"
while [ $# -gt 0 ]; do
  case "$1" in
    --json) JSON=1 ;;
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --bin) BIN="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "http.sh: $tool is required" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "http.sh: $BIN not found (build first or pass --bin)" >&2; exit 1; }

. tools/bench/lib.sh
log() { [ "$JSON" = 1 ] || echo "$@"; }
# Every request below carries the server's first administrator key (README, "Authentication").
export EVENTCRM_BOOTSTRAP_ADMIN_KEY="eck_scripts1_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
curl() { command curl -H "Authorization: Bearer $EVENTCRM_BOOTSTRAP_ADMIN_KEY" "$@"; }
export WRK_HEADER="Authorization: Bearer $EVENTCRM_BOOTSTRAP_ADMIN_KEY"
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  bench_nginx_stop
  rm -rf "$work"
}
trap cleanup EXIT

# --- eventcrm, with a stream of 10 events written through its own append endpoint
"$BIN" serve --port 0 --data-dir "$work/data" --log-level warn --no-access-log \
  --durability relaxed --io-threads "$THREADS" >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/serve.out")
[ -n "$port" ] || { echo "eventcrm did not start: $(cat "$work/serve.err")" >&2; exit 1; }
for i in $(seq 10); do
  curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' \
    "http://127.0.0.1:$port/v1/streams/bench-1" \
    -d "{\"events\":[{\"type\":\"bench.recorded.v1\",\"data\":{\"n\":$i,\"note\":\"a typical small CRM event payload\"}}]}"
done
url="http://127.0.0.1:$port/v1/streams/bench-1?limit=10"
curl -sf "$url" >"$work/page.json"
size=$(stat -c %s "$work/page.json")

# --- nginx on loopback serving the same bytes
mkdir -p "$work/www"
cp "$work/page.json" "$work/www/page.json"
bench_nginx_start "$THREADS" page.json
nurl="http://127.0.0.1:$nginx_port/page.json"
run_wrk() { bench_wrk "$1" "$THREADS" "$CONNECTIONS" "$DURATION"; }
median() { mapfile -t v; bench_median "${v[@]}"; }

log "page: $size bytes; $ROUNDS rounds of ${DURATION}s, $CONNECTIONS connections, $THREADS wrk threads"
: >"$work/e.txt"
: >"$work/n.txt"
for r in $(seq "$ROUNDS"); do
  e=$(run_wrk "$url")
  n=$(run_wrk "$nurl")
  echo "$e" >>"$work/e.txt"
  echo "$n" >>"$work/n.txt"
  log "round $r: eventcrm $(cut -d' ' -f1 <<<"$e") req/s (p50 $(cut -d' ' -f2 <<<"$e") ms, p99 $(cut -d' ' -f3 <<<"$e") ms)" \
    " | nginx $(cut -d' ' -f1 <<<"$n") req/s (p50 $(cut -d' ' -f2 <<<"$n") ms, p99 $(cut -d' ' -f3 <<<"$n") ms)"
done
e_rps=$(cut -d' ' -f1 "$work/e.txt" | median)
n_rps=$(cut -d' ' -f1 "$work/n.txt" | median)
p50=$(cut -d' ' -f2 "$work/e.txt" | median)
p99=$(cut -d' ' -f3 "$work/e.txt" | median)
ratio=$(awk -v a="$e_rps" -v b="$n_rps" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
if [ "$JSON" = 1 ]; then
  printf '{"eventcrm_rps":%.0f,"nginx_rps":%.0f,"ratio_vs_nginx":%s,"p50_ms":%.3f,"p99_ms":%.3f,"page_bytes":%d,"rounds":%d,"duration_s":%d,"connections":%d}\n' \
    "$e_rps" "$n_rps" "$ratio" "$p50" "$p99" "$size" "$ROUNDS" "$DURATION" "$CONNECTIONS"
else
  echo "median: eventcrm $e_rps req/s (p50 $p50 ms, p99 $p99 ms), nginx $n_rps req/s; ratio $ratio"
fi

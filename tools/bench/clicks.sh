#!/usr/bin/env bash
# Tracking-link click benchmark: wrk (64 connections) against eventcrm's public GET /t/{code}
# (a 302 whose click is recorded durably: --durability sync, clicks batched into the log by the
# click recorder) and against nginx answering the same 302 from its config, alternating, several
# rounds. Afterwards every click wrk got a 302 for is counted in the log itself (the campaign's
# activity stream), not in a counter. Prints both medians and the ratio; --json prints one line.
# A third column, GET /healthz on the same server (the cheapest route: no handler work), shows
# what the HTTP layer alone reaches on the machine, the ceiling for any route.
# Usage: tools/bench/clicks.sh [--json] [--rounds N] [--duration SECONDS] [--server-threads N]
#                              [--bin path/to/eventcrm]
set -euo pipefail
cd "$(dirname "$0")/../.."

JSON=0
ROUNDS=3
DURATION=5
CONNECTIONS=64
THREADS=2          # wrk threads
SERVER_THREADS=4   # eventcrm's I/O threads and nginx's worker processes alike (eventcrm's
                   # default is twice the cores: 4 on the 2-core machine)
BIN="${EVENTCRM_BIN:-build/bin/eventcrm}"
while [ $# -gt 0 ]; do
  case "$1" in
    --json) JSON=1 ;;
    --rounds) ROUNDS="$2"; shift ;;
    --duration) DURATION="$2"; shift ;;
    --bin) BIN="$2"; shift ;;
    --server-threads) SERVER_THREADS="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
# The anchors come from Debian's packages (root installs them when missing).
if ! command -v wrk >/dev/null || ! command -v nginx >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y \
      --no-install-recommends wrk nginx-light >/dev/null
  fi
fi
for tool in wrk nginx curl python3; do
  command -v "$tool" >/dev/null || { echo "clicks.sh: $tool is required" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "clicks.sh: $BIN not found (build first or pass --bin)" >&2; exit 1; }

. tools/bench/lib.sh
# Commands carry the server's first administrator key; GET /t/{code} is public.
export EVENTCRM_BOOTSTRAP_ADMIN_KEY="eck_scripts1_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
auth=(-H "Authorization: Bearer $EVENTCRM_BOOTSTRAP_ADMIN_KEY")
log() { [ "$JSON" = 1 ] || echo "$@"; }
work=$(mktemp -d)
server_pid=""
ngx_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [ -n "$ngx_pid" ] && kill "$ngx_pid" 2>/dev/null && wait "$ngx_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

target="https://shop.example/spring-sale?utm_source=bench"

# --- eventcrm, durable: an append is acknowledged only after the WAL is fsynced. The per-address
# rate limit is off: wrk is one client address, real clicks come from many.
"$BIN" serve --port 0 --data-dir "$work/data" --log-level warn --no-access-log \
  --durability sync --io-threads "$SERVER_THREADS" --rate-limit-address 0 \
  >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/serve.out")
[ -n "$port" ] || bench_die "eventcrm did not start: $(cat "$work/serve.err")"
api="http://127.0.0.1:$port"
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
campaign=$(curl -sf "${auth[@]}" -X POST -H 'Content-Type: application/json' "$api/v1/campaigns" \
  -d '{"name":"Click bench","channel":"ads"}' | json_field id)
code=$(curl -sf "${auth[@]}" -X POST -H 'Content-Type: application/json' \
  "$api/v1/campaigns/$campaign/tracking-links" -d "{\"target_url\":\"$target\"}" | json_field code)
url="$api/t/$code"
[ "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$url")" = "302 $target" ] ||
  bench_die "eventcrm does not redirect $url"

# --- nginx on loopback answering the same 302 (no file system involved)
mkdir -p "$work/nginx"
for attempt in 1 2 3 4 5; do
  nport=$(bench_free_port)
  cat >"$work/nginx/nginx.conf" <<CONF
user root;
worker_processes $SERVER_THREADS;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server {
    listen 127.0.0.1:$nport;
    location /t/ { return 302 $target; }
  }
}
CONF
  nginx -c "$work/nginx/nginx.conf" 2>>"$work/nginx/start.log" &
  ngx_pid=$!
  ok=0
  for _ in $(seq 50); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$nport/t/$code")" = 302 ]; then
      ok=1
      break
    fi
    kill -0 "$ngx_pid" 2>/dev/null || break
    sleep 0.1
  done
  [ "$ok" = 1 ] && break
  kill "$ngx_pid" 2>/dev/null || true
  wait "$ngx_pid" 2>/dev/null || true
  ngx_pid=""
done
[ -n "$ngx_pid" ] || bench_die "nginx did not start: $(cat "$work/nginx/start.log")"
nurl="http://127.0.0.1:$nport/t/$code"

# wrk → "rps p50_ms p99_ms redirects" (redirects: requests answered, all 302 when no errors).
run_wrk() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1" | awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v + 0
    }
    /Requests\/sec:/ { rps = $2 }
    / requests in / { total = $1 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Non-2xx/ { bad = $NF }
    END { if (bad > 0) { print "error responses: " bad > "/dev/stderr"; total -= bad }
          printf "%s %s %s %d\n", rps, p50, p99, total }'
}
median() { mapfile -t v; bench_median "${v[@]}"; }

log "$ROUNDS rounds of ${DURATION}s, $CONNECTIONS connections, $THREADS wrk threads; eventcrm --durability sync; $SERVER_THREADS server threads each"
: >"$work/e.txt"
: >"$work/n.txt"
: >"$work/h.txt"
for r in $(seq "$ROUNDS"); do
  e=$(run_wrk "$url")
  n=$(run_wrk "$nurl")
  h=$(run_wrk "$api/healthz")
  echo "$e" >>"$work/e.txt"
  echo "$n" >>"$work/n.txt"
  echo "$h" >>"$work/h.txt"
  log "round $r: eventcrm $(cut -d' ' -f1 <<<"$e") req/s (p50 $(cut -d' ' -f2 <<<"$e") ms, p99 $(cut -d' ' -f3 <<<"$e") ms)" \
    " | nginx $(cut -d' ' -f1 <<<"$n") req/s (p50 $(cut -d' ' -f2 <<<"$n") ms, p99 $(cut -d' ' -f3 <<<"$n") ms)" \
    " | eventcrm /healthz $(cut -d' ' -f1 <<<"$h") req/s"
done
e_rps=$(cut -d' ' -f1 "$work/e.txt" | median)
n_rps=$(cut -d' ' -f1 "$work/n.txt" | median)
h_rps=$(cut -d' ' -f1 "$work/h.txt" | median)
p50=$(cut -d' ' -f2 "$work/e.txt" | median)
p99=$(cut -d' ' -f3 "$work/e.txt" | median)
# wrk's count plus the one check above: every redirect must be a click in the log. wrk may stop
# with responses in flight that it does not count, so the log holds at least that many.
sent=$(awk '{ s += $4 } END { print s + 1 }' "$work/e.txt")

# Every click in the log: read the campaign's activity stream and count the clicks the events
# carry (after the recorder's last flush, which is a few ms).
count_clicks() {
  python3 - "$api" "$campaign" <<'PY'
import json, sys, urllib.error, urllib.request
import os
api, campaign = sys.argv[1], sys.argv[2]
auth = {"Authorization": "Bearer " + os.environ["EVENTCRM_BOOTSTRAP_ADMIN_KEY"]}
total, events, version = 0, 0, 0
while True:
    try:
        req = urllib.request.Request(
            f"{api}/v1/streams/campaign_activity-{campaign}?from={version}&limit=500", headers=auth)
        with urllib.request.urlopen(req) as r:
            page = json.load(r)["items"]
    except urllib.error.HTTPError:
        page = []  # no click recorded yet: the stream does not exist
    if not page:
        break
    for e in page:
        total += len(e["data"].get("clicks", []))
        events += 1
    version = page[-1]["streamversion"] + 1
print(total, events)
PY
}
logged=0
for _ in $(seq 50); do
  read -r logged events < <(count_clicks)
  [ "$logged" -ge "$sent" ] && break
  sleep 0.1
done
[ "$logged" -ge "$sent" ] || bench_die "only $logged of $sent clicks are in the log"
ratio=$(awk -v a="$e_rps" -v b="$n_rps" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
if [ "$JSON" = 1 ]; then
  printf '{"eventcrm_rps":%.0f,"nginx_rps":%.0f,"healthz_rps":%.0f,"ratio_vs_nginx":%s,"p50_ms":%.3f,"p99_ms":%.3f,"clicks_sent":%d,"clicks_in_log":%d,"click_events":%d,"rounds":%d,"duration_s":%d,"connections":%d}\n' \
    "$e_rps" "$n_rps" "$h_rps" "$ratio" "$p50" "$p99" "$sent" "$logged" "$events" "$ROUNDS" "$DURATION" "$CONNECTIONS"
else
  echo "clicks: $sent redirected, $logged in the log in $events events"
  echo "median: eventcrm $e_rps req/s (p50 $p50 ms, p99 $p99 ms), nginx $n_rps req/s; ratio $ratio (target >= 0.7: $(bench_meets "$ratio" 0.7))"
  echo "HTTP layer alone (GET /healthz): $h_rps req/s; clicks reach $(bench_ratio "$e_rps" "$h_rps") of it"
fi

#!/usr/bin/env bash
# Stock issues through HTTP beside the activity-logging command, on one durable `eventcrm serve`
# started here (fsync on, all read models running): `eventcrm bench stock` runs, per round, 64
# connections logging activities, then issuing one unit of a random product out of 2,000
# (spread), then out of 4 (hot), and prints medians, the conflict-retry rates and the ratios
# against activity logging (target: spread >= 0.8).
#
#   tools/bench/stock.sh [--rounds N] [--seconds S] [--eventcrm PATH] [--json]
set -euo pipefail

rounds=3
seconds=8
json=0
eventcrm="${EVENTCRM:-}"
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --eventcrm) eventcrm="$2"; shift 2 ;;
    --json) json=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "stock.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$repo/tools/bench/lib.sh"
[[ -n "$eventcrm" ]] || eventcrm="$repo/build/bin/eventcrm"
[[ -x "$eventcrm" ]] || bench_die "no eventcrm executable at $eventcrm (build it, or pass --eventcrm PATH)"

work="$(mktemp -d "${TMPDIR:-/tmp}/eventcrm-stock.XXXXXX")"
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A throwaway administrator key for this server only; the per-principal rate limit is off so the
# benchmark measures the write path, not the limiter.
key="eck_benchstk_$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
EVENTCRM_BOOTSTRAP_ADMIN_KEY="$key" "$eventcrm" serve --port 0 --data-dir "$work/data" \
  --log-level warn --no-access-log --rate-limit-principal 0 --rate-limit-address 0 \
  >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 150); do
  grep -q "listening on" "$work/serve.out" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || bench_die "eventcrm serve exited: $(cat "$work/serve.err")"
  sleep 0.1
done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/serve.out")
[[ -n "$port" ]] || bench_die "eventcrm did not start: $(cat "$work/serve.err")"
bench_log "eventcrm on 127.0.0.1:$port (load average $(cut -d' ' -f1 /proc/loadavg))"
args=(bench stock --port "$port" --api-key "$key" --rounds "$rounds" --seconds "$seconds")
[[ $json -eq 1 ]] && args+=(--json)
"$eventcrm" "${args[@]}"
bench_log "load average at the end $(cut -d' ' -f1 /proc/loadavg)"

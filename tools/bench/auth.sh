#!/usr/bin/env bash
# What authentication costs on the durable write path: `eventcrm bench http-write` (64 keep-alive
# connections logging activities through POST /v1/activities) against two real servers started
# the same way in the same run, one requiring an API key on every request (the default) and one
# with --no-auth, rounds alternating between them. Prints the medians and the ratio
# (auth on / auth off; target >= 0.9).
#
#   tools/bench/auth.sh [--rounds N] [--seconds S] [--accounts N] [--eventcrm PATH] [--json]
set -euo pipefail
rounds=3
seconds=8
connections=64
accounts=2000
json=0
eventcrm="${EVENTCRM:-}"
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) rounds="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --accounts) accounts="$2"; shift 2 ;;
    --eventcrm) eventcrm="$2"; shift 2 ;;
    --json) json=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "auth.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=tools/bench/lib.sh
source "$repo/tools/bench/lib.sh"
eventcrm="${eventcrm:-$repo/build/bin/eventcrm}"
[[ -x "$eventcrm" ]] || bench_die "$eventcrm not found (build first or pass --eventcrm)"

work="$(mktemp -d "${TMPDIR:-/tmp}/eventcrm-auth.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
key="eck_benchkey_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"

start() {  # start <name> [serve flags...] → prints the port
  local name="$1"
  shift
  EVENTCRM_BOOTSTRAP_ADMIN_KEY="$key" "$eventcrm" serve --port 0 --data-dir "$work/$name" \
    --log-level warn --no-access-log "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 150); do
    grep -q "listening on" "$work/$name.out" 2>/dev/null && break
    sleep 0.1
  done
  sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/$name.out"
}
# The 64 connections share one key: one principal's rate limit (10,000 requests/s by default)
# would cap the auth-on server alone. The limiter's checks still run on every request; its cap
# is set above what the machine reaches.
port_on="$(start on --rate-limit-principal 1000000 --rate-burst-principal 1000000)"
port_off="$(start off --no-auth)"
[[ -n "$port_on" && -n "$port_off" ]] || bench_die "servers did not start: $(cat "$work"/*.err)"
# The "off" server must really be open, the "on" one really closed without the key.
[[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port_on/v1/accounts")" == 401 ]] ||
  bench_die "the auth-on server answers without credentials"
[[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port_off/v1/accounts")" == 200 ]] ||
  bench_die "the auth-off server wants credentials"

bench_log "auth on :$port_on, auth off :$port_off; creating $accounts accounts in each"
"$eventcrm" bench http-write --port "$port_on" --api-key "$key" --accounts "$accounts" \
  --seconds 1 --ids-file "$work/ids-on" --json >/dev/null || bench_die "warm-up (on) failed"
"$eventcrm" bench http-write --port "$port_off" --api-key "" --accounts "$accounts" \
  --seconds 1 --ids-file "$work/ids-off" --json >/dev/null || bench_die "warm-up (off) failed"

run() {  # run <port> <key> <ids> → requests/s
  local line
  line="$(EVENTCRM_API_KEY="" EVENTCRM_BOOTSTRAP_ADMIN_KEY="" "$eventcrm" bench http-write \
    --port "$1" --api-key "$2" --connections "$connections" --seconds "$seconds" \
    --ids-file "$3" --json)" || bench_die "http-write failed: $line"
  bench_log "  $line"
  sed -n 's/.*"requests_per_sec":\([0-9.]*\).*/\1/p' <<<"$line"
}
on=() off=()
for ((r = 1; r <= rounds; r++)); do
  # Alternate which goes first, so a drift in the machine's load favours neither.
  if ((r % 2)); then
    on+=("$(run "$port_on" "$key" "$work/ids-on")")
    off+=("$(run "$port_off" "" "$work/ids-off")")
  else
    off+=("$(run "$port_off" "" "$work/ids-off")")
    on+=("$(run "$port_on" "$key" "$work/ids-on")")
  fi
  bench_log "round $r: auth on ${on[-1]}/s, auth off ${off[-1]}/s"
done
m_on="$(bench_median "${on[@]}")"
m_off="$(bench_median "${off[@]}")"
ratio="$(bench_ratio "$m_on" "$m_off")"
if ((json)); then
  printf '{"auth_on_per_sec":%s,"auth_off_per_sec":%s,"ratio":%s,"target":0.9,"meets":"%s"}\n' \
    "$m_on" "$m_off" "$ratio" "$(bench_meets "$ratio" 0.9)"
else
  echo "POST /v1/activities, $connections connections, durable: auth on $m_on/s, auth off $m_off/s"
  echo "ratio $ratio (target >= 0.9: $(bench_meets "$ratio" 0.9))"
fi

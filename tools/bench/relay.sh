#!/usr/bin/env bash
# Kafka relay benchmark (#7), in one run on this machine:
#  1. throughput: `eventcrm bench relay` — events from the log to acknowledged by a 3-broker
#     mock cluster, beside a raw librdkafka producer loop with identical records (the anchor);
#  2. end-to-end latency through the real binaries: `eventcrm dev-broker` (3 brokers) and
#     `eventcrm serve --kafka-brokers` (durable, every read model running); `eventcrm bench
#     relay-latency` creates accounts over HTTP at a fixed rate and times each 201 to the receipt
#     of its record (matched by ce_position) by a Kafka consumer.
# Usage: tools/bench/relay.sh [--json] [--rounds N] [--rate R] [--seconds S] [--bin path]
set -euo pipefail
cd "$(dirname "$0")/../.."

JSON=0
ROUNDS=3
RATE=5000
SECONDS_=5
BIN="${EVENTCRM_BIN:-build/bin/eventcrm}"
while [ $# -gt 0 ]; do
  case "$1" in
    --json) JSON=1 ;;
    --rounds) ROUNDS="$2"; shift ;;
    --rate) RATE="$2"; shift ;;
    --seconds) SECONDS_="$2"; shift ;;
    --bin) BIN="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$BIN" ] || { echo "relay.sh: $BIN not found (build first or pass --bin)" >&2; exit 1; }
. tools/bench/lib.sh
export EVENTCRM_BOOTSTRAP_ADMIN_KEY="eck_scripts1_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
log() { [ "$JSON" = 1 ] || echo "$@"; }
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

log "1/2 relay throughput vs a raw producer ($ROUNDS rounds)"
"$BIN" bench relay --rounds "$ROUNDS" --latency-seconds 1 --json >"$work/throughput.json"

log "2/2 HTTP 201 -> Kafka consumer at $RATE commands/s, $ROUNDS rounds of ${SECONDS_}s"
"$BIN" dev-broker --brokers 3 --partitions 6 >"$work/broker.out" 2>"$work/broker.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
boot=$(head -1 "$work/broker.out")
[[ "$boot" == 127.0.0.1:* ]] || bench_die "dev-broker did not start: $(cat "$work/broker.err")"
"$BIN" serve --address 127.0.0.1 --port 0 --data-dir "$work/data" --kafka-brokers "$boot" \
  --durability sync --rate-limit-address 0 --no-access-log --log-level warn \
  >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
for _ in $(seq 100); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/serve.out")
[ -n "$port" ] || bench_die "eventcrm did not start: $(cat "$work/serve.err")"
p50s=() p99s=() rates=()
for r in $(seq "$ROUNDS"); do
  line=$("$BIN" bench relay-latency --port "$port" --bootstrap "$boot" --rate "$RATE" \
    --seconds "$SECONDS_" --json) || bench_die "round $r: not every record arrived: $line"
  read -r a p50 p99 < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["achieved_rate"], d["p50_ms"], d["p99_ms"])' "$line")
  log "  round $r: achieved $a/s, p50 $p50 ms, p99 $p99 ms"
  rates+=("$a") p50s+=("$p50") p99s+=("$p99")
done
read -r relay raw ratio < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["relay_events_per_sec"], d["raw_producer_per_sec"], d["ratio_vs_raw"])' "$work/throughput.json")
p50=$(bench_median "${p50s[@]}") p99=$(bench_median "${p99s[@]}") rate=$(bench_median "${rates[@]}")
if [ "$JSON" = 1 ]; then
  printf '{"relay_events_per_sec":%s,"raw_producer_per_sec":%s,"ratio_vs_raw":%s,"http_rate":%s,"http_achieved_rate":%s,"e2e_p50_ms":%s,"e2e_p99_ms":%s}\n' \
    "$relay" "$raw" "$ratio" "$RATE" "$rate" "$p50" "$p99"
else
  printf '%-44s %12s\n' "relay, log -> acknowledged (events/s)" "$relay"
  printf '%-44s %12s\n' "raw librdkafka producer (msgs/s)" "$raw"
  printf '%-44s %12s   target >= 0.7: %s\n' "ratio" "$ratio" "$(bench_meets "$ratio" 0.7)"
  printf '%-44s %12s\n' "HTTP commands/s asked / achieved" "$RATE / $rate"
  printf '%-44s %12s   target p99 < 50 ms\n' "201 -> consumer p50 / p99 (ms, median)" "$p50 / $p99"
fi

#!/usr/bin/env bash
# Campaign responses from Kafka end to end through the real binaries: `eventcrm dev-broker` +
# `eventcrm serve --kafka-brokers … --kafka-inbound`. Messages produced by kcat to
# crm.inbound.campaign-responses become campaign responses (the same append as POST
# /v1/campaigns/{id}/responses), once per response id (the message's `id`, else its message id):
# a second run of the same messages changes nothing — neither the log nor the ROI report. A
# response naming an unknown contact lands in the dead-letter topic.
# Usage: kafka_campaign_responses_e2e.sh <eventcrm binary>
set -euo pipefail
# Every request below carries the server's first administrator key (README, "Authentication").
export EVENTCRM_BOOTSTRAP_ADMIN_KEY="eck_scripts1_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
curl() { command curl -H "Authorization: Bearer $EVENTCRM_BOOTSTRAP_ADMIN_KEY" "$@"; }
BIN="$1"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
TOPIC=crm.inbound.campaign-responses

"$BIN" dev-broker --brokers 1 --partitions 2 >"$work/broker.out" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
BOOT=$(head -1 "$work/broker.out")
[[ "$BOOT" == 127.0.0.1:* ]] || fail "no bootstrap address"

"$BIN" serve --address 127.0.0.1 --port 0 --data-dir "$work/data" --kafka-brokers "$BOOT" \
  --kafka-inbound --no-access-log --log-level warn >"$work/serve.out" 2>"$work/serve.err" &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$work/serve.out" && break; sleep 0.1; done
ADDR=$(grep -o '127.0.0.1:[0-9]*' "$work/serve.out" | head -1)
[ -n "$ADDR" ] || fail "server did not start: $(cat "$work/serve.err")"

post() {
  curl -sf -X POST "http://$ADDR$1" -H 'Content-Type: application/json' -d "$2" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}
account=$(post /v1/accounts '{"name":"Responders Co"}')
contacts=()
for i in 1 2 3; do
  contacts+=("$(post /v1/contacts "{\"account_id\":\"$account\",\"last_name\":\"R$i\"}")")
done
campaign=$(post /v1/campaigns '{"name":"Kafka mailing","channel":"email"}')

# 12 responses: 6 with their own id, 6 keyed by the message id; one produced twice; one bad.
produce_all() {
  for i in $(seq 1 6); do
    c=${contacts[$((i % 3))]}
    echo "{\"campaign_id\":\"$campaign\",\"id\":\"esp-$i\",\"kind\":\"opened\",\"contact_id\":\"$c\",\"time\":\"2026-02-01T10:00:00Z\"}" |
      kcat -P -b "$BOOT" -t "$TOPIC" -H "message_id=open-$i" 2>/dev/null
  done
  for i in $(seq 1 6); do
    c=${contacts[$((i % 3))]}
    kind=clicked
    [ "$i" = 6 ] && kind=unsubscribed
    echo "{\"campaign_id\":\"$campaign\",\"kind\":\"$kind\",\"contact_id\":\"$c\"}" |
      kcat -P -b "$BOOT" -t "$TOPIC" -H "message_id=click-$i" 2>/dev/null
  done
}
produce_all
echo "{\"campaign_id\":\"$campaign\",\"id\":\"esp-1\",\"kind\":\"opened\",\"contact_id\":\"${contacts[1]}\",\"time\":\"2026-02-01T10:00:00Z\"}" |
  kcat -P -b "$BOOT" -t "$TOPIC" -H "message_id=open-1-again" 2>/dev/null
echo "{\"campaign_id\":\"$campaign\",\"kind\":\"opened\",\"contact_id\":\"no-such-contact\"}" |
  kcat -P -b "$BOOT" -t "$TOPIC" -H "message_id=bad-1" 2>/dev/null

figures() {
  curl -sf "http://$ADDR/v1/reports/campaign-roi?campaign=$campaign" | python3 -c '
import json, sys
r = json.load(sys.stdin)["items"][0]["responses"]
print(r["opened"], r["clicked"], r["unsubscribed"])'
}
in_log() {
  curl -sf "http://$ADDR/v1/streams/campaign_activity-$campaign?limit=1000" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))' 2>/dev/null || echo 0
}
for _ in $(seq 300); do
  [ "$(figures 2>/dev/null || true)" = "6 5 1" ] && break
  sleep 0.1
done
sleep 1  # a duplicate would have been written by now
[ "$(figures)" = "6 5 1" ] || fail "expected 6 opened, 5 clicked, 1 unsubscribed; got $(figures)"
[ "$(in_log)" = 12 ] || fail "expected 12 response events, found $(in_log)"

# The second run of the same messages: nothing changes.
head_before=$(curl -sf "http://$ADDR/v1/events?limit=1" -o /dev/null -w '%{http_code}')
produce_all
sleep 3
[ "$(figures)" = "6 5 1" ] || fail "the second run changed the report: $(figures)"
[ "$(in_log)" = 12 ] || fail "the second run wrote events: $(in_log)"
[ "$head_before" = 200 ] || fail "event log not readable"

# The bad one is dead-lettered with its reason.
timeout 30 kcat -C -b "$BOOT" -t "$TOPIC.dlq" -o beginning -e -q -f '%h\n' \
  >"$work/dlq.out" 2>/dev/null || true
grep -q "no such contact" "$work/dlq.out" || fail "no dead letter for the unknown contact: $(cat "$work/dlq.out")"
[ "$(grep -c . "$work/dlq.out")" = 1 ] || fail "expected 1 dead letter: $(cat "$work/dlq.out")"
echo "campaign responses e2e: 12 responses from 26 deliveries, second run idempotent, 1 dead letter: OK"

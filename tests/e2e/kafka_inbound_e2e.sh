#!/usr/bin/env bash
# Inbound topics end to end through the real binaries: `eventcrm dev-broker` + `eventcrm serve
# --kafka-brokers … --kafka-inbound`. Messages produced by kcat (a client we did not write) to
# crm.inbound.leads and crm.inbound.interactions become leads and activities — the same commands
# the HTTP API runs — exactly once per message id even when a message is delivered twice;
# malformed messages land in <topic>.dlq with headers saying why, and the consumer moves on.
# Usage: kafka_inbound_e2e.sh <eventcrm binary>
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

account=$(curl -sf -X POST "http://$ADDR/v1/accounts" -H 'Content-Type: application/json' \
  -d '{"name":"Inbound Co"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# Leads: 20 valid messages (each with its own message_id), the first one produced twice, and
# two malformed ones. kcat -H adds headers; -K| splits key and value.
{
  for i in $(seq 1 20); do
    echo "lead-$i|{\"company\":\"Partner Lead $i\",\"first_name\":\"An\",\"last_name\":\"Nguyen $i\",\"email\":\"lead$i@partner.example\"}"
  done
} >"$work/leads.txt"
while IFS= read -r line; do
  key=${line%%|*}
  printf '%s\n' "$line" | kcat -P -b "$BOOT" -t crm.inbound.leads -K'|' -H "message_id=msg-$key" 2>/dev/null
done <"$work/leads.txt"
head -1 "$work/leads.txt" | kcat -P -b "$BOOT" -t crm.inbound.leads -K'|' -H "message_id=msg-lead-1" 2>/dev/null
echo 'bad-1|{"company":' | kcat -P -b "$BOOT" -t crm.inbound.leads -K'|' -H "message_id=msg-bad-1" 2>/dev/null
echo 'bad-2|{"first_name":"No","last_name":"Company"}' |
  kcat -P -b "$BOOT" -t crm.inbound.leads -K'|' -H "message_id=msg-bad-2" 2>/dev/null

# Interactions: 5 calls against the account, one against an account that does not exist.
for i in $(seq 1 5); do
  echo "{\"kind\":\"call\",\"account_id\":\"$account\",\"subject\":\"Call $i from the call center\",\"duration_minutes\":$i}" |
    kcat -P -b "$BOOT" -t crm.inbound.interactions -H "message_id=call-$i" 2>/dev/null
done
echo '{"kind":"call","account_id":"no-such-account","subject":"Lost call"}' |
  kcat -P -b "$BOOT" -t crm.inbound.interactions -H "message_id=call-bad" 2>/dev/null

count_type() {
  curl -sf "http://$ADDR/v1/events?type=$1&limit=1000" |
    python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))'
}
for _ in $(seq 200); do
  leads=$(count_type lead.created.v1)
  calls=$(count_type activity.logged.v1)
  [ "$leads" -ge 20 ] && [ "$calls" -ge 5 ] && break
  sleep 0.1
done
sleep 1  # any duplicate would have been written by now
leads=$(count_type lead.created.v1)
calls=$(count_type activity.logged.v1)
[ "$leads" = 20 ] || fail "expected 20 leads (one per message id), found $leads"
[ "$calls" = 5 ] || fail "expected 5 activities, found $calls"
curl -sf "http://$ADDR/v1/events?type=lead.created.v1&limit=1000" | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
companies = sorted(e["data"]["company"] for e in items)
assert len(set(companies)) == 20, companies
assert all(e["actor"] == "kafka:crm.inbound.leads" for e in items), items[0]
'

# The dead-letter topics hold the malformed messages with the reason and their origin.
timeout 30 kcat -C -b "$BOOT" -t crm.inbound.leads.dlq -o beginning -e -q -f '%k|%h\n' \
  >"$work/dlq.out" 2>/dev/null || true
timeout 30 kcat -C -b "$BOOT" -t crm.inbound.interactions.dlq -o beginning -e -q -f '%h\n' \
  >>"$work/dlq.out" 2>/dev/null || true
python3 - "$work/dlq.out" <<'PY'
import sys
lines = [l for l in open(sys.argv[1]).read().split("\n") if l]
assert len(lines) == 3, f"expected 3 dead letters, got {len(lines)}: {lines}"
joined = "\n".join(lines)
for needle in ("dlq_error=", "dlq_source_topic=crm.inbound.leads", "dlq_source_offset=",
               "dlq_source_topic=crm.inbound.interactions", "no-such-account", "company: missing"):
    assert needle in joined, f"{needle} not in dead letters:\n{joined}"
print("dead letters:", len(lines))
PY
echo "inbound e2e: 20 leads from 21 deliveries, 5 activities, 3 dead letters: OK"

#!/usr/bin/env bash
# End to end through the real binaries: `eventcrm dev-broker` + `eventcrm serve --kafka-brokers`.
# N appends over HTTP → exactly N distinct events read by kcat and by Python's confluent-kafka
# (per-key order, CloudEvents headers); the server is killed with SIGKILL mid-relay and
# restarted: still no event missing downstream. Also checks the customer history, the
# projections' status and the hash-chain endpoint on the same server.
# Usage: kafka_relay_e2e.sh <eventcrm binary>
set -euo pipefail
# Every request below carries the server's first administrator key (README, "Authentication").
export EVENTCRM_BOOTSTRAP_ADMIN_KEY="eck_scripts1_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
curl() { command curl -H "Authorization: Bearer $EVENTCRM_BOOTSTRAP_ADMIN_KEY" "$@"; }
BIN="$1"
N="${E2E_EVENTS:-400}"
# The log also holds the first administrator and their key, written on the first start.
BOOT_EVENTS=2
TOTAL=$((N + BOOT_EVENTS))
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$BIN" dev-broker --brokers 3 --partitions 4 >"$work/broker.out" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
BOOT=$(head -1 "$work/broker.out")
[[ "$BOOT" == 127.0.0.1:* ]] || fail "no bootstrap address"

start_server() {
  : >"$work/serve.out"
  "$BIN" serve --address 127.0.0.1 --port 0 --data-dir "$work/data" --kafka-brokers "$BOOT" \
    --no-access-log --log-level warn >"$work/serve.out" 2>>"$work/serve.err" &
  SERVER=$!
  pids+=("$SERVER")
  for _ in $(seq 100); do grep -q listening "$work/serve.out" && break; sleep 0.1; done
  ADDR=$(grep -o '127.0.0.1:[0-9]*' "$work/serve.out" | head -1)
  [ -n "$ADDR" ] || fail "server did not start: $(cat "$work/serve.err")"
}

append() {  # append <stream> <json data>
  curl -sf -X POST "http://$ADDR/v1/streams/$1" -H 'Content-Type: application/json' \
    -d "{\"events\":[{\"type\":\"note.taken.v1\",\"data\":$2}]}" >/dev/null
}

start_server
append note-acme '{"account_id":"acme","i":1}'
half=$((N / 2))
for i in $(seq 2 "$half"); do append "note-c$((i % 10))" "{\"account_id\":\"acme\",\"i\":$i}"; done

# SIGKILL while the relay may still have deliveries in flight, then restart on the same data.
kill -9 "$SERVER"
wait "$SERVER" 2>/dev/null || true
start_server
for i in $(seq $((half + 1)) "$N"); do append "note-c$((i % 10))" "{\"account_id\":\"acme\",\"i\":$i}"; done

# Wait (bounded) for the relay to have everything acknowledged.
for _ in $(seq 300); do
  lag=$(curl -sf "http://$ADDR/readyz" | python3 -c 'import json,sys; print(json.load(sys.stdin)["relay"]["lag_events"])' || echo x)
  [ "$lag" = 0 ] && break
  sleep 0.1
done
[ "$lag" = 0 ] || fail "relay lag is $lag after 30 s"

# kcat: exactly TOTAL distinct ce_id, every position 1..TOTAL.
timeout 60 kcat -C -b "$BOOT" -t crm.events -o beginning -e -q -f '%k|%h\n' >"$work/kcat.out" 2>/dev/null
python3 - "$work/kcat.out" "$TOTAL" <<'PY'
import sys
lines = [l for l in open(sys.argv[1]).read().split("\n") if l]
n = int(sys.argv[2])
ids, positions = set(), set()
for l in lines:
    key, hdrs = l.split("|", 1)
    h = dict(kv.split("=", 1) for kv in hdrs.split(","))
    for name in ("ce_specversion", "ce_id", "ce_type", "ce_source", "ce_subject", "ce_time", "ce_position"):
        assert name in h, f"missing header {name}"
    assert h["ce_subject"] == key
    ids.add(h["ce_id"]); positions.add(int(h["ce_position"]))
assert len(ids) == n, f"kcat saw {len(ids)} distinct events, expected {n}"
assert positions == set(range(1, n + 1)), "positions missing downstream"
print(f"kcat: {len(lines)} records, {len(ids)} distinct events ({len(lines) - len(ids)} duplicates by ce_id)")
PY

# Python confluent-kafka consumer group: same count, per-key order by stream version.
timeout 120 /usr/bin/python3 - "$BOOT" "$TOTAL" <<'PY'
import sys, time
from confluent_kafka import Consumer
boot, n = sys.argv[1], int(sys.argv[2])
c = Consumer({"bootstrap.servers": boot, "group.id": "e2e", "auto.offset.reset": "earliest",
              "session.timeout.ms": 6000, "log_level": 3})
c.subscribe(["crm.events"])
seen, last = set(), {}
deadline = time.time() + 90
while len(seen) < n and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    h = {k: v.decode() for k, v in (m.headers() or [])}
    if h["ce_id"] in seen:
        continue
    seen.add(h["ce_id"])
    v = int(h["ce_streamversion"])
    k = m.key().decode()
    assert last.get(k, -1) + 1 == v, f"{k}: version {v} after {last.get(k)}"
    last[k] = v
c.close()
assert len(seen) == n, f"python saw {len(seen)} of {n}"
print(f"python confluent-kafka: {n} distinct events in per-key order")
PY

# The read side on the same server.
hist=$(curl -sf "http://$ADDR/v1/customers/acme/history?limit=1000&min_position=$TOTAL")
python3 - "$hist" "$N" "$BOOT_EVENTS" <<'PY'
import json, sys
d = json.loads(sys.argv[1]); n = int(sys.argv[2]); b = int(sys.argv[3])
assert len(d["items"]) == n, f"history has {len(d['items'])} items, expected {n}"
assert [i["position"] for i in d["items"]] == list(range(b + 1, b + n + 1))
print(f"history: {n} events for the customer, in log order")
PY
curl -sf "http://$ADDR/v1/audit/verify" | grep -q "\"ok\":true,\"checked\":$TOTAL" || fail "verify"
curl -sf "http://$ADDR/v1/projections" | grep -q '"state":"caught_up"' || fail "projections"
echo "e2e: $N events relayed across a SIGKILL, none missing"

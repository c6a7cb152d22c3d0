#!/usr/bin/env bash
# The dev broker speaks real Kafka: kcat and Python's confluent-kafka (clients we did not
# write) produce, consume and commit group offsets against `eventcrm dev-broker`.
# Usage: third_party_clients.sh <eventcrm binary>
set -euo pipefail
BIN="$1"
work=$(mktemp -d)
cleanup() {
  [ -n "${BROKER_PID:-}" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"$BIN" dev-broker --brokers 3 --partitions 4 >"$work/broker.out" 2>"$work/broker.err" &
BROKER_PID=$!
for _ in $(seq 100); do [ -s "$work/broker.out" ] && break; sleep 0.1; done
BOOTSTRAP=$(head -1 "$work/broker.out")
case "$BOOTSTRAP" in 127.0.0.1:*) ;; *) echo "no bootstrap address from dev-broker"; exit 1 ;; esac

# kcat produces 20 keyed messages and reads them back.
for i in $(seq 1 20); do echo "k$((i % 3)):kcat-$i"; done |
  timeout 30 kcat -P -b "$BOOTSTRAP" -t crm.events -K: 2>"$work/kcat.err"
timeout 30 kcat -C -b "$BOOTSTRAP" -t crm.events -o beginning -e -q -f '%k %s\n' >"$work/kcat.out" 2>>"$work/kcat.err"
n=$(grep -c 'kcat-' "$work/kcat.out" || true)
[ "$n" = 20 ] || { echo "kcat read $n of 20 messages"; cat "$work/kcat.err"; exit 1; }

# Python confluent-kafka: consumes kcat's messages in a group, commits, and reads the offsets back.
timeout 90 /usr/bin/python3 - "$BOOTSTRAP" <<'PY'
import sys, time
from confluent_kafka import Consumer, TopicPartition
b = sys.argv[1]
c = Consumer({"bootstrap.servers": b, "group.id": "ci-check", "auto.offset.reset": "earliest",
              "enable.auto.commit": False, "log_level": 3})
c.subscribe(["crm.events"])
got, per_key, deadline = [], {}, time.time() + 60
while len(got) < 20 and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    got.append(m)
    per_key.setdefault(m.key(), []).append(int(m.value().split(b"-")[1]))
    c.commit(message=m, asynchronous=False)
assert len(got) == 20, f"python consumed {len(got)} of 20"
for k, seq in per_key.items():
    assert seq == sorted(seq), f"key {k} out of order: {seq}"
committed = c.committed([TopicPartition("crm.events", p) for p in range(4)], timeout=20)
total = sum(tp.offset for tp in committed if tp.offset >= 0)
assert total == 20, f"committed offsets sum to {total}, expected 20"
c.close()
print("python confluent-kafka: consumed 20 in per-key order, committed offsets sum to 20")
PY
echo "kcat: produced and consumed 20 messages"

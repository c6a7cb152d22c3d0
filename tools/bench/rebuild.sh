#!/usr/bin/env bash
# Read-model rebuild throughput on this machine: `eventcrm bench rebuild` generates N CRM-like
# events, rebuilds every read model from position 0 (--rounds times, median), and in the same
# run has RocksDB's db_bench read N records of the same size sequentially (fillseq, then readseq
# --rounds times): the anchor.
#
#   tools/bench/rebuild.sh [--events N] [--rounds R] [--eventcrm PATH] [--work-dir DIR] [--json]
#
# Prints events/s of the rebuild, readseq ops/s, their ratio (target >= 0.5) and the rebuild's
# peak RSS. --json prints one line: events_per_sec, readseq_per_sec, ratio_vs_readseq,
# peak_rss_mb (and the inputs and each round). Needs db_bench (Debian: rocksdb-tools).
set -euo pipefail

events=5000000
rounds=3
json=0
eventcrm="${EVENTCRM:-}"
work_parent="${TMPDIR:-/tmp}"

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --events) events="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --eventcrm) eventcrm="$2"; shift 2 ;;
    --work-dir) work_parent="$2"; shift 2 ;;
    --json) json=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "rebuild.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

die() { echo "rebuild.sh: $*" >&2; exit 1; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [[ -z "$eventcrm" ]]; then
  for candidate in "$repo"/build/bin/eventcrm "$repo"/build-*/bin/eventcrm; do
    if [[ -x "$candidate" ]]; then eventcrm="$candidate"; break; fi
  done
fi
[[ -z "$eventcrm" ]] && eventcrm="$(command -v eventcrm || true)"
[[ -x "$eventcrm" ]] || die "no eventcrm executable (build it, or pass --eventcrm PATH)"
command -v db_bench >/dev/null || die "db_bench not found (apt-get install rocksdb-tools)"

work="$(mktemp -d "$work_parent/eventcrm-rebuild-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

args=(bench rebuild --events "$events" --rounds "$rounds" --data-dir "$work/eventcrm")
[[ $json -eq 1 ]] && args+=(--json)
"$eventcrm" "${args[@]}"

#!/usr/bin/env bash
# The benchmarks' CPU accounting (tools/bench/lib.sh): a server's CPU is its whole process tree's,
# children it has reaped included, and a client's is what this shell's reaped children took.
# A "server" whose child burns CPU for a second, and a "client" that burns for a moment, are
# measured with bench_measured; each must show a plausible share of what it burnt.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
. "$repo/tools/bench/lib.sh"
work="$(mktemp -d)"
server=""
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The server: waits for the go file, burns a second in a child it then reaps, then idles.
bash -c "for _ in \$(seq 200); do [[ -e '$work/go' ]] && break; sleep 0.05; done
  timeout 1 sha256sum /dev/zero >/dev/null || true
  exec sleep 60" &
server=$!
bench_measured "$server" bash -c "touch '$work/go'; timeout 0.3 sha256sum /dev/zero >/dev/null || true; echo done"

fail() { echo "bench_cpu_accounting: $*" >&2; exit 1; }
[[ "$bench_out" == done ]] || fail "the client's output was not kept: '$bench_out'"
in_range() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }
in_range "$bench_server_s" 0.2 3 || fail "server CPU $bench_server_s s, expected ~1 s"
in_range "$bench_client_s" 0.05 2 || fail "client CPU $bench_client_s s, expected ~0.3 s"
[[ "$(bench_cpu_us 1.5 100000)" == 15.0 ]] || fail "bench_cpu_us 1.5 s over 100,000 operations"
[[ "$(bench_cpu_us 1 0)" == null ]] || fail "bench_cpu_us with no operations"
[[ "$(bench_budget_us $(( $(nproc) * 100000 )))" == 10.0 ]] || fail "bench_budget_us"
echo "server ${bench_server_s} s, client ${bench_client_s} s: ok"

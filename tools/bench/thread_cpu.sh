#!/usr/bin/env bash
# Where a process's CPU goes, thread by thread: samples /proc/<pid>/task/*/schedstat twice and
# prints, per thread name (threads of one name summed), the share of one core each spent
# running and waiting in the run queue (runnable, but no core free) between the two samples.
# Run-queue wait well above zero on most threads means the machine's cores are the limit; a
# thread near 100% running is a limit of its own. Reads /proc only; starts nothing but the
# command it is given.
#
#   tools/bench/thread_cpu.sh [--after S] [--for S] --pid PID
#   tools/bench/thread_cpu.sh [--after S] [--for S] -- COMMAND [ARGS...]
#
# --after: seconds to wait before the first sample (default 2), past start-up and warm-up;
# --for: seconds between the samples (default 2). With a command, the command runs to its end
# and its own output comes first. Example, the store under batches of 100:
#   tools/bench/thread_cpu.sh -- build/bin/eventcrm bench append --batch 100 --seconds 6 --json
set -euo pipefail

after=2
span=2
pid=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --after) after="$2"; shift 2 ;;
    --for) span="$2"; shift 2 ;;
    --pid) pid="$2"; shift 2 ;;
    --) shift; break ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "thread_cpu.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$after" =~ ^[0-9]+([.][0-9]+)?$ && "$span" =~ ^[0-9]+([.][0-9]+)?$ ]] ||
  { echo "thread_cpu.sh: --after and --for take seconds" >&2; exit 2; }

out=""
cmd_pid=""
if [[ -z "$pid" ]]; then
  [[ $# -gt 0 ]] || { echo "thread_cpu.sh: give --pid PID or -- COMMAND (see --help)" >&2; exit 2; }
  out="$(mktemp)"
  trap 'rm -f "$out"' EXIT
  "$@" >"$out" 2>&1 &
  cmd_pid=$!
  pid=$cmd_pid
fi
[[ -d "/proc/$pid" ]] || { echo "thread_cpu.sh: no process $pid" >&2; exit 1; }

# name run_ns wait_ns, one line per thread
sample() {
  local t name stat
  for t in /proc/"$pid"/task/*; do
    name="$(cat "$t/comm" 2>/dev/null)" || continue
    stat="$(cat "$t/schedstat" 2>/dev/null)" || continue
    printf '%s\t%s\n' "${name// /_}" "$stat"
  done
}

sleep "$after"
if [[ ! -d "/proc/$pid" ]]; then
  [[ -n "$out" ]] && cat "$out"
  echo "thread_cpu.sh: process $pid ended before the first sample (a longer run, or a smaller --after)" >&2
  exit 1
fi
t0="$(date +%s%N)"
first="$(sample)"
sleep "$span"
t1="$(date +%s%N)"
second="$(sample)"

if [[ -n "$cmd_pid" ]]; then
  status=0
  wait "$cmd_pid" || status=$?
  cat "$out"
  [[ "$status" -eq 0 ]] || { echo "thread_cpu.sh: the command exited with $status" >&2; exit "$status"; }
fi

# Threads are matched by name; one that started or ended between the samples counts from zero.
# Busiest first; threads under 0.5% both ways are left out of the rows but not of the total.
rows="$(awk -F'\t' -v ns="$((t1 - t0))" '
  NR == FNR { split($2, a, " "); run0[$1] += a[1]; wait0[$1] += a[2]; next }
  { split($2, a, " "); run1[$1] += a[1]; wait1[$1] += a[2]; n[$1]++ }
  END {
    for (k in run1) {
      r = (run1[k] - run0[k]) / ns * 100; w = (wait1[k] - wait0[k]) / ns * 100
      if (r < 0) r = 0
      if (w < 0) w = 0
      total_r += r; total_w += w
      if (r >= 0.5 || w >= 0.5) printf "%.3f\t%-18s %8d %9.1f%% %13.1f%%\n", r, k, n[k], r, w
    }
    printf "-1\t%-18s %8s %9.1f%% %13.1f%%   (%% of one core over %.1f s)\n", "all", "", total_r, total_w, ns / 1e9
  }' <(printf '%s\n' "$first") <(printf '%s\n' "$second"))"
printf '%-18s %8s %10s %14s\n' thread threads running "run-queue wait"
printf '%s\n' "$rows" | sort -t$'\t' -k1,1 -gr | cut -f2-

#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (separate build dir) and fuzzes the HTTP request path,
# then the Kafka inbound messages, each for a bounded time.
# Usage: tests/fuzz/run.sh [seconds]   (per target; default 60; env FUZZ_SECONDS too)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-${FUZZ_SECONDS:-60}}"
if ! grep -q 'add_subdirectory(fuzz)' tests/CMakeLists.txt; then
  echo "tests/fuzz/run.sh: skipped, tests/CMakeLists.txt does not add the fuzz directory yet" >&2
  exit 0
fi
dir="${FUZZ_BUILD_DIR:-build-fuzz}"
cxx="$(command -v clang++-14 || command -v clang++)"
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEVENTCRM_FUZZ=ON \
  -DCMAKE_CXX_COMPILER="$cxx" >/dev/null
cmake --build "$dir" -j"${JOBS:-2}" --target http_request_fuzz inbound_message_fuzz
export LSAN_OPTIONS="suppressions=$PWD/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
for target in http_request_fuzz:corpus inbound_message_fuzz:inbound_corpus; do
  name="${target%%:*}" corpus="${target#*:}"
  mkdir -p "$dir/tests/fuzz/$corpus"
  "$dir/bin/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    "$dir/tests/fuzz/$corpus" "tests/fuzz/$corpus"
done

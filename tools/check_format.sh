#!/usr/bin/env bash
# Fails when a C++ file of ours is not clang-formatted (`tools/check_format.sh --fix` applies it).
set -euo pipefail
cd "$(dirname "$0")/.."
# Tracked files and new ones not yet added (so a check before `git add` sees them too).
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.cpp' '*.hpp')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
else
  clang-format --dry-run --Werror "${files[@]}"
fi

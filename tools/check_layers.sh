#!/usr/bin/env bash
# Fails when an #include crosses a layer the wrong way. Dependencies point one way:
#   common <- domain, eventstore <- app, projections <- api, consumers <- tools
set -euo pipefail
cd "$(dirname "$0")/.."
declare -A allowed=(
  [common]="common"
  [domain]="common domain"
  [eventstore]="common eventstore"
  [app]="common domain eventstore app"
  [projections]="common domain eventstore app projections"
  [api]="common domain eventstore app projections api"
  [consumers]="common domain eventstore app projections consumers"
)
status=0
for layer in "${!allowed[@]}"; do
  [ -d "$layer" ] || continue
  while IFS=: read -r file line inc; do
    target=$(sed -E 's/^#include "([a-z_]+)\/.*/\1/' <<<"$inc")
    [ "$target" = "$inc" ] && continue
    [ -d "$target" ] || continue
    if ! grep -qw "$target" <<<"${allowed[$layer]}"; then
      echo "layering violation: $file:$line includes $target/ ($layer/ may use: ${allowed[$layer]})"
      status=1
    fi
  done < <(grep -rnE '^#include "[a-z_]+/' "$layer" --include='*.cpp' --include='*.hpp' |
    sed -E 's/^([^:]+):([0-9]+):(.*)$/\1:\2:\3/')
done
# Third-party types stay inside their module.
for pat in "rocksdb/:eventstore projections tests tools" "boost/:api tests" "librdkafka/:consumers tests" "simdjson:eventstore api projections consumers tests"; do
  hdr="${pat%%:*}"
  owners="${pat#*:}"
  while IFS= read -r file; do
    top="${file%%/*}"
    if ! grep -qw "$top" <<<"$owners"; then
      echo "third-party header $hdr used outside its module: $file"
      status=1
    fi
  done < <(grep -rlE "#include <$hdr" --include='*.cpp' --include='*.hpp' . 2>/dev/null | sed 's|^\./||' | grep -v '^build')
done
exit $status

#!/usr/bin/env bash
# Validates the OpenAPI document the server serves (api/openapi.json merged with the fragments in
# api/openapi/, as printed by `eventcrm serve --print-openapi`) with the Redocly linter (pinned),
# and checks that every route the router knows (`eventcrm serve --print-routes`) is described.
# Usage: tools/check_openapi.sh [path/to/eventcrm]   (default: build/bin/eventcrm, or $EVENTCRM_BIN)
set -euo pipefail
cd "$(dirname "$0")/.."
REDOCLY_VERSION=1.34.20
bin="${1:-${EVENTCRM_BIN:-build/bin/eventcrm}}"
if [ ! -x "$bin" ]; then
  echo "check_openapi: $bin not found; build first (tools/dev build) or pass the binary" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
doc="$tmp/openapi.json"
"$bin" serve --print-openapi >"$doc"

echo "==> redocly lint ($REDOCLY_VERSION)"
npx --yes "@redocly/cli@${REDOCLY_VERSION}" lint --format=stylish "$doc"

echo "==> every route is documented"
"$bin" serve --print-routes | node -e '
  const fs = require("fs");
  const doc = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  const routes = fs.readFileSync(0, "utf8").split("\n").filter(Boolean);
  let missing = 0;
  for (const r of routes) {
    const [method, path] = r.split(" ");
    const item = doc.paths[path];
    if (!item || !item[method.toLowerCase()]) {
      console.error(`undocumented route: ${r}`);
      missing++;
    }
  }
  let documented = 0;
  for (const [path, item] of Object.entries(doc.paths))
    for (const m of Object.keys(item))
      if (m !== "parameters" && !routes.includes(`${m.toUpperCase()} ${path}`)) {
        console.error(`documented but not routed: ${m.toUpperCase()} ${path}`);
        missing++;
      } else if (m !== "parameters") documented++;
  if (missing) process.exit(1);
  console.log(`${routes.length} routes, ${documented} documented operations: OK`);
' "$doc"

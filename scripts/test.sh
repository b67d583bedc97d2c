#!/usr/bin/env bash
# Full check: services, dependencies, type check, lint, tests.
# Extra arguments are passed to `vitest run` (e.g. a file filter or -t NAME).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

bash scripts/ensure-services.sh
ensure_node_modules

export DATABASE_URL_ADMIN="${DATABASE_URL_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

echo "== tsc --noEmit"
npx tsc --noEmit
echo "== eslint ."
npx eslint .
echo "== vitest run $*"
results="$(mktemp)"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# A plain closing line that CI reads: "N passed, N failed".
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`)' "$results" || true
rm -f "$results"
exit "$status"

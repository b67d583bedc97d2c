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
# Servers the tests start opt in to development features themselves (test/support/servers.ts);
# anything else started from here is a test too, never production (which an unset NODE_ENV means).
export NODE_ENV=test

ensure_console_build

echo "== tsc --noEmit"
npx tsc --noEmit
if [[ -f console/tsconfig.json ]]; then
  echo "== vue-tsc --noEmit -p console/tsconfig.json"
  npx vue-tsc --noEmit -p console/tsconfig.json
fi
echo "== eslint ."
npx eslint .
echo "== vitest run $*"
results="$(mktemp)"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# The closing line CI reads ("N passed, N failed"), and any test that passed only on its retry.
npx tsx scripts/vitest-summary.ts "$results" || true
rm -f "$results"
exit "$status"

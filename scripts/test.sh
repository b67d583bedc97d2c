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
# A plain closing line that CI reads: "N passed, N failed".
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`)' "$results" || true
# Tests that passed only when retried (CI retries once, vitest.config.ts): named, with their first failure.
node -e '
const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const flaky = r.testResults.flatMap((f) => f.assertionResults.filter((a) => a.status === "passed" && a.failureMessages.length > 0).map((a) => ({ file: f.name, a })));
for (const { file, a } of flaky) console.log(`FLAKY (passed on retry): ${file.replace(process.cwd() + "/", "")} > ${a.fullName}\n  first try: ${a.failureMessages[0].split("\n")[0]}`);
if (flaky.length > 0) console.log(`${flaky.length} test(s) passed only on retry`);
' "$results" || true
rm -f "$results"
exit "$status"

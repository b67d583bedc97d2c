#!/usr/bin/env bash
# The Redis Cluster suite: three server nodes on a local 3-master, 3-replica cluster, failovers
# and kills (vitest.cluster.config.ts). Extra arguments are passed to `vitest run`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

prepare_test_env
results="$(mktemp)"
status=0
npx vitest run --config vitest.cluster.config.ts --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
npx tsx scripts/vitest-summary.ts "$results" || true
rm -f "$results"
exit "$status"

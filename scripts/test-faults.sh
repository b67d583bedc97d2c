#!/usr/bin/env bash
# The fault suite: kills, cuts and bad input, one line per case (vitest.faults.config.ts).
# Extra arguments are passed to `vitest run` (e.g. a file filter).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

prepare_test_env
npx vitest run --config vitest.faults.config.ts "$@"

#!/usr/bin/env bash
# Start the server with demo data. Needs only Redis: without DATABASE_URL the
# server uses embedded PGlite under ./data.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

PINLIVE_SKIP_BROWSER=1 PINLIVE_SKIP_FFMPEG=1 bash scripts/ensure-services.sh
ensure_node_modules

exec env DEMO_DATA=true npx tsx src/main.ts

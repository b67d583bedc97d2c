#!/usr/bin/env bash
# Start the server with demo data, the console, a simulated audience and (with ffmpeg) a test
# pattern published to the demo room. Needs only Redis: without DATABASE_URL the server uses
# embedded PGlite under ./data. Turn parts off with DEMO_AUDIENCE=false or DEMO_PUBLISH=false;
# PINLIVE_SKIP_FFMPEG=1 skips installing ffmpeg (the room then stays "not live"). It opts in to
# development (NODE_ENV=development: the WeChat sandbox, dev tokens, any origin); an unset NODE_ENV
# is production.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

PINLIVE_SKIP_BROWSER=1 PINLIVE_SKIP_FFMPEG="${PINLIVE_SKIP_FFMPEG:-0}" bash scripts/ensure-services.sh
ensure_node_modules
ensure_console_build

exec env NODE_ENV=development DEMO_DATA=true DEMO_AUDIENCE="${DEMO_AUDIENCE:-true}" DEMO_PUBLISH="${DEMO_PUBLISH:-true}" npx tsx src/main.ts

#!/usr/bin/env bash
# npm run k6:smoke — every k6 scenario at PROFILE=smoke against a server started for the run (a fresh
# PostgreSQL database and Redis prefix, dev endpoints and the WeChat sandbox on), failing on any
# crossed threshold; everything it made is removed afterwards.
#
#   bash scripts/k6-smoke.sh [--if-available] [--which] [scenario ...]
#     --if-available  no k6 found: print one line and exit 0 (.ci/run uses this)
#     --which         print the k6 that would be used (or the "no k6" line, exit 3) and stop
#
# The k6 binary: $K6_BIN, else `k6` on PATH, else ../shared/bin/k6 next to the repository.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"

if_available=0
which_only=0
args=()
for a in "$@"; do
  case "$a" in
    --if-available) if_available=1 ;;
    --which) which_only=1 ;;
    *) args+=("$a") ;;
  esac
done

shared_k6="$(cd "$root/.." && pwd)/shared/bin/k6"
k6_bin=""
if [[ -n "${K6_BIN:-}" ]]; then
  if [[ ! -x "$K6_BIN" ]]; then
    echo "k6-smoke: K6_BIN=$K6_BIN is not an executable file" >&2
    exit 2
  fi
  k6_bin="$K6_BIN"
elif command -v k6 >/dev/null 2>&1; then
  k6_bin="$(command -v k6)"
elif [[ -x "$shared_k6" ]]; then
  k6_bin="$shared_k6"
fi

if [[ -z "$k6_bin" ]]; then
  echo "k6-smoke: no k6 binary found (K6_BIN unset, no k6 on PATH, none at $shared_k6): the k6 smoke run is skipped; install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/) or set K6_BIN"
  if ((if_available)); then exit 0; fi
  exit 3
fi
if ((which_only)); then
  echo "$k6_bin"
  exit 0
fi

# shellcheck source=scripts/lib.sh
source scripts/lib.sh
PINLIVE_SKIP_BROWSER=1 PINLIVE_SKIP_FFMPEG=1 bash scripts/ensure-services.sh
ensure_node_modules

echo "k6-smoke: $("$k6_bin" version 2>/dev/null | head -n 1) ($k6_bin)"
export K6_BIN="$k6_bin"
exec npx tsx load-tests/k6/tools/smoke.ts "${args[@]}"

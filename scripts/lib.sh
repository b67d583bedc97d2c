# shellcheck shell=bash
# Shared helpers for scripts/test.sh and scripts/demo.sh. Source it; do not run it.

# Run `npm ci` only when node_modules is missing or stale, i.e. package-lock.json
# is newer than npm's own record of the last install (node_modules/.package-lock.json).
# Keeps repeated local runs fast while a fresh clone or a changed lock file still
# gets a clean install. Must be called from the repository root.
ensure_node_modules() {
  # A link (a second checkout sharing one install) is someone else's install: never wipe it.
  [[ -L node_modules ]] && return 0
  if [[ ! -d node_modules || ! -f node_modules/.package-lock.json \
        || package-lock.json -nt node_modules/.package-lock.json ]]; then
    echo "npm ci (node_modules missing or older than package-lock.json)"
    npm ci --no-audit --no-fund
  fi
}

# Build the console (console/dist) with `npm run build:console` when it is missing or older than
# anything it is built from: its sources, its config, the shared protocol it imports, the lock file.
# Must be called from the repository root.
ensure_console_build() {
  [[ -f console/vite.config.ts ]] || return 0
  local stamp=console/dist/index.html
  local newer=""
  if [[ -f "$stamp" ]]; then
    newer="$(find console/src console/public console/index.html console/vite.config.ts console/tsconfig.json \
      src/protocol package-lock.json -newer "$stamp" -print -quit 2>/dev/null || true)"
  fi
  if [[ ! -f "$stamp" || -n "$newer" ]]; then
    echo "npm run build:console (console/dist missing or older than ${newer:-its sources})"
    npm run -s build:console
  fi
}

# What every test suite runs on: the services, dependencies, and the test environment (the
# machine's Redis and PostgreSQL unless set; NODE_ENV=test, never production, which an unset
# NODE_ENV means).
prepare_test_env() {
  bash scripts/ensure-services.sh
  ensure_node_modules
  export DATABASE_URL_ADMIN="${DATABASE_URL_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
  export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
  export NODE_ENV=test
}

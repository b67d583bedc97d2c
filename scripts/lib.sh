# shellcheck shell=bash
# Shared helpers for scripts/test.sh and scripts/demo.sh. Source it; do not run it.

# Run `npm ci` only when node_modules is missing or stale, i.e. package-lock.json
# is newer than npm's own record of the last install (node_modules/.package-lock.json).
# Keeps repeated local runs fast while a fresh clone or a changed lock file still
# gets a clean install. Must be called from the repository root.
ensure_node_modules() {
  if [[ ! -d node_modules || ! -f node_modules/.package-lock.json \
        || package-lock.json -nt node_modules/.package-lock.json ]]; then
    echo "npm ci (node_modules missing or older than package-lock.json)"
    npm ci --no-audit --no-fund
  fi
}

#!/usr/bin/env bash
# Make sure the local services and tools pinlive's tests need are installed and
# running on a Debian machine (no systemd needed):
#   - Redis       on 127.0.0.1:6379
#   - PostgreSQL  on 127.0.0.1:5432, user postgres with trust auth over TCP,
#                 database "test" present
#   - ffmpeg      (skip with PINLIVE_SKIP_FFMPEG=1)
#   - chromium    /usr/bin/chromium (skip with PINLIVE_SKIP_BROWSER=1), with a CJK font
#                 (fonts-wqy-microhei) so screenshots of Chinese pages show text
# Missing pieces are installed from Debian's packages with apt-get (as root, or
# with passwordless sudo). Idempotent and quiet when everything is already fine;
# always ends with a one-line summary. Exits non-zero, naming what is missing,
# when something cannot be installed or started.
set -euo pipefail

WAIT_SECS="${PINLIVE_SERVICE_WAIT:-30}"
PG_PORT=5432
REDIS_PORT=6379

say() { echo "ensure-services: $*"; }
fail() {
  echo "ensure-services: error: $*" >&2
  exit 1
}
truthy() { [[ "${1:-}" =~ ^(1|true|yes)$ ]]; }

skip_ffmpeg=0
skip_browser=0
truthy "${PINLIVE_SKIP_FFMPEG:-}" && skip_ffmpeg=1
truthy "${PINLIVE_SKIP_BROWSER:-}" && skip_browser=1

# --- privileges ------------------------------------------------------------
if [[ $EUID -eq 0 ]]; then
  root_via=root
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  root_via=sudo
else
  root_via=none
fi
root_hint=""
[[ $root_via == none ]] && root_hint=" (not root: run this script as root)"

# Run a command as root when we can; otherwise try it as the current user.
as_root() {
  case "$root_via" in
    root | none) "$@" ;;
    sudo) sudo -n "$@" ;;
  esac
}

# wait_for CMD...: retry CMD until it succeeds, for at most WAIT_SECS seconds.
wait_for() {
  local deadline=$((SECONDS + WAIT_SECS))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

# --- checks ----------------------------------------------------------------
redis_ok() {
  [[ "$(timeout 5 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]
}

pg_ok() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" -t 3; }

# psql as the tests connect: TCP 127.0.0.1, user postgres, no password.
pg_sql() {
  env -u PGPASSWORD PGCONNECT_TIMEOUT=5 \
    psql -X -w -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
    -c "$1" </dev/null
}
pg_auth_ok() { [[ "$(pg_sql 'select 1' 2>/dev/null)" == 1 ]]; }

have_postgres_tools() {
  local c
  for c in pg_ctlcluster pg_createcluster pg_lsclusters pg_isready psql; do
    command -v "$c" >/dev/null 2>&1 || return 1
  done
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

# --- 1. install what is missing ----------------------------------------------
pkgs=()
missing=()
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  pkgs+=(redis-server)
  missing+=("Redis (redis-server, redis-cli): Debian package redis-server")
fi
if ! have_postgres_tools; then
  pkgs+=(postgresql)
  missing+=("PostgreSQL (server, pg_ctlcluster, pg_isready, psql): Debian package postgresql")
fi
if ((!skip_ffmpeg)) && ! command -v ffmpeg >/dev/null 2>&1; then
  pkgs+=(ffmpeg)
  missing+=("ffmpeg: Debian package ffmpeg (or set PINLIVE_SKIP_FFMPEG=1 to skip)")
fi
if ((!skip_browser)) && [[ ! -x /usr/bin/chromium ]]; then
  pkgs+=(chromium)
  missing+=("Chromium (/usr/bin/chromium): Debian package chromium (or set PINLIVE_SKIP_BROWSER=1 to skip)")
fi
if ((!skip_browser)) && [[ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]]; then
  pkgs+=(fonts-wqy-microhei)
  missing+=("a CJK font for screenshots: Debian package fonts-wqy-microhei (or set PINLIVE_SKIP_BROWSER=1 to skip)")
fi

if ((${#pkgs[@]})); then
  reason=""
  if ! command -v apt-get >/dev/null 2>&1; then
    reason="apt-get not found; this script installs from Debian's packages"
  elif [[ $root_via == none ]]; then
    reason="not root and no passwordless sudo"
  fi
  if [[ -n $reason ]]; then
    {
      echo "ensure-services: error: missing, and cannot install here ($reason):"
      printf '  - %s\n' "${missing[@]}"
      echo "Install them as root on Debian with:"
      echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkgs[*]}"
    } >&2
    exit 1
  fi

  say "installing ${pkgs[*]} (apt-get)"
  apt_log="$(mktemp)"
  trap 'rm -f "$apt_log"' EXIT
  # C.UTF-8 so that a PostgreSQL cluster created by the package gets UTF8 encoding.
  apt_env=(env DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8)
  apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
  if ! as_root "${apt_env[@]}" apt-get "${apt_opts[@]}" update >"$apt_log" 2>&1; then
    # Not fatal by itself: the package lists already on the machine may do.
    say "warning: apt-get update failed; trying the install anyway"
    tail -n 5 "$apt_log" >&2
  fi
  if ! as_root "${apt_env[@]}" apt-get "${apt_opts[@]}" install -y --no-install-recommends \
    "${pkgs[@]}" >"$apt_log" 2>&1; then
    tail -n 30 "$apt_log" >&2
    {
      echo "ensure-services: error: apt-get install ${pkgs[*]} failed. Missing:"
      printf '  - %s\n' "${missing[@]}"
    } >&2
    exit 1
  fi
  hash -r
fi

# --- 2. Redis ------------------------------------------------------------------
if ! redis_ok; then
  as_root mkdir -p /var/lib/redis /var/log/redis ||
    fail "cannot create /var/lib/redis and /var/log/redis (run as root)"
  if ! out="$(as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
    --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log 2>&1)"; then
    fail "redis-server failed to start${root_hint}: $out"
  fi
  wait_for redis_ok ||
    fail "Redis did not answer PING on 127.0.0.1:$REDIS_PORT within ${WAIT_SECS}s; see /var/log/redis/ci.log"
  say "started redis on 127.0.0.1:$REDIS_PORT"
fi

# --- 3. PostgreSQL -------------------------------------------------------------
# The cluster serving port 5432; else the first one under /etc/postgresql
# (created when there is none).
pg_ver=""
pg_name=""
read -r pg_ver pg_name < <(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1, $2; exit }') || true
if [[ -z $pg_ver ]]; then
  pg_ver="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | head -1)"
  pg_name=main
  if [[ -z $pg_ver || ! -d /etc/postgresql/$pg_ver/main ]]; then
    [[ -n $pg_ver ]] || pg_ver="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -V | tail -1)"
    say "creating PostgreSQL cluster $pg_ver/main on port $PG_PORT"
    if ! out="$(as_root env LANG=C.UTF-8 LC_ALL=C.UTF-8 \
      pg_createcluster --port "$PG_PORT" --locale C.UTF-8 "$pg_ver" main 2>&1)"; then
      fail "pg_createcluster $pg_ver main failed: $out"
    fi
  fi
fi
pg_log="/var/log/postgresql/postgresql-$pg_ver-$pg_name.log"

if ! pg_ok; then
  # "already running" and the like are not fatal here: the wait decides.
  out="$(as_root pg_ctlcluster --skip-systemctl-redirect "$pg_ver" "$pg_name" start 2>&1)" || true
  if ! wait_for pg_ok; then
    fail "PostgreSQL $pg_ver/$pg_name is not accepting connections on 127.0.0.1:$PG_PORT after ${WAIT_SECS}s${root_hint}.
pg_ctlcluster said: ${out:-(nothing)}
clusters: $(pg_lsclusters -h 2>&1 | tr '\n' ';')
see $pg_log"
  fi
  say "started postgresql $pg_ver/$pg_name on 127.0.0.1:$PG_PORT"
fi

if ! pg_auth_ok; then
  hba="/etc/postgresql/$pg_ver/$pg_name/pg_hba.conf"
  as_root test -f "$hba" || fail "psql -h 127.0.0.1 -U postgres fails and $hba is missing"
  say "adding trust for 127.0.0.1 and ::1 to $hba"
  marker="# pinlive (scripts/ensure-services.sh): local TCP connections need no password"
  line4="host all all 127.0.0.1/32 trust"
  line6="host all all ::1/128 trust"
  old_hba="$(as_root cat "$hba")" || fail "cannot read $hba (run as root)"
  new_hba="$(
    printf '%s\n%s\n%s\n' "$marker" "$line4" "$line6"
    printf '%s\n' "$old_hba" | grep -vxF -e "$marker" -e "$line4" -e "$line6" || true
  )"
  # tee keeps the file's owner and mode.
  printf '%s\n' "$new_hba" | as_root tee "$hba" >/dev/null || fail "cannot write $hba (run as root)"
  out="$(as_root pg_ctlcluster --skip-systemctl-redirect "$pg_ver" "$pg_name" reload 2>&1)" ||
    fail "reloading PostgreSQL failed: $out"
  wait_for pg_auth_ok ||
    fail "psql -h 127.0.0.1 -U postgres -d postgres still fails after trusting 127.0.0.1 in $hba: $(pg_sql 'select 1' 2>&1 | head -3)"
fi

if [[ "$(pg_sql "select 1 from pg_database where datname = 'test'")" != 1 ]]; then
  # Tolerate a concurrent run creating it first.
  pg_sql 'create database test' >/dev/null 2>&1 || true
  [[ "$(pg_sql "select 1 from pg_database where datname = 'test'")" == 1 ]] ||
    fail "cannot create database test: $(pg_sql 'create database test' 2>&1 | head -3)"
  say "created database test"
fi

# --- 4. ffmpeg, chromium -------------------------------------------------------
ffmpeg_state=skipped
if ((!skip_ffmpeg)); then
  ffmpeg -version >/dev/null 2>&1 ||
    fail "ffmpeg -version fails; reinstall with: apt-get install --reinstall ffmpeg"
  ffmpeg_state=ok
fi

chromium_state=skipped
if ((!skip_browser)); then
  timeout 60 /usr/bin/chromium --version >/dev/null 2>&1 ||
    fail "/usr/bin/chromium --version fails; reinstall with: apt-get install --reinstall chromium"
  chromium_state=ok
fi

echo "services: redis ok, postgresql ok, ffmpeg $ffmpeg_state, chromium $chromium_state"

#!/usr/bin/env bash
# Installs the database servers the integration tests start (test/support/database-servers.ts), when
# missing: PostgreSQL (Debian's `postgresql` package, any major version) and MariaDB as the
# MySQL-protocol server (`mariadb-server-core`: the server binary and its bootstrap SQL, without the
# packaged service or its data directory; `mariadb-client-core` for my_print_defaults, which
# mariadb-install-db calls), plus `openssl` for the test CA. Downloaded packages are kept
# under $ROTATOR_CACHE_DIR/apt/archives, so a second install on the same machine downloads nothing.
# Nothing is started here, and no system service is enabled: the tests start their own servers on
# 127.0.0.1 with free ports in a temp dir.
# Source it (scripts/lib/ensure-deps.sh does) or run it; it exports ROTATOR_POSTGRES_BIN (the folder
# holding initdb and postgres) and ROTATOR_MARIADBD (the server binary).
set -euo pipefail

db_log() { printf '[setup] %s\n' "$*" >&2; }

postgres_bin_dir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/postgres" ]]; then echo "$dir"; fi
}

mariadbd_path() {
  local candidate
  for candidate in /usr/sbin/mariadbd /usr/sbin/mysqld; do
    if [[ -x "$candidate" ]]; then echo "$candidate"; return; fi
  done
}

install_packages() {
  local packages=("$@")
  if [[ "$(id -u)" != "0" ]]; then
    db_log "missing ${packages[*]}: install them (sudo apt-get install --no-install-recommends ${packages[*]}) or run as root"
    return 1
  fi
  local cache="${ROTATOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secret-rotation-orchestrator}"
  local started=$SECONDS archives="$cache/apt/archives"
  mkdir -p "$archives/partial"
  db_log "installing ${packages[*]} with apt-get (packages cached in $archives)"
  # The package scripts must not start a system-wide server: policy-rc.d answers 101 ("action
  # forbidden") for the duration of the install when the machine has none of its own.
  local policy=/usr/sbin/policy-rc.d placed_policy=""
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && placed_policy=1
  fi
  # The cache is in root's home, which apt's download sandbox user (_apt) cannot write.
  local apt_options=(-o "Dir::Cache::archives=$archives" -o APT::Sandbox::User=root)
  local status=0
  {
    if ! apt-get install -y -q --no-install-recommends "${apt_options[@]}" "${packages[@]}" >&2; then
      apt-get update -q >&2 &&
        apt-get install -y -q --no-install-recommends "${apt_options[@]}" "${packages[@]}" >&2
    fi
  } </dev/null || status=$?
  if [[ -n "$placed_policy" ]]; then rm -f "$policy"; fi
  db_log "apt-get install took $((SECONDS - started)) s"
  return "$status"
}

ensure_databases() {
  local missing=()
  [[ -n "$(postgres_bin_dir)" ]] || missing+=(postgresql)
  [[ -n "$(mariadbd_path)" ]] || missing+=(mariadb-server-core)
  # mariadb-install-db, which creates the system tables, needs my_print_defaults from the client package.
  command -v my_print_defaults >/dev/null || missing+=(mariadb-client-core)
  command -v openssl >/dev/null || missing+=(openssl)
  if ((${#missing[@]} > 0)); then
    DEBIAN_FRONTEND=noninteractive install_packages "${missing[@]}" || return 1
  fi
  ROTATOR_POSTGRES_BIN="$(postgres_bin_dir)"
  ROTATOR_MARIADBD="$(mariadbd_path)"
  export ROTATOR_POSTGRES_BIN ROTATOR_MARIADBD
}

ensure_databases

#!/usr/bin/env bash
# Installs everything the demo and the tests need, idempotently, on a fresh machine:
#   - npm packages from the lockfile (which bring Node 24 as the `node` devDependency);
#   - a Python venv with moto in server mode, kept in a cache folder outside the clone;
#   - PostgreSQL and MariaDB binaries for the database tests (scripts/databases/ensure.sh).
# Source it: it exports PATH (Node 24 first), ROTATOR_CACHE_DIR, MOTO_PYTHON, ROTATOR_POSTGRES_BIN
# and ROTATOR_MARIADBD.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export ROTATOR_CACHE_DIR="${ROTATOR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secret-rotation-orchestrator}"
MOTO_VERSION="5.2.5"

log() { printf '[setup] %s\n' "$*" >&2; }

ensure_node_modules() {
  local stamp="$repo_root/node_modules/.package-lock.json"
  if [[ -f "$stamp" && "$stamp" -nt "$repo_root/package-lock.json" && -x "$repo_root/node_modules/.bin/node" ]]; then
    return
  fi
  # Not `npm ci`: the registry this project is built against lacks some optional platform builds
  # (e.g. Biome for macOS), which npm then leaves out of the lockfile and `npm ci` refuses.
  # `npm install` with the lockfile installs the locked versions and skips what it cannot have.
  log "installing npm packages from package-lock.json"
  (cd "$repo_root" && npm install --no-save --no-audit --no-fund --loglevel=error >&2)
}

ensure_moto() {
  local venv="$ROTATOR_CACHE_DIR/venv/moto-$MOTO_VERSION"
  if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import moto.server, flask_cors' 2>/dev/null; then
    log "creating Python venv with moto[server]==$MOTO_VERSION in $venv"
    rm -rf "$venv"
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
  fi
  export MOTO_PYTHON="$venv/bin/python"
}

ensure_node_modules
ensure_moto
source "$repo_root/scripts/databases/ensure.sh"
export PATH="$repo_root/node_modules/.bin:$PATH"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [[ "$node_major" != "24" ]]; then
  log "expected Node 24 from node_modules/.bin, found $(node --version)"
  exit 1
fi

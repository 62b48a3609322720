#!/usr/bin/env bash
# One install command: virtualenv + editable package with dev extras, npm parts, the solcjs wrapper
# registered with py-solc-x, compiled contracts. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
VENV=${GRIDCAST_VENV:-.venv}

step() { printf '\n==> %s\n' "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
  step "creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip setuptools wheel
fi

stamp="$VENV/.gridcast-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  step "installing the gridcast package (editable, dev extras)"
  "$VENV/bin/pip" install -q -e '.[dev]'
  touch "$stamp"
else
  step "python packages up to date"
fi

if [ ! -d node_modules/solc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "installing npm parts (solc, anvil, OpenZeppelin)"
  # `npm ci` rejects this lock file: npm 11 leaves anvil's other-platform optional packages out of
  # it; `npm install` honours the same pinned versions.
  npm install --no-audit --no-fund --loglevel=error
else
  step "npm parts up to date"
fi

# The dashboard (api/web, served by `gridcast serve` at /): its own npm packages, built with vite;
# the build prints the bundle size. Rebuilt when a source is newer than the last build.
if [ ! -d api/web/node_modules/vite ] || [ api/web/package-lock.json -nt api/web/node_modules/.package-lock.json ]; then
  step "installing the dashboard's npm packages (React, Vite, uPlot, viem, graphql-ws)"
  npm --prefix api/web install --no-audit --no-fund --loglevel=error
fi
if [ ! -f api/web/dist/index.html ] || [ -n "$(find api/web/src api/web/index.html api/web/package.json -newer api/web/dist/index.html -print -quit)" ]; then
  step "building the dashboard (api/web/dist)"
  npm --prefix api/web run build --silent
else
  step "dashboard up to date"
fi

# System packages from Debian: an MQTT broker for telemetry (started by the demo and tests when
# none runs) and docker-compose to validate docker-compose.yml. Installed only where we may.
missing=()
command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto)
# Debian's chromium runs the dashboard's browser tests (tests/web, Playwright).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# wrk drives the GraphQL load benchmark (benchmarks/api_load.py) from outside the Python process.
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if ! docker compose version >/dev/null 2>&1 && ! command -v docker-compose >/dev/null 2>&1; then
  missing+=(docker-compose)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    step "installing Debian packages: ${missing[*]}"
    apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null && apt-get install -y -qq "${missing[@]}" >/dev/null; }
  else
    step "please install with your package manager: ${missing[*]} (not root: skipped)"
  fi
fi

step "registering the solcjs wrapper with py-solc-x"
"$VENV/bin/python" -m gridcast.toolchain register-solc

step "compiling contracts"
"$VENV/bin/ape" compile
# Ape lists at most 500 files under contracts/ before applying exclusions, and the copy of the
# OpenZeppelin sources it leaves in contracts/.cache is larger than that: our own test contracts
# would silently vanish from `project`. The build manifest already holds everything compiled.
rm -rf contracts/.cache

step "done: activate with 'source $VENV/bin/activate'"

#!/usr/bin/env bash
# The second command: the whole test suite against real PostgreSQL and Redis, browser tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi "noto sans cjk" || ! command -v pdftotext >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Chromium, Chinese fonts, Pango (PDFs) and poppler-utils for the tests (apt-get) ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk \
      libpango-1.0-0 libpangoft2-1.0-0 poppler-utils >/dev/null
  else
    echo "ERROR: install Debian's chromium, fonts-noto-cjk, libpango-1.0-0 and poppler-utils first." >&2
    exit 1
  fi
fi
# axe-core for the accessibility checks of the browser tests (tests/browser/a11y.py), from the npm registry,
# fetched once into var/ (git-ignored). The version is pinned so a new axe release cannot change the verdict
# of an unchanged page; set AXE_CORE_VERSION to try another.
AXE_CORE_VERSION="${AXE_CORE_VERSION:-4.14.1}"
if [ ! -s var/axe/axe.min.js ] || [ "$(cat var/axe/VERSION 2>/dev/null)" != "$AXE_CORE_VERSION" ]; then
  if command -v npm >/dev/null; then
    echo "Fetching axe-core $AXE_CORE_VERSION for the accessibility tests (npm pack) ..."
    mkdir -p var/axe
    if ( cd var/axe && rm -rf package && tarball=$(npm pack "axe-core@$AXE_CORE_VERSION" --silent) \
         && tar -xzf "$tarball" package/axe.min.js && mv package/axe.min.js axe.min.js \
         && rm -rf package "$tarball" && echo "$AXE_CORE_VERSION" > VERSION ); then
      :
    else
      echo "WARNING: could not fetch axe-core; the accessibility tests will be skipped (and fail in CI)." >&2
    fi
  else
    echo "WARNING: npm not found; the accessibility tests will be skipped (and fail in CI)." >&2
  fi
fi
.venv/bin/python - <<'PY'
import sys, psycopg2, redis
try:
    psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=3).close()
    redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
except Exception as exc:
    sys.exit(f"ERROR: the tests need PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379): {exc}")
PY
exec .venv/bin/python -m pytest "$@"

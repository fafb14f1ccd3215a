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
.venv/bin/python - <<'PY'
import sys, psycopg2, redis
try:
    psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=3).close()
    redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
except Exception as exc:
    sys.exit(f"ERROR: the tests need PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379): {exc}")
PY
exec .venv/bin/python -m pytest "$@"

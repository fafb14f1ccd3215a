#!/usr/bin/env bash
# The first command: install, prepare the database, load the demo, start web + Celery worker + beat.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
PY=.venv/bin/python
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.local}
eval "$($PY scripts/preflight.py)"
$PY manage.py migrate --no-input -v 0
$PY manage.py seed_demo

PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ -z "${PORTAL_NO_WORKER:-}" ]; then
  .venv/bin/celery -A config worker --loglevel INFO --concurrency 2 >var/worker.log 2>&1 &
  pids+=($!)
  .venv/bin/celery -A config beat --loglevel INFO >var/beat.log 2>&1 &
  pids+=($!)
  echo "Celery worker and beat started (logs: var/worker.log, var/beat.log)."
fi
echo
echo "  The portal is at http://$HOST:$PORT/   (health: http://$HOST:$PORT/healthz)"
echo "  Demo sign-ins are listed above and in README.md. Stop with Ctrl-C."
echo
$PY manage.py runserver "$HOST:$PORT" &
pids+=($!)
wait "${pids[-1]}"

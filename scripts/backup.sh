#!/usr/bin/env bash
# Back up the database (pg_dump, custom format, with a manifest of the main tables' row counts read in the
# same snapshot) and the uploaded files into one folder, with SHA256SUMS (accounts/backups.py).
# Usage: scripts/backup.sh [DEST_DIR]   (DATABASE_URL and MEDIA_ROOT as for the portal)
# The daily scheduled backup with retention is the beat task accounts.tasks.run_backup
# (by hand: manage.py run_backup).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
dest=${1:-var/backups/$(date -u +%Y%m%dT%H%M%SZ)}
media=${MEDIA_ROOT:-var/media}
exec $PY manage.py run_backup --dest "$dest" --media "$media"

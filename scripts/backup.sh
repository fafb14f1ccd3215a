#!/usr/bin/env bash
# Back up the database (pg_dump, custom format) and the uploaded files into one dated folder.
# Usage: scripts/backup.sh [DEST_DIR]   (DATABASE_URL and MEDIA_ROOT as for the portal)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
dest=${1:-var/backups/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$dest"
eval "$($PY - <<'PYCODE'
import os, shlex, environ
env = environ.Env(); environ.Env.read_env(".env", overwrite=False)
db = env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/cqmic")
media = os.environ.get("MEDIA_ROOT", "var/media")
print(f"export PGHOST={shlex.quote(str(db.get('HOST') or '127.0.0.1'))} PGPORT={shlex.quote(str(db.get('PORT') or 5432))}")
print(f"export PGUSER={shlex.quote(str(db.get('USER') or 'postgres'))} PGDATABASE={shlex.quote(db['NAME'])}")
if db.get("PASSWORD"):
    print(f"export PGPASSWORD={shlex.quote(str(db['PASSWORD']))}")
print(f"MEDIA={shlex.quote(media)}")
PYCODE
)"
pg_dump --format=custom --no-owner --file "$dest/database.dump"
if [ -d "$MEDIA" ]; then tar -C "$MEDIA" -czf "$dest/media.tar.gz" .; else tar -czf "$dest/media.tar.gz" -T /dev/null; fi
( cd "$dest" && sha256sum database.dump media.tar.gz > SHA256SUMS )
echo "backup written to $dest"

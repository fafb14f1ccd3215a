#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into the database of DATABASE_URL (created if missing, emptied
# if not) and MEDIA_ROOT. Usage: scripts/restore.sh BACKUP_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
src=${1:?usage: scripts/restore.sh BACKUP_DIR}
( cd "$src" && sha256sum --check --quiet SHA256SUMS )
eval "$($PY - <<'PYCODE'
import os, shlex, environ
env = environ.Env(); environ.Env.read_env(".env", overwrite=False)
db = env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/cqmic")
print(f"export PGHOST={shlex.quote(str(db.get('HOST') or '127.0.0.1'))} PGPORT={shlex.quote(str(db.get('PORT') or 5432))}")
print(f"export PGUSER={shlex.quote(str(db.get('USER') or 'postgres'))} TARGET_DB={shlex.quote(db['NAME'])}")
if db.get("PASSWORD"):
    print(f"export PGPASSWORD={shlex.quote(str(db['PASSWORD']))}")
print(f"MEDIA={shlex.quote(os.environ.get('MEDIA_ROOT', 'var/media'))}")
PYCODE
)"
if psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$TARGET_DB'" | grep -q 1; then
  psql -d postgres -qc "DROP DATABASE \"$TARGET_DB\" WITH (FORCE)"
fi
psql -d postgres -qc "CREATE DATABASE \"$TARGET_DB\""
pg_restore --no-owner --dbname "$TARGET_DB" "$src/database.dump"
mkdir -p "$MEDIA"
tar -C "$MEDIA" -xzf "$src/media.tar.gz"
echo "restored $src into database $TARGET_DB and $MEDIA"

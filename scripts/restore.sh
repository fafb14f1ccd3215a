#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh (or the scheduled backup) into the database of DATABASE_URL and
# MEDIA_ROOT, without ever destroying what it cannot replace:
#   1. the checksums are checked (SHA256SUMS);
#   2. the dump goes into a new database <name>_restore_<timestamp>, the files into a new folder beside
#      MEDIA_ROOT;
#   3. the new database is checked: every migration of this code applied and none unknown, the row counts of
#      the main tables equal to the backup's manifest, every attachment's file present, `manage.py check`;
#   4. only then are they swapped in by renaming: the old database is kept as <name>_old_<timestamp>, the old
#      folder as <MEDIA_ROOT>.old_<timestamp>, until an operator removes them.
# Any failure leaves the running database and files as they were, removes what it created and says what
# failed. Stop the web, worker and beat processes first: the swap ends the connections to the database.
# Usage: scripts/restore.sh BACKUP_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
src=${1:?usage: scripts/restore.sh BACKUP_DIR}
src=$(cd "$src" && pwd)

fail() { echo "restore FAILED: $*" >&2; exit 1; }

( cd "$src" && sha256sum --check --quiet SHA256SUMS ) || fail "checksums of $src do not match (nothing was changed)"
[ -f "$src/manifest.json" ] || fail "$src has no manifest.json (nothing was changed)"

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
unset PGDATABASE
stamp=$(date -u +%Y%m%d%H%M%S%3N)
NEW_DB="${TARGET_DB}_restore_${stamp}"
OLD_DB="${TARGET_DB}_old_${stamp}"
[ ${#OLD_DB} -le 63 ] && [ ${#NEW_DB} -le 63 ] || fail "database name $TARGET_DB is too long for a dated copy (nothing was changed)"
MEDIA=${MEDIA%/}
NEW_MEDIA="${MEDIA}.restore_${stamp}"
OLD_MEDIA="${MEDIA}.old_${stamp}"

q() { psql -d postgres -v ON_ERROR_STOP=1 -qtAc "$1"; }
exists() { [ "$(q "SELECT 1 FROM pg_database WHERE datname = '$1'")" = 1 ]; }

created_db=""
created_media=""
swapped=""
cleanup() {
  status=$?
  if [ -z "$swapped" ]; then
    if [ -n "$created_db" ]; then psql -d postgres -qc "DROP DATABASE IF EXISTS \"$NEW_DB\" WITH (FORCE)" >/dev/null 2>&1 || true; fi
    if [ -n "$created_media" ]; then rm -rf "$NEW_MEDIA"; fi
  fi
  exit $status
}
trap cleanup EXIT

q "CREATE DATABASE \"$NEW_DB\"" || fail "could not create the database $NEW_DB (nothing was changed)"
created_db=1
echo "restoring $src/database.dump into the new database $NEW_DB"
pg_restore --no-owner --exit-on-error --dbname "$NEW_DB" "$src/database.dump" \
  || fail "pg_restore could not restore the dump into $NEW_DB; $TARGET_DB and $MEDIA are unchanged"

mkdir -p "$NEW_MEDIA"
created_media=1
tar -C "$NEW_MEDIA" -xzf "$src/media.tar.gz" \
  || fail "the uploaded files could not be unpacked; $TARGET_DB and $MEDIA are unchanged"

url=$($PY - "$NEW_DB" <<'PYCODE'
import os, sys, urllib.parse
url = urllib.parse.urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cqmic"))
print(urllib.parse.urlunsplit(url._replace(path="/" + sys.argv[1])))
PYCODE
)
echo "checking $NEW_DB"
DATABASE_URL="$url" MEDIA_ROOT="$NEW_MEDIA" $PY manage.py verify_restore "$src/manifest.json" --media "$NEW_MEDIA" \
  || fail "the restored database did not pass its checks (above); $TARGET_DB and $MEDIA are unchanged"
DATABASE_URL="$url" MEDIA_ROOT="$NEW_MEDIA" $PY manage.py check --database default >/dev/null \
  || fail "manage.py check failed against $NEW_DB; $TARGET_DB and $MEDIA are unchanged"

# The swap. The old database stops taking connections, its sessions end, and it is renamed; then the new one
# takes its name. If the second rename fails the first is undone.
had_db=""
if exists "$TARGET_DB"; then
  had_db=1
  q "ALTER DATABASE \"$TARGET_DB\" WITH ALLOW_CONNECTIONS false" >/dev/null
  q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$TARGET_DB' AND pid <> pg_backend_pid()" >/dev/null
  if ! q "ALTER DATABASE \"$TARGET_DB\" RENAME TO \"$OLD_DB\"" >/dev/null; then
    q "ALTER DATABASE \"$TARGET_DB\" WITH ALLOW_CONNECTIONS true" >/dev/null || true
    fail "could not rename $TARGET_DB (still in use?); it is unchanged"
  fi
  q "ALTER DATABASE \"$OLD_DB\" WITH ALLOW_CONNECTIONS true" >/dev/null
fi
if ! q "ALTER DATABASE \"$NEW_DB\" RENAME TO \"$TARGET_DB\"" >/dev/null; then
  [ -n "$had_db" ] && q "ALTER DATABASE \"$OLD_DB\" RENAME TO \"$TARGET_DB\"" >/dev/null
  fail "could not rename $NEW_DB to $TARGET_DB; $TARGET_DB is unchanged"
fi
swapped=1
had_media=""
if [ -e "$MEDIA" ]; then
  had_media=1
  if ! mv "$MEDIA" "$OLD_MEDIA"; then
    echo "restore FAILED: could not move $MEDIA aside; undoing the database swap" >&2
    q "ALTER DATABASE \"$TARGET_DB\" RENAME TO \"$NEW_DB\"" >/dev/null
    [ -n "$had_db" ] && q "ALTER DATABASE \"$OLD_DB\" RENAME TO \"$TARGET_DB\"" >/dev/null
    swapped=""
    exit 1
  fi
fi
mkdir -p "$(dirname "$MEDIA")"
mv "$NEW_MEDIA" "$MEDIA"
echo "restored $src into database $TARGET_DB and $MEDIA"
[ -n "$had_db" ] && echo "the previous database is kept as $OLD_DB (drop it when no longer needed)"
[ -n "$had_media" ] && echo "the previous files are kept in $OLD_MEDIA (remove them when no longer needed)"
exit 0

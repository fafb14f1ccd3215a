"""Backup and restore (scripts/backup.sh, scripts/restore.sh) on the real PostgreSQL, as operators run them.

The test database is backed up with its uploaded files, restored into a new database and another media
folder, and compared table by table and file by file; a corrupted backup is refused before anything is
touched. The restored database is dropped at the end, whatever happens.
"""

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connection
from psycopg2 import sql

from accounts.roles import Role
from applications.models import Application, Attachment
from tests.factories import PDF_BYTES, application_in, make_attachment, user_with_role

BASE_DIR = Path(__file__).resolve().parent.parent
# The tables an operator checks first after a restore; every table is compared as well.
MAIN_TABLES = [
    "accounts_user",
    "accounts_organisation",
    "accounts_notification",
    "applications_application",
    "applications_applicationevent",
    "applications_applicationversion",
    "applications_attachment",
    "applications_memberunit",
    "applications_policy",
]


def pg_connect(dbname: str):
    """A psycopg2 connection (autocommit) to ``dbname`` on the server of the test database."""
    params = connection.settings_dict
    conn = psycopg2.connect(
        dbname=dbname,
        host=params["HOST"] or "127.0.0.1",
        port=params["PORT"] or 5432,
        user=params["USER"] or "postgres",
        password=params["PASSWORD"] or None,
    )
    conn.autocommit = True
    return conn


def database_url(dbname: str) -> str:
    params = connection.settings_dict
    auth = params["USER"] or "postgres"
    if params["PASSWORD"]:
        auth += f":{params['PASSWORD']}"
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{dbname}"


def database_exists(dbname: str) -> bool:
    with pg_connect("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        return cur.fetchone() is not None


def drop_database(dbname: str) -> None:
    conn = pg_connect("postgres")
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
    finally:
        conn.close()


def snapshot(dbname: str) -> dict:
    """What a restore must reproduce: the row count of every table, the sequences, the application numbers
    and the attachments (path and recorded sha256)."""
    conn = pg_connect(dbname)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            tables = [row[0] for row in cur.fetchall()]
            counts = {}
            for table in tables:
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
                counts[table] = cur.fetchone()[0]
            cur.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
            sequences = dict(cur.fetchall())
            cur.execute(
                f"SELECT number FROM {Application._meta.db_table} WHERE number IS NOT NULL ORDER BY number"
            )
            numbers = [row[0] for row in cur.fetchall()]
            cur.execute(f"SELECT file, sha256 FROM {Attachment._meta.db_table} ORDER BY file")
            attachments = cur.fetchall()
    finally:
        conn.close()
    return {"counts": counts, "sequences": sequences, "numbers": numbers, "attachments": attachments}


def tree_digest(root: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``root``."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def run_script(name: str, *args, dbname: str, media: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url(dbname), "MEDIA_ROOT": str(media)}
    env.pop("PGDATABASE", None)
    return subprocess.run(
        [str(BASE_DIR / "scripts" / name), *map(str, args)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        errors="replace",  # pg_restore may quote the bytes of a corrupted dump
        timeout=120,
    )


def databases_like(prefix: str) -> list[str]:
    with pg_connect("postgres") as conn, conn.cursor() as cur:
        cur.execute("SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY datname", [prefix + "%"])
        return [row[0] for row in cur.fetchall()]


@pytest.fixture
def restored_database():
    """The name of a database for the restore (``<test database>_restored``); it and every dated copy the
    restores leave beside it (``_restore_…``, ``_old_…``) are dropped before and after."""
    name = f"{connection.settings_dict['NAME']}_restored"
    for leftover in databases_like(name):
        drop_database(leftover)
    try:
        yield name
    finally:
        for leftover in databases_like(name):
            drop_database(leftover)


def rewrite_sums(folder: Path) -> None:
    """Recompute SHA256SUMS, as a backup whose content is wrong but whose checksums are right."""
    lines = []
    for name in ("database.dump", "media.tar.gz", "manifest.json"):
        lines.append(f"{hashlib.sha256((folder / name).read_bytes()).hexdigest()}  {name}\n")
    (folder / "SHA256SUMS").write_text("".join(lines))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_backup_restores_the_database_and_the_files_and_a_corrupted_backup_is_refused(
    tmp_path, restored_database
):
    staff = user_with_role(Role.COMMISSION_STAFF)
    submitted = application_in("submitted", staff=staff)
    in_review = application_in("preliminary", staff=staff)
    # Files of different content (the factories' attachments share one PDF), one with a Chinese name.
    for n, application in enumerate([submitted, in_review]):
        make_attachment(
            application, Attachment.Kind.OTHER, data=PDF_BYTES + f"%{n} 附件\n".encode(), name="补充材料.pdf"
        )
    media = Path(settings.MEDIA_ROOT)
    source_db = connection.settings_dict["NAME"]
    before = snapshot(source_db)
    files_before = tree_digest(media)
    assert len(before["numbers"]) == 2
    assert len(files_before) == Attachment.objects.count() == 10
    for table in MAIN_TABLES:
        assert before["counts"][table] > 0, table

    backup = tmp_path / "backup"
    result = run_script("backup.sh", backup, dbname=source_db, media=media)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in backup.iterdir()) == [
        "SHA256SUMS",
        "database.dump",
        "manifest.json",
        "media.tar.gz",
    ]

    # The restore goes to a new database and another folder; the source is left as it was.
    restored_media = tmp_path / "restored-media"
    result = run_script("restore.sh", backup, dbname=restored_database, media=restored_media)
    assert result.returncode == 0, result.stderr
    after = snapshot(restored_database)
    for table in MAIN_TABLES:
        assert after["counts"][table] == before["counts"][table], table
    assert after["counts"] == before["counts"]
    assert after["sequences"] == before["sequences"]  # new rows after a restore do not collide
    assert after["numbers"] == before["numbers"] == sorted([submitted.number, in_review.number])
    assert after["attachments"] == before["attachments"]
    assert tree_digest(restored_media) == files_before
    for path, sha256 in after["attachments"]:  # every attachment row finds its file, unchanged
        assert hashlib.sha256((restored_media / path).read_bytes()).hexdigest() == sha256
    # The portal accepts the restored database: every migration is recorded as applied.
    check = subprocess.run(
        [str(BASE_DIR / ".venv/bin/python"), "manage.py", "migrate", "--check", "--no-input"],
        cwd=BASE_DIR,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url(restored_database),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stdout + check.stderr

    # One byte of the dump changed: refused before the existing database or the folder is touched ...
    corrupted = tmp_path / "corrupted"
    shutil.copytree(backup, corrupted)
    dump = bytearray((corrupted / "database.dump").read_bytes())
    dump[len(dump) // 2] ^= 0xFF
    (corrupted / "database.dump").write_bytes(bytes(dump))
    (restored_media / "stray.txt").write_text("written after the restore")
    result = run_script("restore.sh", corrupted, dbname=restored_database, media=restored_media)
    assert result.returncode != 0
    assert "FAILED" in result.stdout + result.stderr  # sha256sum names the file that does not match
    assert snapshot(restored_database) == after
    kept = tree_digest(restored_media)
    assert kept.pop("stray.txt") and kept == files_before
    # ... and into a database that does not exist yet, nothing is created.
    fresh = f"{restored_database}_2"
    try:
        result = run_script("restore.sh", corrupted, dbname=fresh, media=tmp_path / "fresh-media")
        assert result.returncode != 0
        assert not database_exists(fresh)
        assert not (tmp_path / "fresh-media").exists()
    finally:
        drop_database(fresh)
    # The source database is untouched by all of it.
    assert snapshot(source_db) == before


def _pg_dump_of_an_empty_database(target: Path, name: str) -> None:
    drop_database(name)
    conn = pg_connect("postgres")
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()
    try:
        params = connection.settings_dict
        subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--file", str(target), name],
            env={
                **os.environ,
                "PGHOST": params["HOST"] or "127.0.0.1",
                "PGPORT": str(params["PORT"] or 5432),
                "PGUSER": params["USER"] or "postgres",
                **({"PGPASSWORD": params["PASSWORD"]} if params["PASSWORD"] else {}),
            },
            check=True,
            timeout=60,
        )
    finally:
        drop_database(name)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_restore_is_checked_in_a_new_database_and_only_then_swapped_in(tmp_path, restored_database):
    staff = user_with_role(Role.COMMISSION_STAFF)
    application_in("preliminary", staff=staff)
    media = Path(settings.MEDIA_ROOT)
    backup = tmp_path / "backup"
    assert (
        run_script("backup.sh", backup, dbname=connection.settings_dict["NAME"], media=media).returncode == 0
    )
    manifest = json.loads((backup / "manifest.json").read_text())
    before_backup = snapshot(connection.settings_dict["NAME"])
    for table in ("accounts_user", "applications_application", "applications_memberunit"):
        assert manifest["counts"][table] == before_backup["counts"][table] > 0

    target_media = tmp_path / "restored-media"
    assert run_script("restore.sh", backup, dbname=restored_database, media=target_media).returncode == 0
    good = snapshot(restored_database)
    assert good["counts"] == before_backup["counts"]

    # Damage the running copy: rows lost, a stray file. A good dump swaps the backup's data back in and keeps
    # the damaged database and folder under dated names.
    with pg_connect(restored_database) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM applications_memberunit")
    (target_media / "stray.txt").write_text("written after the backup")
    damaged = snapshot(restored_database)
    assert damaged["counts"]["applications_memberunit"] == 0
    result = run_script("restore.sh", backup, dbname=restored_database, media=target_media)
    assert result.returncode == 0, result.stderr
    assert snapshot(restored_database) == good
    assert not (target_media / "stray.txt").exists()
    kept = [name for name in databases_like(restored_database) if "_old_" in name]
    assert len(kept) == 1 and kept[0] in result.stdout
    assert snapshot(kept[0])["counts"] == damaged["counts"]
    old_folders = [p for p in tmp_path.iterdir() if p.name.startswith("restored-media.old_")]
    assert len(old_folders) == 1 and (old_folders[0] / "stray.txt").exists()
    files_now = tree_digest(target_media)
    databases_now = databases_like(restored_database)

    def refused(folder: Path, reason: str) -> None:
        result = run_script("restore.sh", folder, dbname=restored_database, media=target_media)
        assert result.returncode != 0
        assert "restore FAILED" in result.stderr and reason in result.stdout + result.stderr
        assert f"{restored_database} and {target_media} are unchanged" in result.stderr
        assert snapshot(restored_database) == good  # the running database as it was
        assert tree_digest(target_media) == files_now  # and its files
        assert databases_like(restored_database) == databases_now  # the new database was dropped
        assert sorted(p.name for p in tmp_path.iterdir() if ".restore_" in p.name) == []

    # A corrupted dump whose checksums were recomputed: pg_restore fails in the new database.
    corrupted = tmp_path / "corrupted"
    shutil.copytree(backup, corrupted)
    dump = bytearray((corrupted / "database.dump").read_bytes())
    for offset in range(len(dump) // 3, len(dump) // 3 + 64):
        dump[offset] ^= 0xFF
    (corrupted / "database.dump").write_bytes(bytes(dump))
    rewrite_sums(corrupted)
    refused(corrupted, "pg_restore")

    # A valid dump of the wrong database (empty), checksums right: the checks of the new database refuse it.
    wrong = tmp_path / "wrong"
    shutil.copytree(backup, wrong)
    _pg_dump_of_an_empty_database(wrong / "database.dump", f"{restored_database}_empty")
    rewrite_sums(wrong)
    refused(wrong, "did not pass its checks")

    # The right dump, but the manifest says there were more users: the row counts do not match.
    short = tmp_path / "short"
    shutil.copytree(backup, short)
    manifest["counts"]["accounts_user"] += 1
    (short / "manifest.json").write_text(json.dumps(manifest))
    rewrite_sums(short)
    refused(short, "accounts_user")

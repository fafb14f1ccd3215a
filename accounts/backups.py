"""Backups of the database and the uploaded files, the daily run with its retention, and its record.

One backup is one folder: ``database.dump`` (pg_dump, custom format), ``media.tar.gz`` (``MEDIA_ROOT``),
``manifest.json`` (the applied migrations and the row counts of the main tables, read in the same database
snapshot as the dump) and ``SHA256SUMS`` over the three. ``scripts/restore.sh`` checks the sums, restores
into a new database, compares it with the manifest (``manage.py verify_restore``) and only then swaps it in.

The daily run (beat: ``accounts.tasks.run_backup``, also ``manage.py run_backup``) writes a folder named by
its UTC start under ``BACKUP_ROOT``, records a ``BackupRun`` (size, checksum, duration, success) and tells
the system administrators when it fails; after a success it removes what the retention does not keep.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

# The tables an operator checks first after a restore (the manifest counts them in the dump's snapshot).
MAIN_TABLES = [
    "django_migrations",
    "accounts_user",
    "accounts_organisation",
    "accounts_notification",
    "accounts_auditevent",
    "applications_policy",
    "applications_application",
    "applications_applicationevent",
    "applications_applicationversion",
    "applications_attachment",
    "applications_memberunit",
    "evaluation_panel",
    "evaluation_announcement",
    "centres_centre",
    "reports_annualsummary",
    "reports_assessment",
]
FOLDER_FORMAT = "%Y%m%dT%H%M%SZ"
FILES = ("database.dump", "media.tar.gz", "manifest.json")


class BackupFailed(Exception):
    pass


def pg_environment(settings_dict: dict | None = None) -> dict:
    """The environment for pg_dump / psql reaching the portal's database."""
    params = settings_dict or connection.settings_dict
    env = {
        **os.environ,
        "PGHOST": str(params.get("HOST") or "127.0.0.1"),
        "PGPORT": str(params.get("PORT") or 5432),
        "PGUSER": str(params.get("USER") or "postgres"),
        "PGDATABASE": params["NAME"],
    }
    if params.get("PASSWORD"):
        env["PGPASSWORD"] = str(params["PASSWORD"])
    return env


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def table_counts(cursor) -> dict[str, int]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    present = {row[0] for row in cursor.fetchall()}
    counts = {}
    for table in MAIN_TABLES:
        if table in present:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def _run(command: list[str], **kwargs) -> None:
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise BackupFailed(f"{command[0]} failed: {(result.stderr or result.stdout).strip()[:500]}")


def write_backup(dest: Path, media_root: Path) -> dict:
    """Write one backup into ``dest`` (created; must be empty). Returns ``{"size", "sha256"}``: the total
    size in bytes and the SHA-256 of its ``SHA256SUMS``. Raises ``BackupFailed`` saying what failed."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise BackupFailed(f"{dest} is not empty")
    # A connection of its own, so the snapshot is not the caller's transaction.
    raw = connection.get_new_connection(connection.get_connection_params())
    try:
        raw.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with raw.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = table_counts(cursor)
            cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
            migrations = [list(row) for row in cursor.fetchall()]
            # pg_dump reads the very snapshot the counts were read in (the transaction stays open).
            _run(
                [
                    "pg_dump",
                    "--format=custom",
                    "--no-owner",
                    f"--snapshot={snapshot}",
                    "--file",
                    str(dest / "database.dump"),
                ],
                env=pg_environment(),
            )
        raw.rollback()
    except BackupFailed:
        raise
    except Exception as error:
        raise BackupFailed(f"database: {error}") from error
    finally:
        raw.close()
    media_root = Path(media_root)
    if media_root.is_dir():
        _run(["tar", "-C", str(media_root), "-czf", str(dest / "media.tar.gz"), "."])
    else:
        _run(["tar", "-czf", str(dest / "media.tar.gz"), "-T", "/dev/null"])
    manifest = {
        "created_at": timezone.now().isoformat(),
        "database": connection.settings_dict["NAME"],
        "counts": counts,
        "migrations": migrations,
    }
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    sums = "".join(f"{sha256_of(dest / name)}  {name}\n" for name in FILES)
    (dest / "SHA256SUMS").write_text(sums)
    size = sum((dest / name).stat().st_size for name in (*FILES, "SHA256SUMS"))
    return {"size": size, "sha256": hashlib.sha256(sums.encode()).hexdigest()}


# --- retention -----------------------------------------------------------------------------------------


def folder_time(name: str) -> datetime | None:
    try:
        return datetime.strptime(name, FOLDER_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def retained(names, keep_daily: int, keep_monthly: int) -> set[str]:
    """Which of these backup folders the retention keeps: the newest backup of each of the ``keep_daily``
    most recent days that have one, and the first backup of each of the ``keep_monthly`` most recent months
    that have one (days and months in the portal's time zone). Names that are not backup folders are not
    considered (and never removed)."""
    dated = sorted((moment, name) for name in names if (moment := folder_time(name)) is not None)
    newest_of_day: dict = {}
    first_of_month: dict = {}
    for moment, name in dated:
        local = timezone.localtime(moment)
        newest_of_day[local.date()] = name  # ascending: the last one wins
        first_of_month.setdefault((local.year, local.month), name)
    keep = {newest_of_day[day] for day in sorted(newest_of_day, reverse=True)[: max(keep_daily, 0)]}
    keep |= {first_of_month[m] for m in sorted(first_of_month, reverse=True)[: max(keep_monthly, 0)]}
    return keep


def apply_retention(root: Path, keep_daily: int, keep_monthly: int) -> list[str]:
    """Remove the backup folders under ``root`` the retention does not keep; returns their names."""
    root = Path(root)
    names = [p.name for p in root.iterdir() if p.is_dir() and folder_time(p.name) is not None]
    keep = retained(names, keep_daily, keep_monthly)
    removed = sorted(name for name in names if name not in keep)
    for name in removed:
        shutil.rmtree(root / name)
    return removed


# --- the daily run -------------------------------------------------------------------------------------


def run_scheduled_backup(root: Path | None = None, media_root: Path | None = None):
    """One scheduled backup under ``root`` (default ``BACKUP_ROOT``), recorded as a ``BackupRun``; the
    system administrators are told when it fails. Returns the run."""
    from accounts.models import BackupRun
    from accounts.notifications import notify, users_with_role
    from accounts.roles import Role

    root = Path(root or settings.BACKUP_ROOT)
    started = timezone.now()
    folder = root / started.astimezone(UTC).strftime(FOLDER_FORMAT)
    run = BackupRun.objects.create(started_at=started, folder=str(folder))
    clock = time.monotonic()
    try:
        if folder.exists():
            raise BackupFailed(f"{folder} exists already")
        info = write_backup(folder, Path(media_root or settings.MEDIA_ROOT))
    except Exception as error:
        if folder.exists() and not (folder / "SHA256SUMS").exists():
            shutil.rmtree(folder, ignore_errors=True)  # never leave half a backup that looks like one
        run.error = str(error)[:2000] or type(error).__name__
    else:
        run.success, run.size_bytes, run.sha256 = True, info["size"], info["sha256"]
        try:
            run.removed = "\n".join(
                apply_retention(root, settings.BACKUP_KEEP_DAILY, settings.BACKUP_KEEP_MONTHLY)
            )
        except OSError as error:
            run.error = f"retention: {error}"
    run.finished_at = timezone.now()
    run.duration_seconds = round(time.monotonic() - clock, 3)
    run.save()
    if not run.success:
        notify(
            users_with_role(Role.SYSTEM_ADMIN),
            "backup_failed",
            {"run": run},
            link=reverse("admin:accounts_backuprun_change", args=[run.pk]),
        )
    return run

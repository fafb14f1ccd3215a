"""Check a freshly restored database (scripts/restore.sh runs it with DATABASE_URL set to the new one)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from accounts.backups import table_counts


class Command(BaseCommand):
    help = (
        "Check the database of DATABASE_URL against a backup's manifest.json: every migration of this code "
        "applied and none unknown, the row counts of the main tables equal to the backup's, and every "
        "attachment's file present in the restored media folder."
    )

    def add_arguments(self, parser):
        parser.add_argument("manifest", type=Path)
        parser.add_argument("--media", type=Path, help="the restored media folder to look for files in")

    def handle(self, *args, **options):
        try:
            manifest = json.loads(options["manifest"].read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"manifest unreadable: {error}") from None
        problems = []
        loader = MigrationLoader(connection, ignore_no_migrations=True)
        applied = set(loader.applied_migrations)
        on_disk = set(loader.disk_migrations)
        missing = sorted(on_disk - applied)
        unknown = sorted(m for m in applied if m[0] in loader.migrated_apps and m not in on_disk)
        if missing:
            problems.append(f"{len(missing)} migration(s) not applied, e.g. {missing[0][0]}.{missing[0][1]}")
        if unknown:
            problems.append(f"{len(unknown)} migration(s) unknown to this code, e.g. {'.'.join(unknown[0])}")
        with connection.cursor() as cursor:
            counts = table_counts(cursor)
            expected = manifest.get("counts") or {}
            for table, count in sorted(expected.items()):
                got = counts.get(table)
                self.stdout.write(f"  {table}: {got} rows (backup: {count})")
                if got != count:
                    problems.append(f"{table}: {got} rows, the backup had {count}")
            if not expected:
                problems.append("the manifest lists no tables")
            media = options["media"]
            if media is not None and "applications_attachment" in counts:
                cursor.execute("SELECT file FROM applications_attachment")
                absent = [name for (name,) in cursor.fetchall() if name and not (media / name).is_file()]
                if absent:
                    problems.append(f"{len(absent)} attachment file(s) missing, e.g. {absent[0]}")
        if problems:
            raise CommandError("restored database FAILED its checks: " + "; ".join(problems))
        self.stdout.write("restored database checked: migrations, row counts and files as in the backup")

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.backups import BackupFailed, run_scheduled_backup, write_backup


class Command(BaseCommand):
    help = (
        "Back up the database and the uploaded files. Without --dest: the scheduled backup (the same code as "
        "the beat task): a dated folder under BACKUP_ROOT, retention applied, the run recorded. With --dest: "
        "one backup into that folder, nothing recorded (scripts/backup.sh)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dest", type=Path, help="write exactly this folder (must be empty)")
        parser.add_argument("--media", type=Path, help="the uploaded files (default MEDIA_ROOT)")

    def handle(self, *args, **options):
        from django.conf import settings

        media = options["media"] or Path(settings.MEDIA_ROOT)
        if options["dest"]:
            try:
                info = write_backup(options["dest"], media)
            except BackupFailed as error:
                raise CommandError(f"backup FAILED: {error}") from None
            self.stdout.write(f"backup written to {options['dest']} ({info['size']} bytes)")
            return
        run = run_scheduled_backup(media_root=media)
        if not run.success:
            raise CommandError(f"backup FAILED: {run.error}")
        self.stdout.write(
            f"backup written to {run.folder} ({run.size_bytes} bytes, {run.duration_seconds} s)"
        )

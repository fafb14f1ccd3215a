from django.core.management.base import BaseCommand

from accounts.tasks import retry_unsent_notifications


class Command(BaseCommand):
    help = "E-mail the notifications the outbox still holds (the same code as the beat task); idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than", type=int, default=60, help="only rows written at least this many seconds ago"
        )

    def handle(self, *args, **options):
        sent = retry_unsent_notifications(options["older_than"])
        self.stdout.write(f"sent {sent} notification(s)")

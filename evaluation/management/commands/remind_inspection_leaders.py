from django.core.management.base import BaseCommand

from evaluation.tasks import remind_inspection_leaders


class Command(BaseCommand):
    help = "Remind inspection leaders 48 h before the visit (the same code as the beat task); idempotent."

    def handle(self, *args, **options):
        self.stdout.write(f"reminded {remind_inspection_leaders()} inspection leader(s)")

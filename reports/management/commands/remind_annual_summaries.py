from django.core.management.base import BaseCommand

from reports.tasks import remind_annual_summaries


class Command(BaseCommand):
    help = "Remind lead units of annual summaries coming due (the same code as the beat task); idempotent."

    def handle(self, *args, **options):
        self.stdout.write(f"sent {remind_annual_summaries()} reminder(s)")

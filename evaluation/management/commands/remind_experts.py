from django.core.management.base import BaseCommand

from evaluation.tasks import remind_experts


class Command(BaseCommand):
    help = "Remind experts 48 h before their panel's deadline (the same code as the beat task); idempotent."

    def handle(self, *args, **options):
        self.stdout.write(f"reminded {remind_experts()} expert assignment(s)")

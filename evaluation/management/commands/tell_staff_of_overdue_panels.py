from django.core.management.base import BaseCommand

from evaluation.tasks import tell_staff_of_overdue_panels


class Command(BaseCommand):
    help = "Tell staff once of each panel whose deadline passed with sheets missing (the beat task's code)."

    def handle(self, *args, **options):
        self.stdout.write(f"told staff of {tell_staff_of_overdue_panels()} overdue panel(s)")

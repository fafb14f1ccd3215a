from django.core.management.base import BaseCommand

from reports.tasks import open_due_assessments


class Command(BaseCommand):
    help = (
        "End expired exclusions and open the three-year assessments that came due "
        "(the same code as the beat task); idempotent."
    )

    def handle(self, *args, **options):
        self.stdout.write(f"opened {open_due_assessments()} assessment(s)")

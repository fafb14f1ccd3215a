from django.core.management.base import BaseCommand

from evaluation.publicity import close_expired


class Command(BaseCommand):
    help = "Close every publicity period whose end has passed (the same code as the beat task); idempotent."

    def handle(self, *args, **options):
        result = close_expired()
        self.stdout.write(
            f"closed {result['closed']} announcement(s): {result['approved']} approved, "
            f"{result['waiting']} waiting for staff (objections)"
        )

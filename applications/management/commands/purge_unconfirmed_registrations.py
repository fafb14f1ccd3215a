from django.conf import settings
from django.core.management.base import BaseCommand

from applications.registration import purge_stale


class Command(BaseCommand):
    help = "Delete registrations unconfirmed for REGISTRATION_CONFIRM_DAYS days, with their licence files."

    def handle(self, *args, **options):
        deleted = purge_stale()
        self.stdout.write(
            f"deleted {deleted} registration(s) unconfirmed for {settings.REGISTRATION_CONFIRM_DAYS} days"
        )

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import AuditEvent


class Command(BaseCommand):
    help = "Delete audit records older than AUDIT_RETENTION_DAYS (never fewer than 180 days)."

    def handle(self, *args, **options):
        cutoff = timezone.now() - timedelta(days=max(180, settings.AUDIT_RETENTION_DAYS))
        deleted, _ = AuditEvent.objects.purge_before(cutoff)
        self.stdout.write(f"deleted {deleted} audit record(s) older than {cutoff:%Y-%m-%d}")

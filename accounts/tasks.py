"""Thin Celery tasks: they take ids or plain values and call ordinary functions."""

import logging
from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AuditEvent, Notification

log = logging.getLogger(__name__)
# After a failure the next try waits 2, 4, 8 ... minutes, at most six hours; nothing is ever dropped.
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)


def retry_delay(attempts: int) -> timedelta:
    return min(RETRY_BASE * (2 ** min(attempts, 16)), RETRY_CAP)


@shared_task(
    autoretry_for=(SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    max_retries=10,
    acks_late=True,
)
def send_email(subject: str, body: str, recipients: list[str]) -> int:
    """Send one plain-text e-mail; retried with back-off while the mail server is unreachable."""
    return send_mail(subject, body, None, recipients)


def deliver_notification(pk: int) -> bool:
    """E-mail one outbox row exactly once (row lock; already-sent rows are skipped)."""
    with transaction.atomic():
        note = (
            Notification.objects.select_for_update(skip_locked=True)
            .select_related("recipient")
            .filter(pk=pk, emailed_at__isnull=True)
            .first()
        )
        if note is None:
            return False
        if not note.recipient.email:
            note.email_error = "no e-mail address"
            note.emailed_at = timezone.now()  # nothing to send; it stays visible in the portal
            note.save(update_fields=["email_error", "emailed_at"])
            return False
        note.email_attempts += 1
        try:
            send_mail(note.subject, note.body + _link_line(note), None, [note.recipient.email])
        except (SMTPException, OSError) as exc:
            note.email_error = str(exc)[:300]
            note.next_attempt_at = timezone.now() + retry_delay(note.email_attempts)
            note.save(update_fields=["email_attempts", "email_error", "next_attempt_at"])
            log.warning("e-mail for notification %s failed: %s", pk, exc)
            return False
        note.emailed_at = timezone.now()
        note.email_error = ""
        note.save(update_fields=["email_attempts", "email_error", "emailed_at"])
        return True


def _link_line(note: Notification) -> str:
    from django.conf import settings

    return f"\n\n{settings.PORTAL_BASE_URL}{note.link}\n" if note.link else ""


@shared_task(acks_late=True, ignore_result=True)
def send_notification(pk: int) -> bool:
    return deliver_notification(pk)


@shared_task
def retry_unsent_notifications(older_than_seconds: int = 60) -> int:
    """Beat: e-mail what was written but never sent (broker was down, worker died, SMTP failed).

    Oldest first; a row that failed waits for its back-off (``next_attempt_at``) but is never given up.
    """
    now = timezone.now()
    pending = (
        Notification.objects.filter(
            emailed_at__isnull=True, created_at__lte=now - timedelta(seconds=older_than_seconds)
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:500]
    )
    return sum(1 for pk in list(pending) if deliver_notification(pk))


@shared_task
def purge_audit_log() -> int:
    """Beat (daily): the retention cleanup of the audit log (never younger than 180 days)."""
    from django.conf import settings

    cutoff = timezone.now() - timedelta(days=max(180, settings.AUDIT_RETENTION_DAYS))
    deleted, _ = AuditEvent.objects.purge_before(cutoff)
    return deleted


@shared_task(acks_late=False, time_limit=6 * 3600, soft_time_limit=6 * 3600 - 300)
def run_backup() -> dict:
    """Beat (daily): back up the database and the uploaded files under BACKUP_ROOT, keep what the retention
    promises, record the run; a failure notifies the system administrators (accounts.backups)."""
    from accounts.backups import run_scheduled_backup

    run = run_scheduled_backup()
    return {"success": run.success, "folder": run.folder, "size": run.size_bytes, "error": run.error}

"""Thin Celery tasks: they take ids or plain values and call ordinary functions."""

import logging
from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.models import Notification

log = logging.getLogger(__name__)
MAX_EMAIL_ATTEMPTS = 10


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
            note.save(update_fields=["email_attempts", "email_error"])
            log.warning("e-mail for notification %s failed: %s", pk, exc)
            return False
        note.emailed_at = timezone.now()
        note.email_error = ""
        note.save(update_fields=["email_attempts", "email_error", "emailed_at"])
        return True


def _link_line(note: Notification) -> str:
    from django.conf import settings

    return f"\n\n{settings.PORTAL_BASE_URL}{note.link}\n" if note.link else ""


@shared_task(acks_late=True)
def send_notification(pk: int) -> bool:
    return deliver_notification(pk)


@shared_task
def retry_unsent_notifications(older_than_seconds: int = 60) -> int:
    """Beat: e-mail what was written but never sent (broker was down, worker died, SMTP failed)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    pending = Notification.objects.filter(
        emailed_at__isnull=True, created_at__lte=cutoff, email_attempts__lt=MAX_EMAIL_ATTEMPTS
    ).values_list("pk", flat=True)[:500]
    return sum(1 for pk in list(pending) if deliver_notification(pk))

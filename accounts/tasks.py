"""Thin Celery tasks: they take ids or plain values and call ordinary functions."""

import logging
from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import channels
from accounts.models import AuditEvent, Delivery

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


def deliver(pk: int) -> bool:
    """Send one delivery exactly once (row lock; one sent, skipped or being sent elsewhere is left alone)."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification__recipient")
            .filter(pk=pk, status=Delivery.Status.PENDING)
            .first()
        )
        if delivery is None:
            return False
        try:
            adapter = channels.channel(delivery.channel)
        except KeyError:  # a channel this deployment no longer has: kept until it returns
            log.warning("delivery %s: channel %r is not configured", pk, delivery.channel)
            return False
        delivery.attempts += 1
        now = timezone.now()
        try:
            reference = adapter.send(delivery)
        except channels.NothingToSend as exc:  # nobody to send to: it stays visible in the portal
            delivery.status = Delivery.Status.SKIPPED
            delivery.last_error = str(exc)[:300]
            delivery.next_attempt_at = None
        except channels.ChannelDown as exc:
            delivery.last_error = str(exc)[:300]
            delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            log.warning("%s delivery %s failed: %s", delivery.channel, pk, exc)
        else:
            delivery.status = Delivery.Status.SENT
            delivery.sent_at = now
            delivery.last_error = ""
            delivery.next_attempt_at = None
            delivery.provider_reference = (reference or "")[:100]
        delivery.save(
            update_fields=[
                "status",
                "attempts",
                "last_error",
                "next_attempt_at",
                "sent_at",
                "provider_reference",
            ]
        )
        return delivery.status == Delivery.Status.SENT


def deliver_notification(pk: int) -> bool:
    """Send every pending delivery of one notification; True if any went out."""
    pending = Delivery.objects.filter(notification_id=pk, status=Delivery.Status.PENDING).order_by("pk")
    return sum(deliver(delivery_pk) for delivery_pk in list(pending.values_list("pk", flat=True))) > 0


@shared_task(acks_late=True, ignore_result=True)
def send_delivery(pk: int) -> bool:
    return deliver(pk)


@shared_task(acks_late=True, ignore_result=True)
def send_notification(pk: int) -> bool:
    """Kept for messages queued before deliveries existed: sends the notification's pending deliveries."""
    return deliver_notification(pk)


@shared_task
def retry_unsent_notifications(older_than_seconds: int = 60) -> int:
    """Beat: send the deliveries that were written but never sent (broker down, worker died, server down).

    Per delivery, oldest first; one that failed waits for its back-off (``next_attempt_at``) but is never
    given up, and one channel being down does not hold back the others.
    """
    now = timezone.now()
    pending = (
        Delivery.objects.filter(
            status=Delivery.Status.PENDING, created_at__lte=now - timedelta(seconds=older_than_seconds)
        )
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:500]
    )
    return sum(1 for pk in list(pending) if deliver(pk))


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

"""Thin Celery tasks: they take plain values or ids and call ordinary functions."""

from smtplib import SMTPException

from celery import shared_task
from django.core.mail import send_mail


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

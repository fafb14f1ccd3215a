"""Thin Celery tasks of the review."""

from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.notifications import notify
from evaluation.models import Assignment

REMIND_BEFORE = timedelta(hours=48)


@shared_task
def remind_experts() -> int:
    """Beat: remind each expert once, 48 hours before their panel's deadline, of an unsubmitted sheet."""
    now = timezone.now()
    due = Assignment.objects.filter(
        state__in=[Assignment.State.ASSIGNED, Assignment.State.DECLARED],
        reminded_at__isnull=True,
        panel__closed_at__isnull=True,
        panel__deadline__gt=now,
        panel__deadline__lte=now + REMIND_BEFORE,
    ).select_related("expert", "panel__application")
    sent = 0
    for assignment in due:
        with transaction.atomic():
            updated = Assignment.objects.filter(pk=assignment.pk, reminded_at__isnull=True).update(
                reminded_at=now
            )
            if updated:
                notify(
                    [assignment.expert],
                    "expert_reminder",
                    {"panel": assignment.panel, "application": assignment.panel.application},
                    link=reverse("evaluation:assignment", args=[assignment.pk]),
                )
                sent += 1
    return sent


@shared_task
def close_expired_publicity() -> dict:
    """Beat: close every publicity period whose end has passed (see evaluation.publicity.close_expired)."""
    from evaluation.publicity import close_expired

    return close_expired()

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
def tell_staff_of_overdue_panels() -> int:
    """Beat: staff are told once when a running panel's deadline passed with sheets missing."""
    from evaluation.panels import tell_staff_of_overdue_panels as tell

    return tell()


@shared_task
def remind_inspection_leaders() -> int:
    """Beat: remind each inspection leader once, within 48 hours of the visit date, of a record not yet
    signed off (a new date clears the bookkeeping, so the reminder follows it)."""
    from applications.models import Status
    from evaluation.models import SiteInspection

    now = timezone.now()
    today, horizon = timezone.localdate(now), timezone.localdate(now + REMIND_BEFORE)
    due = SiteInspection.objects.filter(
        signed_off_at__isnull=True,
        reminded_at__isnull=True,
        visit_date__gte=today,
        visit_date__lte=horizon,
        application__status=Status.SITE_INSPECTION,
    ).select_related("leader", "application")
    sent = 0
    for inspection in due:
        with transaction.atomic():
            updated = SiteInspection.objects.filter(pk=inspection.pk, reminded_at__isnull=True).update(
                reminded_at=now
            )
            if updated:
                notify(
                    [inspection.leader],
                    "inspection_reminder",
                    {"application": inspection.application, "inspection": inspection},
                    link=reverse("evaluation:inspection", args=[inspection.application_id]),
                )
                sent += 1
    return sent


# A backlog larger than this is shared out among the workers, in chunks of this size.
SHARE_OUT_AT = 50


@shared_task
def close_expired_publicity() -> dict:
    """Beat: close every publicity period whose end has passed (see evaluation.publicity.close_expired).

    Normally a few at a time, closed here. A backlog (a worker outage, a batch of announcements ending
    together) is shared out: one task per chunk of announcement ids, so every worker process takes part.
    A chunk is closed in one transaction (``publicity.close_many``) and skips any announcement someone else
    holds, so chunks and a concurrent sweep never close one twice."""
    from evaluation.models import Announcement
    from evaluation.publicity import close_expired

    due = list(
        Announcement.objects.due_for_closing(timezone.now()).order_by("ends_at").values_list("pk", flat=True)
    )
    if len(due) <= SHARE_OUT_AT:
        return close_expired()
    chunks = [due[i : i + SHARE_OUT_AT] for i in range(0, len(due), SHARE_OUT_AT)]
    for chunk in chunks:
        close_announcements.delay(chunk)
    return {"shared_out": len(due), "tasks": len(chunks)}


@shared_task
def close_announcements(ids: list) -> dict:
    """Close these announcements if they are still due (a chunk of a shared-out sweep, in one go)."""
    from evaluation.publicity import close_many

    return close_many(ids)

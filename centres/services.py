"""Creating a centre. Called by the review (evaluation.workflow.award), higher in the import chain."""

from django.db import transaction
from django.urls import reverse

from accounts.models import User
from accounts.notifications import notify
from accounts.roles import Role
from applications.models import Application, Outcome, Policy
from centres.models import Centre


def create_centre(
    application: Application, user, *, approval_number, approval_date, plaque_number, award_date
):
    policy = application.policy or Policy.current()
    return Centre.objects.create(
        application=application,
        name=application.centre_name,
        field=application.field,
        lead_unit=application.lead_unit,
        kind=Centre.Kind.PILOT if application.outcome == Outcome.PILOT else Centre.Kind.RECOGNISED,
        approval_number=approval_number,
        approval_date=approval_date,
        plaque_number=plaque_number,
        award_date=award_date,
        support_years=policy.support_years,
        created_by=user,
    )


def add_event(centre: Centre, action: str, user=None, comment: str = ""):
    from centres.models import CentreEvent

    return CentreEvent.objects.create(centre=centre, action=action, actor=user, comment=comment)


def exclude(centre: Centre, user, *, decided_on, years: int, reason: str) -> Centre:
    """不合格: out of the support scope until ``years`` after the decision (its lead unit too)."""
    try:
        until = decided_on.replace(year=decided_on.year + years)
    except ValueError:  # 29 February
        until = decided_on.replace(year=decided_on.year + years, day=28)
    centre.status = Centre.Status.EXCLUDED
    centre.excluded_until = until
    centre.save(update_fields=["status", "excluded_until"])
    add_event(centre, "excluded", user, f"{reason}（至{until:%Y-%m-%d}）")
    return centre


def lead_unit_users_of(centre: Centre):
    return User.objects.filter(
        organisation_id=centre.lead_unit_id, groups__name=Role.LEAD_UNIT, is_active=True
    )


def withdraw_title(centre: Centre, user, reason: str) -> Centre:
    """撤销称号: the centre leaves the programme; its lead unit is told why."""
    with transaction.atomic():
        centre.status = Centre.Status.WITHDRAWN
        centre.save(update_fields=["status"])
        add_event(centre, "title_withdrawn", user, reason)
        notify(
            lead_unit_users_of(centre),
            "centre_title_withdrawn",
            {"centre": centre, "reason": reason},
            link=reverse("reports:centre", args=[centre.pk]),  # the higher app's page, named only
        )
    return centre

"""Creating a centre. Called by the review (evaluation.workflow.award), higher in the import chain."""

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


def withdraw_title(centre: Centre, user, reason: str) -> Centre:
    centre.status = Centre.Status.WITHDRAWN
    centre.save(update_fields=["status"])
    add_event(centre, "title_withdrawn", user, reason)
    return centre

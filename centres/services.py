"""Creating a centre. Called by the review (evaluation.workflow.award), higher in the import chain."""

from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application, Outcome, Policy
from applications.services import ActionRefused
from centres.models import Centre


def approval_date_problem(approval_date, today=None) -> str | None:
    """A 批复 cannot be dated in the future."""
    today = today or timezone.localdate()
    if approval_date > today:
        return _("批复日期%(date)s晚于今天（%(today)s），不能登记尚未作出的批复。") % {
            "date": f"{approval_date:%Y-%m-%d}",
            "today": f"{today:%Y-%m-%d}",
        }
    return None


def award_date_problem(approval_date, award_date, today=None) -> str | None:
    """授牌 comes on or after the 批复 and not in the future: support years and the assessment cycle count
    from the award date."""
    today = today or timezone.localdate()
    if award_date > today:
        return _("授牌日期%(date)s晚于今天（%(today)s），请在授牌后登记。") % {
            "date": f"{award_date:%Y-%m-%d}",
            "today": f"{today:%Y-%m-%d}",
        }
    if approval_date is not None and award_date < approval_date:
        return _("授牌日期%(award)s早于批复日期%(approval)s：授牌须在批复之后。") % {
            "award": f"{award_date:%Y-%m-%d}",
            "approval": f"{approval_date:%Y-%m-%d}",
        }
    return None


def create_centre(
    application: Application, user, *, approval_number, approval_date, plaque_number, award_date
):
    if problem := approval_date_problem(approval_date) or award_date_problem(approval_date, award_date):
        raise ActionRefused(problem)
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

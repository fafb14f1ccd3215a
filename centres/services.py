"""Creating a centre (called by the review, evaluation.workflow.award, higher in the import chain), its
exclusion, title withdrawal and nominations. Each step checks its permission (``centres.rules``)."""

from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import notify
from accounts.roles import Role
from applications.models import Application, Outcome, Policy
from applications.services import ActionRefused, district_users, lead_unit_users
from centres.models import Centre, Nomination


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


def lead_unit_users_of(centre: Centre):
    """The active lead-unit people of the centre's lead unit (whom a step about the centre tells)."""
    return User.objects.filter(
        organisation_id=centre.lead_unit_id, groups__name=Role.LEAD_UNIT, is_active=True
    )


# --- title withdrawal --------------------------------------------------------------------------------------


def _lock(centre: Centre) -> Centre:
    return Centre.objects.select_for_update(of=("self",)).select_related("application").get(pk=centre.pk)


def centre_link(centre: Centre) -> str:
    return reverse("reports:centre", args=[centre.pk])  # the centre page lives in a higher app: by name


def withdraw_title(centre: Centre, user, reason: str, today: date | None = None) -> Centre:
    """撤销称号: the title ends for good (it has no end date); the lead unit and its district are told why.

    Callers that hold later business of the centre (the assessment, in ``reports``) close it after this.
    """
    if not user.has_perm("centres.withdraw_title"):
        raise ActionRefused(_("只有市经济信息委工作人员可以撤销创新中心称号。"))
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(_("撤销称号须写明理由。"))
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = _lock(centre)
        if locked.status == Centre.Status.WITHDRAWN:
            raise ActionRefused(
                _("该创新中心已于%(date)s撤销称号。")
                % {"date": locked.withdrawn_on.isoformat() if locked.withdrawn_on else "—"}
            )
        locked.status = Centre.Status.WITHDRAWN
        locked.withdrawn_on = today
        locked.withdrawal_reason = reason
        locked.save(update_fields=["status", "withdrawn_on", "withdrawal_reason"])
        centre.status, centre.withdrawn_on, centre.withdrawal_reason = locked.status, today, reason
        add_event(locked, "title_withdrawn", user, reason)
        application = locked.application
        notify(
            [*lead_unit_users(application), *district_users(application)],
            "centre_title_withdrawn",
            {"centre": locked, "reason": reason, "withdrawn_on": today},
            link=centre_link(locked),
        )
    return locked


# --- nominations (推荐升级): one record per nomination, its outcome recorded on it later ------------------


def check_nominable(centre: Centre, today: date) -> None:
    """Refuse a nomination of a withdrawn centre, or of one excluded on ``today``."""
    if centre.status == Centre.Status.WITHDRAWN:
        raise ActionRefused(
            _("该创新中心已于%(date)s撤销称号，不能推荐升级。")
            % {"date": centre.withdrawn_on.isoformat() if centre.withdrawn_on else "—"}
        )
    if centre.is_excluded(today):
        raise ActionRefused(
            _("该创新中心考核评估不合格，%(until)s前暂停支持，不能推荐升级。")
            % {"until": centre.excluded_until.isoformat()}
        )


def nominate(centre: Centre, user, *, kind: str, nominated_on: date, note: str = "") -> Nomination:
    """Record a nomination (outcome 待定). Refused for a withdrawn or excluded centre, and while a nomination
    of the same kind is still pending (its outcome is recorded on it instead)."""
    if not user.has_perm("centres.add_nomination"):
        raise ActionRefused(_("只有市经济信息委工作人员可以记录推荐升级。"))
    today = timezone.localdate()
    if nominated_on > today:
        raise ActionRefused(_("推荐日期不能晚于今天。"))
    with transaction.atomic():
        locked = _lock(centre)
        check_nominable(locked, today)
        pending = locked.nominations.filter(kind=kind, outcome=Nomination.Outcome.PENDING).first()
        if pending is not None:
            raise ActionRefused(
                _("该创新中心已有%(date)s的“%(kind)s”推荐尚无结果，请在该条记录上登记结果，不要重复新建。")
                % {"date": pending.nominated_on.isoformat(), "kind": pending.get_kind_display()}
            )
        nomination = Nomination.objects.create(
            kind=kind,
            centre=locked,
            name=locked.name,
            district_id=locked.lead_unit.district_id,
            nominated_on=nominated_on,
            note=(note or "").strip(),
            recorded_by=user,
        )
        add_event(locked, "nomination", user, str(nomination))
    return nomination


def record_outcome(
    nomination: Nomination, user, *, outcome: str, outcome_date: date, document: str = "", note: str = ""
) -> Nomination:
    """登记推荐结果 on the nomination itself: succeeded or failed, with its date and document. A succeeded
    national nomination makes the centre national (shown in public)."""
    if not user.has_perm("centres.change_nomination"):
        raise ActionRefused(_("只有市经济信息委工作人员可以登记推荐结果。"))
    if outcome not in (Nomination.Outcome.SUCCEEDED, Nomination.Outcome.FAILED):
        raise ActionRefused(_("请选择推荐结果（成功或未成功）。"))
    if outcome_date is None:
        raise ActionRefused(_("请填写结果日期。"))
    today = timezone.localdate()
    if outcome_date > today:
        raise ActionRefused(_("结果日期不能晚于今天。"))
    with transaction.atomic():
        locked = (
            Nomination.objects.select_for_update(of=("self",)).select_related("centre").get(pk=nomination.pk)
        )
        if locked.outcome != Nomination.Outcome.PENDING:
            raise ActionRefused(
                _("该推荐已于%(date)s登记结果“%(outcome)s”。")
                % {"date": locked.outcome_date.isoformat(), "outcome": locked.get_outcome_display()}
            )
        if outcome_date < locked.nominated_on:
            raise ActionRefused(
                _("结果日期不能早于推荐日期（%(date)s）。") % {"date": locked.nominated_on.isoformat()}
            )
        locked.outcome, locked.outcome_date = outcome, outcome_date
        locked.outcome_document = (document or "").strip()
        if note and note.strip():
            locked.note = f"{locked.note}\n{note.strip()}".strip()
        locked.save(update_fields=["outcome", "outcome_date", "outcome_document", "note"])
        centre = locked.centre
        if centre is not None:
            if locked.kind == Nomination.Kind.TO_NATIONAL and outcome == Nomination.Outcome.SUCCEEDED:
                Centre.objects.filter(pk=centre.pk).update(is_national=True)
                centre.is_national = True
            add_event(
                centre,
                "nomination_outcome",
                user,
                _("%(kind)s：%(outcome)s（%(date)s%(document)s）")
                % {
                    "kind": locked.get_kind_display(),
                    "outcome": locked.get_outcome_display(),
                    "date": outcome_date.isoformat(),
                    "document": f"，{locked.outcome_document}" if locked.outcome_document else "",
                },
            )
    return locked

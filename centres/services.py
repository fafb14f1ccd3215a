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
from centres.models import Centre, DistrictCentre, Nomination


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
    """The centre of an awarded application. A district-level centre recommended upwards whose municipal
    application this is becomes 已认定为市级 in its district's register."""
    if problem := approval_date_problem(approval_date) or award_date_problem(approval_date, award_date):
        raise ActionRefused(problem)
    policy = application.policy or Policy.current()
    DistrictCentre.objects.filter(application=application).update(status=DistrictCentre.Status.UPGRADED)
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


def check_nominable(centre: Centre, today: date, kind: str = Nomination.Kind.TO_NATIONAL) -> None:
    """Only active, non-excluded municipal (recognised) centres are nominated for the national level; a
    district-level centre is recommended upwards in its district's register (``recommend_district_centre``).
    """
    if kind != Nomination.Kind.TO_NATIONAL:
        raise ActionRefused(
            _("市级创新中心只能推荐争创国家级；区县级创新中心由区县在区县级创新中心名录中推荐申报市级。")
        )
    if centre.kind != Centre.Kind.RECOGNISED:
        raise ActionRefused(_("培育试点创新中心须经验收认定为市级创新中心后，方可推荐争创国家级。"))
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
        check_nominable(locked, today, kind)
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


# --- the district-level centres' register (区县级制造业创新中心) -------------------------------------------


def register_district_centre(
    user, *, name: str, lead_unit, recognised_on: date, document_number: str, field=None
) -> DistrictCentre:
    """District staff add a centre their district recognised to its register."""
    if not user.has_perm("centres.register_district_centre"):
        raise ActionRefused(_("只有区县经信委工作人员可以登记本区县的区县级创新中心。"))
    name, document_number = (name or "").strip(), (document_number or "").strip()
    if not name or not document_number or lead_unit is None or recognised_on is None:
        raise ActionRefused(_("请填写名称、牵头单位、区县认定日期和认定文号。"))
    if recognised_on > timezone.localdate():
        raise ActionRefused(_("区县认定日期不能晚于今天。"))
    if DistrictCentre.objects.filter(district_id=user.district_id, name=name).exists():
        raise ActionRefused(_("本区县名录中已有“%(name)s”。") % {"name": name})
    return DistrictCentre.objects.create(
        district_id=user.district_id,
        name=name,
        field=field,
        lead_unit=lead_unit,
        recognised_on=recognised_on,
        document_number=document_number,
        recorded_by=user,
    )


def _lock_district_centre(district_centre: DistrictCentre) -> DistrictCentre:
    return (
        DistrictCentre.objects.select_for_update(of=("self",))
        .select_related("lead_unit", "district")
        .get(pk=district_centre.pk)
    )


def recommend_district_centre(
    district_centre: DistrictCentre, user, *, recommended_on: date, recommendation: str
) -> DistrictCentre:
    """The district recommends one of its centres to apply at municipal level; the lead unit and the
    commission's staff are told."""
    if not user.has_perm("centres.recommend_district_centre", district_centre):
        raise ActionRefused(_("只有该区县的区县经信委工作人员可以推荐本区县的创新中心。"))
    recommendation = (recommendation or "").strip()
    if not recommendation:
        raise ActionRefused(_("请填写推荐意见。"))
    if recommended_on is None or recommended_on > timezone.localdate():
        raise ActionRefused(_("推荐日期不能为空，也不能晚于今天。"))
    with transaction.atomic():
        locked = _lock_district_centre(district_centre)
        if locked.status != DistrictCentre.Status.REGISTERED:
            raise ActionRefused(
                _("该创新中心已于%(date)s推荐申报市级。")
                % {"date": locked.recommended_on.isoformat() if locked.recommended_on else "—"}
            )
        locked.status = DistrictCentre.Status.RECOMMENDED
        locked.recommended_on, locked.recommendation, locked.recommended_by = (
            recommended_on,
            recommendation,
            user,
        )
        locked.save(update_fields=["status", "recommended_on", "recommendation", "recommended_by"])
        link = reverse("centres:district_centre", args=[locked.pk])
        notify(
            [
                *User.objects.filter(
                    organisation_id=locked.lead_unit_id, groups__name=Role.LEAD_UNIT, is_active=True
                ),
                *User.objects.filter(groups__name=Role.COMMISSION_STAFF, is_active=True),
            ],
            "district_centre_recommended",
            {"district_centre": locked},
            link=link,
        )
    return locked


LINKABLE_EXCLUDED_STATUSES = ("withdrawn", "rejected")


def linkable_applications(district_centre: DistrictCentre):
    """The lead unit's applications the recommendation may be linked to (not withdrawn, not rejected, not
    linked to another district-level centre)."""
    return (
        Application.objects.filter(lead_unit_id=district_centre.lead_unit_id, district_centre__isnull=True)
        .exclude(status__in=LINKABLE_EXCLUDED_STATUSES)
        .order_by("-created_at")
    )


def link_application(district_centre: DistrictCentre, application: Application, user) -> DistrictCentre:
    """The municipal application made on the district's recommendation names the district-level centre."""
    if not user.has_perm("centres.link_district_centre", district_centre):
        raise ActionRefused(_("只有该创新中心的牵头单位或市经济信息委工作人员可以关联市级申报。"))
    with transaction.atomic():
        locked = _lock_district_centre(district_centre)
        if locked.status != DistrictCentre.Status.RECOMMENDED:
            raise ActionRefused(_("区县推荐后才能关联市级申报。"))
        if locked.application_id:
            raise ActionRefused(_("该创新中心已关联市级申报。"))
        if not linkable_applications(locked).filter(pk=application.pk).exists():
            raise ActionRefused(_("只能关联该牵头单位自己的、未撤回且未被否决的申报。"))
        locked.application = application
        locked.save(update_fields=["application"])
    return locked

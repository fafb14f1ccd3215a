"""专项支持: the support ledger (planned → granted → disbursed) and the lead units' requests for
innovation-project support, decided by staff.

Every step goes the way the review's moves go: the permission and the transition's source state through
django-fsm (``can_proceed``, ``has_transition_perm``), the precondition (``refusal``: exclusion, withdrawn
title, support years, a passed assessment in force), one transaction with an append-only ``SupportEvent``,
notifications in the same transaction. A concurrent move of the same row becomes a clear refusal.

It lives in ``reports`` because it needs the assessment's grades (``reports``) and feeds the dashboard and
the exports (``reports``); a separate app above ``reports`` would make those import upwards.
"""

from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from accounts.notifications import notify, users_with_role
from accounts.roles import Role
from applications.models import Policy
from applications.services import ActionRefused
from applications.uploads import inspect
from centres.models import Centre
from centres.services import lead_unit_users_of
from reports.models import (
    Assessment,
    SupportAttachment,
    SupportEvent,
    SupportGrant,
    SupportKind,
    SupportRequest,
)

PASSING_GRADES = (Assessment.Grade.EXCELLENT, Assessment.Grade.GOOD, Assessment.Grade.PASS)


def chinese_date(day: date) -> str:
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


def passed_assessment_in_force(centre: Centre, today: date, policy: Policy | None = None):
    """The centre's latest confirmed assessment if it is 合格 or better and was confirmed less than the
    policy's assessment interval ago (the next cycle's result replaces it); else None."""
    policy = policy or Policy.current()
    latest = (
        Assessment.objects.filter(centre=centre, confirmed_at__isnull=False, closed_at__isnull=True)
        .order_by("-confirmed_at", "-cycle")
        .first()
    )
    if latest is None or latest.grade not in PASSING_GRADES:
        return None
    confirmed = timezone.localtime(latest.confirmed_at).date()
    try:
        ends = confirmed.replace(year=confirmed.year + policy.assessment_interval_years)
    except ValueError:  # 29 February
        ends = confirmed.replace(year=confirmed.year + policy.assessment_interval_years, day=28)
    return latest if today < ends else None


def refusal(centre: Centre, kind: str, today: date | None = None) -> str | None:
    """Why ``centre`` may not receive support of ``kind`` on ``today``, in words; None if it may."""
    today = today or timezone.localdate()
    if centre.status == Centre.Status.WITHDRAWN:
        return _("该创新中心已于%(date)s撤销称号，不再给予专项支持。") % {
            "date": chinese_date(centre.withdrawn_on) if centre.withdrawn_on else "—"
        }
    if centre.is_excluded(today):
        return _("因考核评估不合格，至%(date)s前不纳入支持范围。") % {
            "date": chinese_date(centre.excluded_until)
        }
    if centre.kind == Centre.Kind.PILOT:
        return _("培育试点创新中心须经验收认定后方可获得专项支持。")
    if kind == SupportKind.CONSTRUCTION:
        if centre.support_year(today) is None:
            return _(
                "建设支持仅在授牌后连续%(n)d年内给予（%(start)s至%(end)s），%(today)s不在支持年度内。"
            ) % {
                "n": centre.support_years,
                "start": chinese_date(centre.award_date),
                "end": chinese_date(centre.support_until),
                "today": chinese_date(today),
            }
        return None
    if kind == SupportKind.INNOVATION:
        if passed_assessment_in_force(centre, today) is None:
            return _("创新项目支持须有考核评估合格（含）以上且仍在有效期内的结果，该创新中心目前没有。")
        return None
    return _("请选择支持类型。")


def _refuse_unless_supported(centre: Centre, kind: str, today: date) -> None:
    reason = refusal(centre, kind, today)
    if reason:
        raise ActionRefused(reason)


def _amount(value) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, TypeError, ValueError):
        raise ActionRefused(_("请填写金额（万元），例如“500”或“120.5”。")) from None
    if amount <= 0:
        raise ActionRefused(_("金额应大于0。"))
    if amount >= Decimal("10000000000"):
        raise ActionRefused(_("金额过大，请以万元为单位填写。"))
    return amount


def _label(obj, name: str) -> str:
    for t in obj.get_all_status_transitions():
        if t.name == name:
            return str(t.custom.get("label", name))
    return name


def check_allowed(obj, name: str, user) -> None:
    """As ``applications.services.check_allowed`` for a ledger line or a request: the state, then the
    permission declared on the transition, each refusal naming what stops it."""
    method = getattr(obj, name)
    label = _label(obj, name)
    if not can_proceed(method):
        raise ActionRefused(
            _("该记录当前状态为“%(status)s”，不能%(action)s。")
            % {"status": obj.get_status_display(), "action": label}
        )
    if not has_transition_perm(method, user):
        raise ActionRefused(_("您没有权限执行“%(action)s”。") % {"action": label})


@contextmanager
def _step():
    try:
        with transaction.atomic():
            yield
    except ConcurrentTransition:
        raise ActionRefused(_("该记录已被他人处理，请刷新页面后再操作。")) from None


def _move(obj, name: str, user, *, centre, comment: str = "", **links) -> SupportEvent:
    from_status = obj.status
    getattr(obj, name)()
    obj.save()
    return SupportEvent.objects.create(
        centre=centre,
        action=name,
        from_status=from_status,
        to_status=obj.status,
        actor=user,
        comment=comment,
        **links,
    )


def support_link(centre: Centre) -> str:
    return reverse("reports:centre_support", args=[centre.pk])


def _check_date(day, label: str, today: date) -> date:
    if day is None:
        raise ActionRefused(_("请填写%(what)s。") % {"what": label})
    if day > today:
        raise ActionRefused(_("%(what)s不能晚于今天。") % {"what": label})
    return day


def _store_attachments(centre: Centre, user, uploads, **target) -> list[SupportAttachment]:
    max_mb = Policy.current().attachment_max_mb
    stored = []
    for upload in uploads or ():
        try:
            facts = inspect(upload, "other", max_mb)
        except ValidationError as error:
            raise ActionRefused(" ".join(error.messages)) from None
        attachment = SupportAttachment(
            centre=centre,
            original_name=facts["original_name"],
            content_type=facts["content_type"],
            size=facts["size"],
            uploaded_by=user,
            **target,
        )
        attachment.file.save(facts["original_name"], upload, save=False)
        attachment.save()
        stored.append(attachment)
    return stored


# --- the ledger --------------------------------------------------------------------------------------------


def plan(
    centre: Centre,
    user,
    *,
    kind: str,
    year: int,
    project_name: str,
    amount,
    note: str = "",
    attachments=(),
    request: SupportRequest | None = None,
    today: date | None = None,
) -> SupportGrant:
    """登记拟支持: a new ledger line for ``centre``. Construction support takes the support year ``today``
    falls in; innovation-project support needs a passed assessment in force."""
    if not user.has_perm("reports.manage_support"):
        raise ActionRefused(_("只有市经济信息委工作人员可以登记专项支持。"))
    today = today or timezone.localdate()
    project_name = (project_name or "").strip()
    if not project_name:
        raise ActionRefused(_("请填写项目名称。"))
    amount = _amount(amount)
    if not year or not 2000 <= int(year) <= today.year + 5:
        raise ActionRefused(_("请填写支持年度（如%(year)d）。") % {"year": today.year})
    with transaction.atomic():
        locked = Centre.objects.select_for_update().get(pk=centre.pk)
        _refuse_unless_supported(locked, kind, today)
        grant = SupportGrant.objects.create(
            centre=locked,
            kind=kind,
            support_year=locked.support_year(today) if kind == SupportKind.CONSTRUCTION else None,
            year=int(year),
            project_name=project_name,
            amount=amount,
            note=(note or "").strip(),
            request=request,
            planned_on=today,
            planned_by=user,
        )
        _store_attachments(locked, user, attachments, grant=grant)
        SupportEvent.objects.create(
            centre=locked,
            grant=grant,
            action="planned",
            to_status=grant.status,
            actor=user,
            comment=_("%(kind)s：%(project)s，%(amount)s万元")
            % {"kind": grant.get_kind_display(), "project": project_name, "amount": amount},
        )
    return grant


def _locked_grant(grant: SupportGrant) -> SupportGrant:
    return SupportGrant.objects.select_for_update(of=("self",)).select_related("centre").get(pk=grant.pk)


def grant(
    line: SupportGrant,
    user,
    *,
    document_number: str,
    document_date: date,
    attachments=(),
    today: date | None = None,
) -> SupportGrant:
    """下达: the funding document (number and date) of a planned line. Refused if the centre has since been
    excluded or lost its title."""
    today = today or timezone.localdate()
    document_number = (document_number or "").strip()
    with _step():
        locked = _locked_grant(line)
        check_allowed(locked, "grant", user)
        if not document_number:
            raise ActionRefused(_("请填写资金文件文号。"))
        _check_date(document_date, _("资金文件日期"), today)
        _refuse_excluded_or_withdrawn(locked.centre, today)
        locked.document_number, locked.document_date = document_number, document_date
        locked.granted_on, locked.granted_by = today, user
        _store_attachments(locked.centre, user, attachments, grant=locked)
        _move(locked, "grant", user, centre=locked.centre, grant=locked, comment=document_number)
        notify(
            lead_unit_users_of(locked.centre),
            "support_granted",
            {"centre": locked.centre, "grant": locked},
            link=support_link(locked.centre),
        )
    return locked


def _refuse_excluded_or_withdrawn(centre: Centre, today: date) -> None:
    """A line planned in a support year may be granted and paid after that year; not to an excluded centre
    or one whose title was withdrawn."""
    reason = refusal(centre, "", today)
    if reason and (centre.status == Centre.Status.WITHDRAWN or centre.is_excluded(today)):
        raise ActionRefused(reason)


def disburse(line: SupportGrant, user, *, disbursed_on: date, today: date | None = None) -> SupportGrant:
    """拨付: the money went out on ``disbursed_on`` (not before the grant, not in the future)."""
    today = today or timezone.localdate()
    with _step():
        locked = _locked_grant(line)
        check_allowed(locked, "disburse", user)
        _check_date(disbursed_on, _("拨付日期"), today)
        if locked.document_date and disbursed_on < locked.document_date:
            raise ActionRefused(
                _("拨付日期不能早于资金文件日期（%(date)s）。") % {"date": locked.document_date.isoformat()}
            )
        _refuse_excluded_or_withdrawn(locked.centre, today)
        locked.disbursed_on, locked.disbursed_by = disbursed_on, user
        _move(locked, "disburse", user, centre=locked.centre, grant=locked, comment=disbursed_on.isoformat())
        notify(
            lead_unit_users_of(locked.centre),
            "support_disbursed",
            {"centre": locked.centre, "grant": locked},
            link=support_link(locked.centre),
        )
    return locked


# --- innovation-project support requests -----------------------------------------------------------------


def request_support(
    centre: Centre,
    user,
    *,
    project_name: str,
    goals: str,
    budget: str,
    amount_requested,
    attachments=(),
    today: date | None = None,
) -> SupportRequest:
    """The lead unit asks for innovation-project support; staff are told."""
    if not user.has_perm("reports.request_support", centre):
        raise ActionRefused(_("只有该创新中心的牵头单位可以申请创新项目支持。"))
    today = today or timezone.localdate()
    fields = {"project_name": project_name, "goals": goals, "budget": budget}
    missing = [
        str(SupportRequest._meta.get_field(name).verbose_name)
        for name, value in fields.items()
        if not (value or "").strip()
    ]
    if missing:
        raise ActionRefused(_("请填写：%(fields)s。") % {"fields": "、".join(missing)})
    amount = _amount(amount_requested)
    with transaction.atomic():
        locked = Centre.objects.select_for_update().get(pk=centre.pk)
        _refuse_unless_supported(locked, SupportKind.INNOVATION, today)
        if locked.support_requests.filter(
            status=SupportRequest.Status.SUBMITTED, project_name=fields["project_name"].strip()
        ).exists():
            raise ActionRefused(_("该项目已有一份待审核的申请，请等待审核结果。"))
        req = SupportRequest.objects.create(
            centre=locked,
            amount_requested=amount,
            requested_by=user,
            **{name: value.strip() for name, value in fields.items()},
        )
        _store_attachments(locked, user, attachments, request=req)
        SupportEvent.objects.create(
            centre=locked,
            request=req,
            action="requested",
            to_status=req.status,
            actor=user,
            comment=_("%(project)s，申请%(amount)s万元") % {"project": req.project_name, "amount": amount},
        )
        notify(
            users_with_role(Role.COMMISSION_STAFF),
            "support_requested",
            {"centre": locked, "request": req},
            link=reverse("reports:support_request", args=[req.pk]),
        )
    return req


def _locked_request(req: SupportRequest) -> SupportRequest:
    return SupportRequest.objects.select_for_update(of=("self",)).select_related("centre").get(pk=req.pk)


def approve_request(
    req: SupportRequest, user, *, amount, year: int | None = None, today: date | None = None
) -> SupportGrant:
    """同意支持 with an amount: the request is granted and a planned ledger line is made for it (its funding
    document and payment follow on the ledger)."""
    today = today or timezone.localdate()
    with _step():
        locked = _locked_request(req)
        check_allowed(locked, "approve", user)
        amount = _amount(amount)
        _refuse_unless_supported(locked.centre, SupportKind.INNOVATION, today)
        locked.decided_by, locked.decided_at = user, timezone.now()
        _move(
            locked,
            "approve",
            user,
            centre=locked.centre,
            request=locked,
            comment=_("同意支持%(amount)s万元") % {"amount": amount},
        )
        line = plan(
            locked.centre,
            user,
            kind=SupportKind.INNOVATION,
            year=year or today.year,
            project_name=locked.project_name,
            amount=amount,
            request=locked,
            today=today,
        )
        notify(
            lead_unit_users_of(locked.centre),
            "support_request_decided",
            {"centre": locked.centre, "request": locked, "amount": amount},
            link=support_link(locked.centre),
        )
    return line


def refuse_request(req: SupportRequest, user, *, reason: str) -> SupportRequest:
    """不予支持, with the reason the lead unit reads."""
    reason = (reason or "").strip()
    with _step():
        locked = _locked_request(req)
        check_allowed(locked, "refuse", user)
        if not reason:
            raise ActionRefused(_("不予支持须写明理由。"))
        locked.decided_by, locked.decided_at, locked.refusal_reason = user, timezone.now(), reason
        _move(locked, "refuse", user, centre=locked.centre, request=locked, comment=reason)
        notify(
            lead_unit_users_of(locked.centre),
            "support_request_decided",
            {"centre": locked.centre, "request": locked, "amount": None},
            link=support_link(locked.centre),
        )
    return locked


def ledger(queryset=None):
    """Ledger lines with what a list shows, in one query."""
    queryset = queryset if queryset is not None else SupportGrant.objects.all()
    return queryset.select_related(
        "centre", "centre__field", "centre__lead_unit", "centre__lead_unit__district"
    )

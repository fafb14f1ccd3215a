"""The review: one function per move. Each checks permission and preconditions, moves the application
inside one transaction (optimistic locking on the status), appends history and writes notifications that
are e-mailed after commit. Views, admin actions, commands and tasks call these; nothing sets a status."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.notifications import notify, users_with_role
from accounts.roles import Role
from applications import stages
from applications.editor import labelled_sections
from applications.eligibility import REQUIRED_ATTACHMENTS
from applications.models import Application, Attachment, DistrictOpinion, Outcome, Status
from applications.services import (
    ActionRefused,
    add_history,
    application_link,
    check_allowed,
    district_users,
    exclusion_refusal,
    guarded,
    lead_unit_users,
    move,
    staff_link,
    with_contents,
)
from evaluation import panels
from evaluation.models import (
    Assignment,
    ComprehensiveEvaluation,
    LeadershipDecision,
    LeadershipMeeting,
    Panel,
    PreliminaryCheck,
)


def _fresh(application: Application) -> Application:
    return with_contents().get(pk=application.pk)


def _tell_lead_unit(application, template="application_moved", **context):
    notify(
        lead_unit_users(application),
        template,
        {"application": application, **context},
        link=application_link(application),
    )


def _tell_staff(application, template="application_waiting_staff", **context):
    notify(
        users_with_role(Role.COMMISSION_STAFF),
        template,
        {"application": application, **context},
        link=staff_link(application),
    )


def start_preliminary(application, user, ip=None) -> Application:
    """受理: the commission accepts a submitted plan and begins 材料初审."""
    application = _fresh(application)
    check_allowed(application, "start_preliminary", user)
    with guarded(application):
        move(application, "start_preliminary", user, ip=ip)
        _tell_lead_unit(application)
        if not DistrictOpinion.objects.filter(application=application).exists():
            # The district's opinion is due now: it can be recorded only until 材料初审 ends.
            notify(
                district_users(application),
                "district_opinion_due",
                {"application": application},
                link=reverse("applications:recommend", args=[application.pk]),
            )
    return application


def save_checklist(application, user, ticked: list[str]) -> PreliminaryCheck:
    if not user.has_perm("evaluation.review", application) or application.status != Status.PRELIMINARY:
        raise ActionRefused(_("只有材料初审阶段的申报可以填写初审核对表。"))
    valid = [item for item in PreliminaryCheck.Item.values if item in set(ticked)]
    check, _created = PreliminaryCheck.objects.update_or_create(
        application=application, defaults={"ticked": valid, "checked_by": user}
    )
    return check


def pass_preliminary(application, user, ticked: list[str], comment="", ip=None) -> Application:
    """初审通过 → 专家论证. Every required attachment present and every checklist item ticked."""
    application = _fresh(application)
    check_allowed(application, "pass_preliminary", user)
    check = save_checklist(application, user, ticked)  # kept even if the move is refused
    present = {a.kind for a in application.attachments.all()}
    missing = [str(Attachment.Kind(kind).label) for kind in REQUIRED_ATTACHMENTS if kind not in present]
    if missing:
        raise ActionRefused(_("缺少必传附件，初审不能通过："), details=missing)
    if check.missing:
        raise ActionRefused(_("初审核对表还有未核对的项目："), details=check.missing)
    with guarded(application):
        move(application, "pass_preliminary", user, comment=comment, ip=ip)
        _tell_lead_unit(application, comment=comment)
    return application


def return_for_amendment(application, user, comment: str, section_comments: dict, ip=None) -> Application:
    """退回修改: the lead unit amends the plan (comments per section) and resubmits."""
    application = _fresh(application)
    check_allowed(application, "return_for_amendment", user)
    section_comments = {k: v.strip() for k, v in (section_comments or {}).items() if v and v.strip()}
    if not comment.strip() and not section_comments:
        raise ActionRefused(_("退回修改须写明修改意见。"))
    with guarded(application):
        move(
            application,
            "return_for_amendment",
            user,
            comment=comment,
            section_comments=section_comments,
            ip=ip,
        )
        _tell_lead_unit(
            application,
            "application_returned",
            comment=comment,
            section_comments=labelled_sections(section_comments),
        )
    return application


def reject(application, user, reason: str, ip=None) -> Application:
    """不予认定 at any review stage, with the reason the lead unit will read."""
    application = _fresh(application)
    check_allowed(application, "reject", user)
    if not reason.strip():
        raise ActionRefused(_("不予认定须写明理由。"))
    with guarded(application):
        move(application, "reject", user, comment=reason, ip=ip)
        close_open_panels(application)
        _tell_lead_unit(application, "application_rejected", reason=reason)
    return application


def close_open_panels(application):
    """A rejected application's running panels stop: no more scoring, no more reminders; the experts who
    had not submitted are told they need not score."""
    running = list(Panel.objects.filter(application=application, closed_at__isnull=True))
    Panel.objects.filter(pk__in=[p.pk for p in running]).update(closed_at=timezone.now())
    for panel in running:
        waiting = Assignment.objects.filter(
            panel=panel, state__in=[Assignment.State.ASSIGNED, Assignment.State.DECLARED]
        ).select_related("expert")
        notify(
            [a.expert for a in waiting],
            "panel_stopped",
            {"panel": panel, "application": application},
            link=reverse("evaluation:expert_home"),
        )


def _run_checks(name, application):
    """The declared preconditions of move ``name`` (applications.stages): refused with every problem."""
    problems = MOVE_DECLARATIONS[name].problems(application)
    if problems:
        raise ActionRefused(_("还不能进入下一阶段："), details=problems)


def close_expert_review(application, user, ip=None) -> Application:
    application = _fresh(application)
    check_allowed(application, "close_expert_review", user)
    _run_checks("close_expert_review", application)
    with guarded(application):
        panel = panels.close(application)
        move(
            application,
            "close_expert_review",
            user,
            comment=_("专家论证得分%(score)s。") % {"score": panel.result["used"]},
            ip=ip,
        )
        _tell_lead_unit(application)
    return application


def close_stage(name, application, user, ip=None) -> Application:
    """A closing move with nothing of its own: its declared checks, the move, the lead unit told."""
    application = _fresh(application)
    check_allowed(application, name, user)
    _run_checks(name, application)
    with guarded(application):
        move(application, name, user, ip=ip)
        _tell_lead_unit(application)
    return application


def close_site_inspection(application, user, ip=None) -> Application:
    return close_stage("close_site_inspection", application, user, ip=ip)


def propose(application, user, outcome: str, reason="", ip=None) -> Application:
    """综合评估 → 委主任办公会审定 with the proposed outcome (拟认定 or 培育试点); 不予认定 is ``reject``."""
    application = _fresh(application)
    check_allowed(application, "propose", user)
    if outcome not in Outcome.values:
        raise ActionRefused(_("请选择拟认定或培育试点。"))
    evaluation = ComprehensiveEvaluation.objects.filter(application=application).first()
    if evaluation is None or evaluation.decision != outcome:
        raise ActionRefused(_("请先在综合评估页面作出评估结论，提请审定的结论须与之一致。"))
    with guarded(application):
        application.outcome = outcome
        move(application, "propose", user, comment=f"{Outcome(outcome).label}。{reason}".strip("。"), ip=ip)
        _tell_lead_unit(application)
    return application


def record_leadership_meeting(
    user, *, meeting_date, title, minutes, decisions: dict, ip=None
) -> LeadershipMeeting:
    """Record one 委主任办公会 and its decision on each application in the batch, all or nothing.

    ``decisions`` maps application id to (decision, comment). Approved applications wait for publicity;
    rejected ones are closed; deferred ones go back to 综合评估.
    """
    if not user.has_perm("evaluation.record_leadership"):
        raise ActionRefused(_("只有市经济信息委工作人员可以记录委主任办公会审定结果。"))
    if not decisions:
        raise ActionRefused(_("请至少选择一个提请审定的申报。"))
    try:
        decisions = {int(pk): value for pk, value in decisions.items()}
    except (TypeError, ValueError):
        raise ActionRefused(_("审定结果中有无效的申报。")) from None
    unknown = [
        str(value[0]) for value in decisions.values() if value[0] not in LeadershipDecision.Decision.values
    ]
    if unknown:
        raise ActionRefused(_("审定结果无效：%(values)s") % {"values": "、".join(unknown)})
    applications = {a.pk: a for a in with_contents().filter(pk__in=list(decisions))}
    waiting = set(waiting_for_leadership().filter(pk__in=list(decisions)).values_list("pk", flat=True))
    not_waiting = [str(a) for a in applications.values() if a.pk not in waiting]
    if not_waiting or len(applications) != len(decisions):
        raise ActionRefused(
            _("以下申报不在“委主任办公会审定”阶段或已经审定，请刷新后重新选择："), details=not_waiting
        )
    if meeting_date > timezone.localdate():
        raise ActionRefused(
            _("会议日期%(date)s晚于今天：只能记录已经召开的会议。") % {"date": f"{meeting_date:%Y-%m-%d}"}
        )
    proposed_later = [
        _("%(name)s于%(date)s提请审定")
        % {"name": a, "date": f"{timezone.localdate(a.stage_entered_at):%Y-%m-%d}"}
        for a in applications.values()
        if a.stage_entered_at and meeting_date < timezone.localdate(a.stage_entered_at)
    ]
    if proposed_later:
        raise ActionRefused(
            _("会议日期%(date)s早于申报提请审定的日期，这次会议不能审定它们：")
            % {"date": f"{meeting_date:%Y-%m-%d}"},
            details=proposed_later,
        )
    excluded = [
        refusal
        for pk, (decision, _comment) in decisions.items()
        if decision == LeadershipDecision.Decision.APPROVE
        and (refusal := exclusion_refusal(applications[pk], _("审定同意")))
    ]
    if excluded:
        raise ActionRefused(_("以下申报不能审定同意："), details=excluded)
    meeting = LeadershipMeeting(
        meeting_date=meeting_date, title=title, recorded_by=user, minutes_name=minutes.name
    )
    meeting.minutes.save(minutes.name, minutes, save=False)
    try:
        _record_decisions(meeting, applications, decisions, user, ip)
    except BaseException:
        meeting.minutes.storage.delete(meeting.minutes.name)  # a rolled-back meeting leaves no file behind
        raise
    return meeting


def _record_decisions(meeting, applications, decisions, user, ip):
    with transaction.atomic():
        meeting.save()
        for pk, (decision, comment) in decisions.items():
            application = applications[pk]
            LeadershipDecision.objects.create(
                meeting=meeting, application=application, decision=decision, comment=comment
            )
            note = f"{meeting}：{LeadershipDecision.Decision(decision).label}。{comment}".strip("。")
            with guarded(application):
                if decision == LeadershipDecision.Decision.APPROVE:
                    add_history(application, "leadership_approval", user, comment=note, ip=ip)
                    _tell_staff(application, "application_ready_for_publicity")
                    _tell_lead_unit(
                        application, stage=gettext_lazy("委主任办公会审定通过，待公示"), comment=comment
                    )
                elif decision == LeadershipDecision.Decision.REJECT:
                    check_allowed(application, "reject", user)
                    move(application, "reject", user, comment=note, ip=ip)
                    close_open_panels(application)
                    _tell_lead_unit(application, "application_rejected", reason=comment or note)
                else:
                    check_allowed(application, "send_back_to_comprehensive", user)
                    move(application, "send_back_to_comprehensive", user, comment=note, ip=ip)
                    _tell_lead_unit(application, comment=comment)


def leadership_approved(application) -> bool:
    """Whether 委主任办公会 approved this application since it last entered the stage (for opening
    publicity); a decision of an earlier pass through the stage does not count."""
    return (
        application.status == Status.LEADERSHIP
        and LeadershipDecision.objects.of_current_pass().approvals().filter(application=application).exists()
    )


def waiting_for_leadership():
    """Applications in 委主任办公会审定 without a decision of this pass (the leadership page's list)."""
    return Application.objects.filter(status=Status.LEADERSHIP).exclude(
        pk__in=LeadershipDecision.objects.of_current_pass().values("application")
    )


def approved_for_publicity():
    """Applications approved by 委主任办公会 in this pass through the stage, waiting for publicity (the
    publish page's list)."""
    return Application.objects.filter(
        status=Status.LEADERSHIP,
        pk__in=LeadershipDecision.objects.of_current_pass().approvals().values("application"),
    )


MOVE_DECLARATIONS = {m.name: m for m in stages.all_moves()}
# The staff moves this module makes, by transition name (each callable: the declared service).
MOVES = {
    m.name: m
    for m in stages.all_moves()
    if m.on_move_page and (not m.service or m.service.startswith(__name__ + "."))
}

"""The scoring engine: panels, conflict-of-interest rules, score sheets, the aggregate.

One engine serves every panel: the 专家论证 of an application here, the three-year assessment later.
"""

import statistics
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify, users_with_role
from accounts.roles import Role
from applications.models import Application, Policy, Status
from applications.services import ActionRefused, add_history
from evaluation.models import (
    Assignment,
    ExpertProfile,
    Panel,
    PanelDeadlineChange,
    PastEmployer,
    Score,
    ScoreSheet,
    ScoreSheetTemplate,
)
from evaluation.tasks import REMIND_BEFORE

TWO = Decimal("0.01")


def _q(value) -> Decimal:
    return Decimal(value).quantize(TWO, rounding=ROUND_HALF_UP)


# --- conflicts -------------------------------------------------------------------------------------------


def conflict_reasons(expert, application: Application) -> list[str]:
    """Why this expert may not sit on a panel for this application (empty list: no conflict found).

    The rule the portal can check by itself: the expert's employer is the lead unit, the host company or a
    member unit (compared by unified social credit code). The rest is the expert's own declaration.
    """
    profile = getattr(expert, "expert_profile", None)
    if profile is None:
        return [_("%(name)s没有专家档案。") % {"name": expert}]
    employer = profile.employer
    reasons = []
    if employer.pk == application.lead_unit_id or employer.credit_code == application.lead_unit.credit_code:
        reasons.append(_("%(name)s的工作单位是牵头单位%(unit)s。") % {"name": expert, "unit": employer})
    if application.host_credit_code and employer.credit_code == application.host_credit_code:
        reasons.append(_("%(name)s的工作单位是依托公司%(unit)s。") % {"name": expert, "unit": employer})
    for member in application.members.all():
        if member.credit_code == employer.credit_code:
            reasons.append(
                _("%(name)s的工作单位是共建单位%(unit)s。") % {"name": expert, "unit": member.name}
            )
    codes = set(_conflict_codes(application))
    for past in profile.past_employers.filter(ended_on__gte=lookback_start()).select_related("organisation"):
        if past.organisation_id == application.lead_unit_id or past.organisation.credit_code in codes:
            reasons.append(
                _(
                    "%(name)s三年内（至%(date)s）曾在%(unit)s工作，该单位是本申报的牵头单位、依托公司或共建单位。"
                )
                % {"name": expert, "date": past.ended_on.isoformat(), "unit": past.organisation}
            )
    return reasons


CONFLICT_LOOKBACK_YEARS = 3  # DOMAIN: "within 3 years, they worked for ... the lead unit or a member unit"


def lookback_start(today=None):
    """The first day of the three years the conflict rules look back over."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - CONFLICT_LOOKBACK_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - CONFLICT_LOOKBACK_YEARS, day=28)


def _conflict_codes(application: Application) -> list[str]:
    codes = [m.credit_code for m in application.members.all()] + [application.lead_unit.credit_code]
    if application.host_credit_code:
        codes.append(application.host_credit_code)
    return codes


def suggest_experts(application: Application, panel: Panel | None = None):
    """Active experts without a conflict, those knowing the field first, then the least loaded.

    Each carries ``open_assignments`` (load) and ``knows_field``; one query whatever the pool size.
    """
    already = panel.assignments.values_list("expert_id", flat=True) if panel else []
    codes = _conflict_codes(application)
    recent_conflict = PastEmployer.objects.filter(
        profile=OuterRef("pk"), ended_on__gte=lookback_start()
    ).filter(Q(organisation_id=application.lead_unit_id) | Q(organisation__credit_code__in=codes))
    return (
        ExpertProfile.objects.filter(is_active=True, user__is_active=True, user__groups__name=Role.EXPERT)
        .exclude(employer_id=application.lead_unit_id)
        .exclude(employer__credit_code__in=codes)
        .exclude(Exists(recent_conflict))
        .exclude(user_id__in=already)
        .select_related("user", "employer")
        .annotate(
            open_assignments=Count(
                "user__assignments",
                filter=Q(user__assignments__state__in=[Assignment.State.ASSIGNED, Assignment.State.DECLARED]),
                distinct=True,
            ),
            knows_field=Count("fields", filter=Q(fields=application.field_id), distinct=True),
        )
        .order_by("-knows_field", "open_assignments", "user__full_name")
    )


# --- panels and assignments -------------------------------------------------------------------------------


def _require_staff(user, application):
    if not user.has_perm("evaluation.review", application):
        raise ActionRefused(_("只有市经济信息委工作人员可以组织专家评审。"))


def create_panel(application, user, *, deadline, kind=ScoreSheetTemplate.Kind.EXPERT_REVIEW, template=None):
    _require_staff(user, application)
    if kind == ScoreSheetTemplate.Kind.EXPERT_REVIEW and application.status != Status.EXPERT_REVIEW:
        raise ActionRefused(
            _("该申报当前处于“%(status)s”阶段，不能组建专家论证组。")
            % {"status": application.get_status_display()}
        )
    if deadline <= timezone.now():
        raise ActionRefused(_("评分截止时间应晚于现在。"))
    template = template or ScoreSheetTemplate.objects.filter(kind=kind, is_default=True).first()
    if template is None:
        raise ActionRefused(_("没有可用的评分表，请先在后台设置默认评分表。"))
    if Panel.objects.filter(application=application, kind=kind, closed_at__isnull=True).exists():
        raise ActionRefused(_("该申报已有进行中的专家组。"))
    with transaction.atomic():
        panel = Panel.objects.create(
            application=application, kind=kind, template=template, deadline=deadline, created_by=user
        )
        add_history(
            application,
            "panel_created",
            user,
            comment=_("评分截止：%(deadline)s") % {"deadline": _when(deadline)},
        )
    return panel


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def assign(panel: Panel, user, experts) -> list[Assignment]:
    """Put experts on a panel. Refuses the whole batch if any expert is in conflict, inactive or repeated."""
    application = (
        Application.objects.select_related("lead_unit")
        .prefetch_related("members")
        .get(pk=panel.application_id)
    )
    _require_staff(user, application)
    if panel.closed_at:
        raise ActionRefused(_("专家组已结束，不能再分配专家。"))
    problems = []
    if not experts:
        raise ActionRefused(_("请选择要分配的专家。"))
    on_panel = set(panel.assignments.values_list("expert_id", flat=True))
    seen = set()
    for expert in experts:
        if expert.pk in seen:
            problems.append(_("%(name)s重复选择。") % {"name": expert})
            continue
        seen.add(expert.pk)
        if not expert.has_role(Role.EXPERT) or not getattr(expert, "expert_profile", None):
            problems.append(_("%(name)s不是专家库中的专家。") % {"name": expert})
        elif not expert.expert_profile.is_active or not expert.is_active:
            problems.append(_("%(name)s当前不可用。") % {"name": expert})
        elif expert.pk in on_panel:
            problems.append(_("%(name)s已在专家组中。") % {"name": expert})
        else:
            problems.extend(conflict_reasons(expert, application))
    if problems:
        raise ActionRefused(_("以下专家不能分配："), details=problems)
    created = []
    with transaction.atomic():
        for expert in experts:
            created.append(Assignment.objects.create(panel=panel, expert=expert, assigned_by=user))
        add_history(
            application, "experts_assigned", user, comment="、".join(str(e) for e in experts), internal=True
        )
        link = reverse("evaluation:expert_home")
        notify(experts, "expert_assigned", {"panel": panel, "application": application}, link=link)
    return created


def declare(assignment: Assignment, user, answers: dict, ip=None) -> Assignment:
    """The expert's conflict-of-interest declaration. Any "yes" withdraws them; staff are told to replace."""
    if assignment.expert_id != user.pk:
        raise ActionRefused(_("只能由被分配的专家本人声明。"))
    if assignment.state != Assignment.State.ASSIGNED:
        raise ActionRefused(_("已经作过回避声明。"))
    missing = [label for key, label in Assignment.CONFLICT_QUESTIONS.items() if key not in answers]
    if missing:
        raise ActionRefused(_("请逐项回答回避声明。"), details=[str(m) for m in missing])
    conflict = any(answers[key] for key in Assignment.CONFLICT_QUESTIONS)
    with transaction.atomic():
        locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.state != Assignment.State.ASSIGNED:
            raise ActionRefused(_("已经作过回避声明。"))
        locked.declaration = {key: bool(answers[key]) for key in Assignment.CONFLICT_QUESTIONS}
        locked.declared_at = timezone.now()
        locked.state = Assignment.State.WITHDRAWN if conflict else Assignment.State.DECLARED
        locked.save(update_fields=["declaration", "declared_at", "state"])
        application = locked.panel.application
        if conflict:
            add_history(
                application,
                "expert_withdrawn",
                user,
                comment=_("专家声明存在回避情形，已回避。"),
                ip=ip,
                internal=True,
            )
            notify(
                users_with_role(Role.COMMISSION_STAFF),
                "expert_withdrawn",
                {"assignment": locked, "application": application},
                link=staff_panel_link(locked.panel),
            )
        else:
            sheet = ScoreSheet.objects.create(assignment=locked)
            Score.objects.bulk_create(
                Score(sheet=sheet, criterion=c) for c in locked.panel.template.criteria.all()
            )
    return locked


def save_sheet(assignment: Assignment, user, scores: dict, opinion: str, submit: bool = False) -> ScoreSheet:
    """Save the expert's scores (a draft, or the final submission, which locks the sheet).

    ``scores`` maps criterion id to (points or None, comment). Points outside 0..max are refused.
    """
    if assignment.expert_id != user.pk:
        raise ActionRefused(_("只能由被分配的专家本人评分。"))
    with transaction.atomic():
        locked = Assignment.objects.select_for_update().select_related("panel").get(pk=assignment.pk)
        if locked.state == Assignment.State.SUBMITTED:
            raise ActionRefused(_("评分已提交，不能再修改。"))
        if locked.state != Assignment.State.DECLARED:
            raise ActionRefused(_("请先完成回避声明。"))
        if locked.panel.closed_at:
            raise ActionRefused(_("专家组已结束评分。"))
        if submit and timezone.now() >= locked.panel.deadline:
            raise ActionRefused(deadline_passed_message(locked.panel))
        sheet = locked.sheet
        rows = list(sheet.scores.select_related("criterion"))
        problems = []
        for row in rows:
            points, comment = scores.get(row.criterion_id, (None, ""))
            if points is not None and Decimal(points) != Decimal(points).quantize(Decimal("0.1")):
                problems.append(_("“%(name)s”的得分最多保留一位小数。") % {"name": row.criterion.name})
            elif points is not None and not (0 <= points <= row.criterion.max_points):
                problems.append(
                    _("“%(name)s”的得分应在0到%(max)s之间。")
                    % {"name": row.criterion.name, "max": row.criterion.max_points}
                )
            row.points, row.comment = points, comment or ""
        if submit:
            problems.extend(
                _("“%(name)s”尚未评分。") % {"name": row.criterion.name} for row in rows if row.points is None
            )
        if problems:
            raise ActionRefused(_("评分有误，未保存："), details=problems)
        Score.objects.bulk_update(rows, ["points", "comment"])
        sheet.opinion = opinion
        sheet.total = sum((r.points for r in rows if r.points is not None), Decimal(0)) if rows else None
        if submit:
            sheet.submitted_at = timezone.now()
            locked.state = Assignment.State.SUBMITTED
            locked.save(update_fields=["state"])
        sheet.save()
        if (
            submit
            and not locked.panel.assignments.filter(
                state__in=[Assignment.State.ASSIGNED, Assignment.State.DECLARED]
            ).exists()
        ):
            notify(
                users_with_role(Role.COMMISSION_STAFF),
                "panel_complete",
                {"panel": locked.panel, "application": locked.panel.application},
                link=staff_panel_link(locked.panel),
            )
    return sheet


def staff_panel_link(panel: Panel) -> str:
    """Where staff handle a panel: the application's expert-review page, or the page of the assessment that
    owns an assessment panel (a higher app's page, reached by URL name and relation name only)."""
    if panel.kind == ScoreSheetTemplate.Kind.ASSESSMENT:
        assessment = getattr(panel, "assessment", None)
        if assessment is not None:
            return reverse("reports:assessment", args=[assessment.pk])
    return reverse("evaluation:panel", args=[panel.application_id])


def tell_staff_of_overdue_panels(now=None) -> int:
    """Beat: once a running panel's deadline has passed with sheets missing, staff are told (once per
    deadline: an extension clears the bookkeeping) so they extend it or replace the experts."""
    now = now or timezone.now()
    due = (
        Panel.objects.filter(closed_at__isnull=True, overdue_told_at__isnull=True, deadline__lte=now)
        .filter(assignments__state__in=[Assignment.State.ASSIGNED, Assignment.State.DECLARED])
        .distinct()
        .select_related("application")
    )
    told = 0
    for panel in due:
        with transaction.atomic():
            if not Panel.objects.filter(pk=panel.pk, overdue_told_at__isnull=True).update(
                overdue_told_at=now
            ):
                continue
            waiting = [
                str(a.expert)
                for a in panel.assignments.filter(
                    state__in=[Assignment.State.ASSIGNED, Assignment.State.DECLARED]
                ).select_related("expert")
            ]
            notify(
                users_with_role(Role.COMMISSION_STAFF),
                "panel_overdue",
                {"panel": panel, "application": panel.application, "waiting": "、".join(waiting)},
                link=staff_panel_link(panel),
            )
            told += 1
    return told


def deadline_passed_message(panel: Panel) -> str:
    return _("评分已于%(deadline)s截止，不能再提交。如需延期，请联系市经济信息委工作人员。") % {
        "deadline": _when(panel.deadline)
    }


def extend_deadline(panel: Panel, user, *, deadline, reason: str, ip=None) -> Panel:
    """Staff move a running panel's deadline later, with a reason: recorded (``PanelDeadlineChange`` and
    the application's history), the experts who have not submitted are told, and their reminder follows the
    new date (sent again before it, unless the new date is already within the reminder's lead time)."""
    _require_staff(user, panel.application)
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(_("延长评分截止时间须写明理由。"))
    now = timezone.now()
    with transaction.atomic():
        locked = Panel.objects.select_for_update().select_related("application").get(pk=panel.pk)
        if locked.closed_at:
            raise ActionRefused(_("专家组已结束评分，不能延长截止时间。"))
        if deadline <= now:
            raise ActionRefused(_("新的评分截止时间应晚于现在。"))
        if deadline <= locked.deadline:
            raise ActionRefused(
                _("新的评分截止时间应晚于原截止时间%(deadline)s。") % {"deadline": _when(locked.deadline)}
            )
        previous = locked.deadline
        locked.deadline = deadline
        locked.overdue_told_at = None  # staff are told again if the new deadline passes too
        locked.save(update_fields=["deadline", "overdue_told_at"])
        PanelDeadlineChange.objects.create(
            panel=locked, previous_deadline=previous, new_deadline=deadline, reason=reason, changed_by=user
        )
        add_history(
            locked.application,
            "panel_deadline_extended",
            user,
            comment=_("%(kind)s评分截止时间由%(old)s延长至%(new)s。理由：%(reason)s")
            % {
                "kind": locked.get_kind_display(),
                "old": _when(previous),
                "new": _when(deadline),
                "reason": reason,
            },
            ip=ip,
            internal=True,
        )
        waiting = list(
            locked.assignments.filter(
                state__in=[Assignment.State.ASSIGNED, Assignment.State.DECLARED]
            ).select_related("expert")
        )
        # The reminder follows the new date: sent again before it, unless it is near already (this notice
        # tells them now).
        reminded_at = None if deadline - REMIND_BEFORE > now else now
        for assignment in waiting:
            assignment.reminded_at = reminded_at
            assignment.save(update_fields=["reminded_at"])
        notify(
            [a.expert for a in waiting],
            "panel_deadline_extended",
            {"panel": locked, "application": locked.application, "previous": previous, "reason": reason},
            link=reverse("evaluation:expert_home"),
        )
    return locked


# --- the aggregate ----------------------------------------------------------------------------------------


def trimmed(values: list[Decimal]) -> list[Decimal]:
    """Drop one highest and one lowest value (one each, even when tied)."""
    ordered = sorted(values)
    return ordered[1:-1]


def aggregate(panel: Panel, policy: Policy | None = None) -> dict:
    """Totals of submitted sheets: count, mean, trimmed mean when the policy asks and there are at least
    its ``trimmed_mean_min_sheets`` (default 5), the score used, per-criterion means, and the spread (min,
    max, sample standard deviation)."""
    policy = policy or panel.application.policy or Policy.current()
    sheets = [a.sheet for a in panel.assignments.all() if a.state == Assignment.State.SUBMITTED]
    totals = [s.total for s in sheets]
    result = {
        "count": len(totals),
        "mean": None,
        "trimmed_mean": None,
        "used": None,
        "method": "mean",
        "min": None,
        "max": None,
        "stdev": None,
        "criteria": [],
    }
    if not totals:
        return result
    result["mean"] = _q(sum(totals) / len(totals))
    if (
        policy.score_aggregate == Policy.Aggregate.TRIMMED_MEAN
        and len(totals) >= policy.trimmed_mean_min_sheets
    ):
        kept = trimmed(totals)
        result["trimmed_mean"] = _q(sum(kept) / len(kept))
        result["used"], result["method"] = result["trimmed_mean"], "trimmed_mean"
    else:
        result["used"] = result["mean"]
    result["min"], result["max"] = min(totals), max(totals)
    result["stdev"] = _q(statistics.stdev(totals)) if len(totals) > 1 else Decimal("0.00")
    for criterion in panel.template.criteria.all():
        points = [sc.points for s in sheets for sc in s.scores.all() if sc.criterion_id == criterion.pk]
        result["criteria"].append(
            {
                "name": criterion.name,
                "max_points": criterion.max_points,
                "mean": _q(sum(points) / len(points)) if points else None,
                "min": min(points) if points else None,
                "max": max(points) if points else None,
            }
        )
    return result


def panel_for_view(pk):
    """A panel with everything its staff page reads, in a fixed number of queries."""
    return (
        Panel.objects.select_related("application__lead_unit", "application__policy", "template")
        .prefetch_related(
            "template__criteria",
            Prefetch(
                "assignments",
                queryset=Assignment.objects.select_related("expert__expert_profile__employer", "sheet")
                .prefetch_related("sheet__scores")
                .order_by("assigned_at", "pk"),
            ),
        )
        .get(pk=pk)
    )


def panel_problems(panel: Panel, policy: Policy) -> list[str]:
    """Why a panel cannot close yet (empty: it can): an odd number, at least the policy's minimum, of
    experts who did not withdraw, and every one of them submitted."""
    active = sorted((a for a in panel.assignments.all() if a.is_active), key=lambda a: (a.assigned_at, a.pk))
    problems = []
    if len(active) < policy.min_panel_size or len(active) % 2 == 0:
        problems.append(
            _("有效专家%(n)d人，专家组应为不少于%(min)d人的奇数。")
            % {"n": len(active), "min": policy.min_panel_size}
        )
    waiting = [str(a.expert) for a in active if a.state != Assignment.State.SUBMITTED]
    if waiting:
        problems.append(_("以下专家尚未提交评分：%(names)s") % {"names": "、".join(waiting)})
    return problems


def closing_problems(application: Application) -> list[str]:
    """Why the expert-review panel of this application cannot close yet (empty: it can)."""
    panel = application.panels.filter(kind=ScoreSheetTemplate.Kind.EXPERT_REVIEW).first()
    if panel is None:
        return [_("尚未组建专家论证组。")]
    return panel_problems(panel, application.policy or Policy.current())


def close_panel(panel: Panel) -> Panel:
    """Store the aggregate on the panel and close it (inside the caller's transaction)."""
    panel = panel_for_view(panel.pk)
    panel.result = {
        k: (str(v) if isinstance(v, Decimal) else v) for k, v in aggregate(panel).items() if k != "criteria"
    }
    panel.closed_at = timezone.now()
    panel.save(update_fields=["result", "closed_at"])
    return panel


def close(application: Application) -> Panel:
    """Close the expert-review panel of an application."""
    return close_panel(application.panels.get(kind=ScoreSheetTemplate.Kind.EXPERT_REVIEW))

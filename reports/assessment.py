"""考核评估: every three years from recognition, scored by a panel with the shared scoring engine.

Grades by the policy's bands: 优秀 ≥ excellent, 良好 ≥ good, 合格 ≥ pass, else 不合格. 合格 or better: support
continues. 不合格: the centre (and its lead unit's new applications) is out of the support scope until
``policy.exclusion_years`` after the staff's confirmation.
"""

from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify, users_with_role
from accounts.roles import Role
from applications.models import Policy
from applications.services import ActionRefused, lead_unit_users
from centres import services as centre_services
from centres.models import Centre
from evaluation import panels
from evaluation.models import Assignment, ScoreSheetTemplate
from reports.models import AnnualSummary, Assessment


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def grade_for(total: Decimal, policy: Policy) -> str:
    if total >= policy.grade_excellent_min:
        return Assessment.Grade.EXCELLENT
    if total >= policy.grade_good_min:
        return Assessment.Grade.GOOD
    if total >= policy.grade_pass_min:
        return Assessment.Grade.PASS
    return Assessment.Grade.FAIL


def _create(centre: Centre, cycle: int, due_on: date) -> Assessment | None:
    """Create the assessment of one cycle once; a second call (or a racing worker) gets None."""
    try:
        with transaction.atomic():
            assessment = Assessment.objects.create(centre=centre, cycle=cycle, due_on=due_on)
    except IntegrityError:
        return None
    assessment.summaries.set(
        AnnualSummary.objects.filter(
            centre=centre,
            reporting_year__year__in=period_years(assessment),
            state=AnnualSummary.State.ACCEPTED,
        )
    )
    notify(
        users_with_role(Role.COMMISSION_STAFF),
        "assessment_due",
        {"centre": centre, "assessment": assessment},
        link=reverse("reports:assessment", args=[assessment.pk]),
    )
    notify(
        centre_services.lead_unit_users_of(centre),
        "assessment_opened",
        {"centre": centre, "assessment": assessment},
        link=reverse("reports:centre", args=[centre.pk]),
    )
    return assessment


def period_years(assessment: Assessment, policy: Policy | None = None) -> range:
    """The reporting years an assessment covers: the policy's interval of years before its due year."""
    interval = (policy or Policy.current()).assessment_interval_years
    return range(assessment.due_on.year - interval, assessment.due_on.year)


def attach_accepted_summary(summary: AnnualSummary) -> int:
    """A summary accepted after its centre's assessment opened joins that (still open) assessment, if its
    year is in the assessed period. Called by ``summaries.accept_summary`` in its transaction."""
    attached = 0
    for assessment in Assessment.objects.filter(
        centre_id=summary.centre_id, confirmed_at__isnull=True, closed_at__isnull=True
    ):
        if summary.reporting_year.year in period_years(assessment):
            assessment.summaries.add(summary)
            attached += 1
    return attached


def open_due_assessments(today: date | None = None) -> int:
    """Beat: open the assessment of every centre whose next three-year mark has come; once per cycle."""
    today = today or timezone.localdate()
    policy = Policy.current()
    interval = policy.assessment_interval_years
    opened = 0
    latest = dict(
        Assessment.objects.order_by()
        .values("centre")
        .annotate(last=Max("cycle"))
        .values_list("centre", "last")
    )
    for centre in Centre.objects.exclude(status=Centre.Status.WITHDRAWN).only("pk", "name", "award_date"):
        cycle = (latest.get(centre.pk) or 0) + 1
        due_on = _add_years(centre.award_date, interval * cycle)
        while due_on <= today:
            if _create(centre, cycle, due_on):
                opened += 1
            cycle += 1
            due_on = _add_years(centre.award_date, interval * cycle)
    return opened


def end_expired_exclusions(today: date | None = None) -> int:
    """Beat: a centre whose exclusion period has ended is back in the support scope."""
    today = today or timezone.localdate()
    ended = list(Centre.objects.filter(status=Centre.Status.EXCLUDED, excluded_until__lte=today))
    for centre in ended:
        with transaction.atomic():
            Centre.objects.filter(pk=centre.pk).update(status=Centre.Status.ACTIVE)
            centre_services.add_event(centre, "exclusion_ended", None, _("暂停支持期满，恢复正常。"))
            notify(
                centre_services.lead_unit_users_of(centre),
                "centre_exclusion_ended",
                {"centre": centre},
                link=reverse("reports:centre", args=[centre.pk]),
            )
    return len(ended)


def withdraw_title(centre: Centre, user, reason: str) -> Centre:
    """撤销称号 (``centres.services.withdraw_title`` tells the lead unit and the district), and what the
    centre no longer owes: its open assessment is closed (not graded), its unfiled summaries are not due."""
    with transaction.atomic():
        centre = centre_services.withdraw_title(centre, user, reason)
        now = timezone.now()
        for assessment in Assessment.objects.filter(
            centre=centre, confirmed_at__isnull=True, closed_at__isnull=True
        ).select_related("panel"):
            assessment.closed_at, assessment.closed_reason = now, _("创新中心已撤销称号，考核评估终止。")
            assessment.save(update_fields=["closed_at", "closed_reason"])
            panel = assessment.panel
            if panel is not None and panel.closed_at is None:
                # Experts still scoring stop (the sheet refuses a closed panel) and are told why.
                panel.closed_at = now
                panel.save(update_fields=["closed_at"])
                waiting = [
                    a.expert
                    for a in panel.assignments.select_related("expert").filter(
                        state__in=(Assignment.State.ASSIGNED, Assignment.State.DECLARED)
                    )
                ]
                notify(
                    waiting,
                    "assessment_closed",
                    {"centre": centre, "assessment": assessment},
                    link=reverse("evaluation:expert_home"),
                )
    return centre


def _refuse_closed(assessment: Assessment) -> None:
    if assessment.closed_at:
        raise ActionRefused(assessment.closed_reason or _("该考核评估已终止。"))


def open_by_staff(centre: Centre, user) -> Assessment:
    """Staff may open the next cycle's assessment before its date."""
    if not user.has_perm("reports.manage_assessments"):
        raise ActionRefused(_("只有市经济信息委工作人员可以启动考核评估。"))
    if centre.status == Centre.Status.WITHDRAWN:
        raise ActionRefused(_("该创新中心已撤销称号。"))
    if centre.assessments.filter(confirmed_at__isnull=True, closed_at__isnull=True).exists():
        raise ActionRefused(_("该创新中心还有未确认结果的考核评估，请先完成。"))
    cycle = (centre.assessments.order_by("-cycle").values_list("cycle", flat=True).first() or 0) + 1
    assessment = _create(centre, cycle, timezone.localdate())
    if assessment is None:
        raise ActionRefused(_("该周期的考核评估已经启动。"))
    return assessment


def start_panel(assessment: Assessment, user, *, deadline) -> Assessment:
    _refuse_closed(assessment)
    if assessment.panel_id:
        raise ActionRefused(_("该考核评估已有专家组。"))
    with transaction.atomic():
        panel = panels.create_panel(
            assessment.centre.application, user, deadline=deadline, kind=ScoreSheetTemplate.Kind.ASSESSMENT
        )
        assessment.panel = panel
        assessment.save(update_fields=["panel"])
    return assessment


def score(assessment: Assessment, user) -> Assessment:
    """Close the panel and compute the total and the grade (staff then confirm)."""
    if not user.has_perm("reports.manage_assessments"):
        raise ActionRefused(_("只有市经济信息委工作人员可以汇总考核评分。"))
    _refuse_closed(assessment)
    if assessment.panel_id is None:
        raise ActionRefused(_("尚未组建考核专家组。"))
    if assessment.confirmed_at:
        raise ActionRefused(_("考核结果已确认。"))
    policy = Policy.current()
    panel = panels.panel_for_view(assessment.panel_id)
    if panel.closed_at is None:
        problems = panels.panel_problems(panel, policy)
        if problems:
            raise ActionRefused(_("专家组还不能结束："), details=problems)
    with transaction.atomic():
        if panel.closed_at is None:
            panel = panels.close_panel(panel)
        assessment.total = Decimal(panel.result["used"])
        assessment.grade = grade_for(assessment.total, policy)
        assessment.save(update_fields=["total", "grade"])
    return assessment


def confirm(assessment: Assessment, user) -> Assessment:
    """Staff confirm the grade. 不合格 excludes the centre and its lead unit from support for some years."""
    if not user.has_perm("reports.manage_assessments"):
        raise ActionRefused(_("只有市经济信息委工作人员可以确认考核结果。"))
    _refuse_closed(assessment)
    if not assessment.grade:
        raise ActionRefused(_("尚未汇总考核评分。"))
    if assessment.confirmed_at:
        raise ActionRefused(_("考核结果已确认。"))
    policy = Policy.current()
    today = timezone.localdate()
    with transaction.atomic():
        assessment.confirmed_by, assessment.confirmed_at = user, timezone.now()
        assessment.save(update_fields=["confirmed_by", "confirmed_at"])
        centre = assessment.centre
        label = assessment.get_grade_display()
        if assessment.grade == Assessment.Grade.FAIL:
            centre_services.exclude(
                centre,
                user,
                decided_on=today,
                years=policy.exclusion_years,
                reason=_("第%(n)d轮考核评估不合格（%(total)s分）")
                % {"n": assessment.cycle, "total": assessment.total},
            )
        else:
            centre_services.add_event(
                centre,
                "assessment",
                user,
                _("第%(n)d轮考核评估%(grade)s（%(total)s分），继续给予支持")
                % {"n": assessment.cycle, "grade": label, "total": assessment.total},
            )
        notify(
            lead_unit_users(centre.application),
            "assessment_confirmed",
            {"centre": centre, "assessment": assessment},
            link=reverse("reports:centre", args=[centre.pk]),
        )
    return assessment


def missing_summaries(centre: Centre, today: date | None = None) -> list[int]:
    """Reporting years whose summary this centre never submitted (grounds for title withdrawal)."""
    today = today or timezone.localdate()
    return list(
        AnnualSummary.objects.filter(centre=centre, reporting_year__due_date__lt=today)
        .exclude(state__in=[AnnualSummary.State.SUBMITTED, AnnualSummary.State.ACCEPTED])
        .values_list("reporting_year__year", flat=True)
    )

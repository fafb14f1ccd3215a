"""Demo data after recognition: a reporting year with an accepted and an overdue summary, an assessment
that came due, a national nomination. Idempotent. Award dates of two demo centres are moved back (demo
only) so that they have years to report on and a three-year mark behind them."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from centres import services as centre_services
from centres.models import Centre, Nomination
from evaluation.models import Approval
from reports import summaries
from reports.assessment import open_due_assessments
from reports.models import AnnualSummary, ReportingYear

BACKDATED = {
    "重庆市物联网创新中心": date(2022, 6, 30),
    "重庆市虚拟现实创新中心": date(2024, 5, 20),
    "重庆市能源及环保装备创新中心": date(2021, 3, 31),  # failed its assessment: excluded
    "重庆市现代航空装备创新中心": date(2021, 9, 30),  # never reported: title withdrawn
}
FAILING = "重庆市能源及环保装备创新中心"
SILENT = "重庆市现代航空装备创新中心"
FIGURES = {
    "revenue_transfer": Decimal("820.00"),
    "revenue_incubation": Decimal("160.00"),
    "revenue_contract_rd": Decimal("1350.00"),
    "revenue_testing": Decimal("430.00"),
    "revenue_public_service": Decimal("210.00"),
    "total_cost": Decimal("5200.00"),
    "rd_expense": Decimal("1900.00"),
    "employees": 168,
    "rd_staff": 92,
    "projects_national": 2,
    "projects_municipal": 5,
    "patents_filed": 37,
    "patents_granted": 12,
    "standards_led": 2,
    "standards_joined": 4,
    "technologies_transferred": 9,
    "firms_incubated": 3,
    "talents_recruited": 11,
    "members": 26,
    "platforms": 7,
    "work_summary": "建成车联网测试验证平台，开展共性技术攻关5项。",
    "problems": "高端人才仍然不足。",
    "next_year_plan": "扩大测试验证服务，新增成员单位5家。",
}


@transaction.atomic
def seed(users) -> None:
    staff = users[Role.COMMISSION_STAFF]
    for name, award_date in BACKDATED.items():
        # Approved and awarded on the back-dated day (an award is never before its approval).
        backdated = Centre.objects.filter(name=name, award_date__gt=award_date)
        Approval.objects.filter(application__centre__in=backdated).update(document_date=award_date)
        backdated.update(award_date=award_date, approval_date=award_date)
    year = timezone.localdate().year - 1
    if (
        not ReportingYear.objects.filter(year=year).exists()
        and Centre.objects.filter(name__in=BACKDATED).exists()
    ):
        summaries.open_year(staff, year)
        done = AnnualSummary.objects.filter(
            reporting_year__year=year, centre__name="重庆市物联网创新中心"
        ).first()
        if done is not None:
            AnnualSummary.objects.filter(pk=done.pk).update(**FIGURES)
            lead = done.centre.application.created_by
            summaries.submit_summary(AnnualSummary.objects.get(pk=done.pk), lead)
            summaries.accept_summary(AnnualSummary.objects.get(pk=done.pk), staff)
    open_due_assessments()
    _fail_assessment(staff)
    silent = Centre.objects.filter(name=SILENT).exclude(status=Centre.Status.WITHDRAWN).first()
    if silent is not None:
        centre_services.withdraw_title(silent, staff, "连续未报送年度工作总结，撤销称号（示范）。")
    centre = Centre.objects.filter(name="重庆市物联网创新中心").first()
    if centre is not None and not centre.nominations.exists():
        Nomination.objects.create(
            kind=Nomination.Kind.TO_NATIONAL,
            centre=centre,
            name=centre.name,
            nominated_on=timezone.localdate(),
            note="推荐争创国家智能网联汽车创新中心（示范）",
            recorded_by=staff,
        )


def _fail_assessment(staff) -> None:
    """The first assessment of FAILING, scored low by five experts and confirmed: the centre is excluded."""
    from datetime import timedelta

    from evaluation import panels
    from evaluation.models import Assignment, ExpertProfile
    from reports import assessment as assessments

    centre = Centre.objects.filter(name=FAILING).first()
    if centre is None or centre.status == Centre.Status.EXCLUDED:
        return
    current = centre.assessments.filter(confirmed_at__isnull=True).order_by("cycle").first()
    if current is None:
        return
    if current.panel_id is None:
        assessments.start_panel(current, staff, deadline=timezone.now() + timedelta(days=10))
    experts = [p.user for p in ExpertProfile.objects.select_related("user").order_by("pk")[:5]]
    if not current.panel.assignments.exists():
        panels.assign(current.panel, staff, experts)
    criteria = list(current.panel.template.criteria.order_by("order"))
    for assignment in Assignment.objects.filter(panel=current.panel).select_related("expert"):
        if assignment.state == Assignment.State.ASSIGNED:
            assignment = panels.declare(
                assignment, assignment.expert, dict.fromkeys(Assignment.CONFLICT_QUESTIONS, False)
            )
        if assignment.state == Assignment.State.DECLARED:
            scores = {
                c.pk: ((c.max_points * Decimal("0.5")).quantize(Decimal("0.1")), "未达到建设目标")
                for c in criteria
            }
            panels.save_sheet(assignment, assignment.expert, scores, "考核不合格。", submit=True)
    assessments.score(current, staff)
    assessments.confirm(current, staff)

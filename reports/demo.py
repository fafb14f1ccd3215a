"""Demo data after recognition: a reporting year with an accepted and an overdue summary, an assessment
that came due, a failed one (exclusion), a withdrawn title, a national nomination, a centre's construction
support granted and disbursed, a district-level centre recommended to apply at municipal level. Idempotent.

Every step is taken by the real services with the clock at a past date (``config.clock``): the reporting
year is the last one whose due date has passed, opened in January and filed and accepted before the due
date; the assessment, withdrawal and nomination happen in the weeks before the day the demo is loaded."""

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from applications.demo import SUBMITTED_NAME
from applications.models import Application
from centres import services as centre_services
from centres.models import Centre, DistrictCentre, Nomination
from config import clock
from evaluation.demo import AWARDED
from reports import assessment as assessments
from reports import summaries, support
from reports.assessment import open_due_assessments
from reports.models import AnnualSummary, ReportingYear

REPORTING = "重庆市物联网创新中心"
FAILING = "重庆市能源及环保装备创新中心"
SILENT = "重庆市现代航空装备创新中心"
SUPPORTED = "重庆市虚拟现实创新中心"  # awarded 2024-05-20: construction support in its first two years
DISTRICT_CENTRE = "两江新区智能网联汽车创新中心"
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


def last_year_due(today: date) -> int:
    """The latest year whose annual summaries were due before ``today``."""
    year = today.year - 1
    return year if summaries.default_due_date(year) < today else year - 1


@transaction.atomic
def seed(users) -> None:
    staff = users[Role.COMMISSION_STAFF]
    today = timezone.localdate()
    demo_centres = Centre.objects.filter(name__in=AWARDED)
    year = last_year_due(today)
    due = summaries.default_due_date(year)
    if not ReportingYear.objects.filter(year=year).exists() and demo_centres.exists():
        with clock.at(clock.china(date(year + 1, 1, 10))):
            summaries.open_year(staff, year)
        done = AnnualSummary.objects.filter(reporting_year__year=year, centre__name=REPORTING).first()
        if done is not None:
            AnnualSummary.objects.filter(pk=done.pk).update(**FIGURES)
            lead = done.centre.application.created_by
            with clock.at(clock.china(due - timedelta(days=20))):
                summaries.submit_summary(AnnualSummary.objects.get(pk=done.pk), lead)
            with clock.at(clock.china(due - timedelta(days=10))):
                summaries.accept_summary(AnnualSummary.objects.get(pk=done.pk), staff)
    with clock.at(clock.china(today - timedelta(days=30), 8)):
        open_due_assessments()
        _fail_assessment(staff, today)
    silent = Centre.objects.filter(name=SILENT).exclude(status=Centre.Status.WITHDRAWN).first()
    if silent is not None:
        with clock.at(clock.china(today - timedelta(days=10))):
            assessments.withdraw_title(silent, staff, "连续未报送年度工作总结，撤销称号（示范）。")
    open_due_assessments()  # what came due since (as beat does)
    _support(staff, today)
    _district_centre(users, today)
    centre = Centre.objects.filter(name=REPORTING).first()
    if centre is not None and not centre.nominations.exists():
        with clock.at(clock.china(today - timedelta(days=5))):
            centre_services.nominate(
                centre,
                staff,
                kind=Nomination.Kind.TO_NATIONAL,
                nominated_on=timezone.localdate(),
                note="推荐争创国家智能网联汽车创新中心（示范）",
            )


def _support(staff, today: date) -> None:
    """Year 1: planned, granted and disbursed; year 2: planned and granted (its payment still to come)."""
    centre = Centre.objects.filter(name=SUPPORTED).first()
    if centre is None or centre.support_grants.exists():
        return
    first, second = centre.award_date + timedelta(days=30), centre.award_date + timedelta(days=385)
    steps = [
        (first, "2024年度建设支持", Decimal("500.00"), "渝经信发〔2024〕88号", True),
        (second, "2025年度建设支持", Decimal("300.00"), "渝经信发〔2025〕61号", False),
    ]
    for planned_on, project, amount, document, paid in steps:
        if planned_on + timedelta(days=60) >= today:
            continue
        with clock.at(clock.china(planned_on)):
            line = support.plan(
                centre, staff, kind="construction", year=planned_on.year, project_name=project, amount=amount
            )
        with clock.at(clock.china(planned_on + timedelta(days=25))):
            line = support.grant(
                line, staff, document_number=document, document_date=planned_on + timedelta(days=20)
            )
        if paid:
            with clock.at(clock.china(planned_on + timedelta(days=50))):
                support.disburse(line, staff, disbursed_on=timezone.localdate())


def _district_centre(users, today: date) -> None:
    """The district's staff register a district-level centre of the demo lead unit, recommend it to apply at
    municipal level, and the lead unit links its submitted municipal application."""
    district, lead = users[Role.DISTRICT_STAFF], users[Role.LEAD_UNIT]
    if district.district_id is None or DistrictCentre.objects.filter(name=DISTRICT_CENTRE).exists():
        return
    with clock.at(clock.china(today - timedelta(days=40))):
        centre = centre_services.register_district_centre(
            district,
            name=DISTRICT_CENTRE,
            lead_unit=lead.organisation,
            recognised_on=date(2023, 5, 10),
            document_number="两江经信〔2023〕12号",
        )
    with clock.at(clock.china(today - timedelta(days=20))):
        centre = centre_services.recommend_district_centre(
            centre,
            district,
            recommended_on=timezone.localdate(),
            recommendation="建设成效显著，车联网测试平台服务企业百余家，推荐申报市级制造业创新中心（示范）。",
        )
    application = Application.objects.filter(lead_unit=lead.organisation, centre_name=SUBMITTED_NAME).first()
    if application is not None:
        centre_services.link_application(centre, application, lead)


def _fail_assessment(staff, today: date) -> None:
    """The first assessment of FAILING, scored low by five experts over the weeks before ``today`` and
    confirmed: the centre is excluded."""
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
        assessments.start_panel(current, staff, deadline=timezone.now() + timedelta(days=14))
    experts = [p.user for p in ExpertProfile.objects.select_related("user").order_by("pk")[:5]]
    if not current.panel.assignments.exists():
        panels.assign(current.panel, staff, experts)
    criteria = list(current.panel.template.criteria.order_by("order"))
    for n, assignment in enumerate(Assignment.objects.filter(panel=current.panel).select_related("expert")):
        with clock.at(clock.china(today - timedelta(days=25 - n))):
            _score_low(assignment, criteria)
    with clock.at(clock.china(today - timedelta(days=15))):
        assessments.score(current, staff)
        assessments.confirm(current, staff)


def _score_low(assignment, criteria) -> None:
    from evaluation import panels
    from evaluation.models import Assignment

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

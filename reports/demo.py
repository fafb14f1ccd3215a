"""Demo data after recognition: a reporting year with an accepted and an overdue summary, an assessment
that came due, a national nomination. Idempotent. Award dates of two demo centres are moved back (demo
only) so that they have years to report on and a three-year mark behind them."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.roles import Role
from centres.models import Centre, Nomination
from reports import summaries
from reports.assessment import open_due_assessments
from reports.models import AnnualSummary, ReportingYear

BACKDATED = {"重庆市物联网创新中心": date(2022, 6, 30), "重庆市虚拟现实创新中心": date(2024, 5, 20)}
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
        Centre.objects.filter(name=name, award_date__gt=award_date).update(award_date=award_date)
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

"""A realistic large data set for the benchmark, written with bulk operations (a few minutes at most).

10,000 applications over every stage and five years, 500 experts, 50,000 submitted score sheets, 300 centres
with five years of annual summaries, 2,000 objections. Runs on an empty or demo database; run once.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import District, Organisation, User
from accounts.roles import Role
from accounts.validators import credit_code_check_character
from applications import stages
from applications.models import Application, ApplicationEvent, Field, Outcome, Policy, Status
from centres.models import Centre
from config import fragments
from evaluation.models import (
    Announcement,
    AnnouncementEntry,
    Assignment,
    ExpertProfile,
    Objection,
    Panel,
    Score,
    ScoreSheet,
    ScoreSheetTemplate,
)
from reports.models import AnnualSummary, ReportingYear

SH = ZoneInfo("Asia/Shanghai")
BATCH = 2000
# How many in each state (per 100): every status of the lifecycle (applications.stages), 6 unless said.
WEIGHTS = {"submitted": 8, "preliminary": 8, "expert_review": 10, "leadership": 4, "approved": 4}
WEIGHTS |= {"awarded": 8, "returned": 8, "rejected": 20}
STAGE_WEIGHTS = [(Status(value), WEIGHTS.get(value, 6)) for value in (*Status.values[1:], Status.DRAFT)]
# The states whose plans went through 专家论证 (they have scored panels).
PAST_EXPERT_REVIEW = {
    Status(stage.status) for stage in stages.STAGES if stages.reached(Status.EXPERT_REVIEW, stage.status)
} | {Status.AWARDED}


def code(prefix: str, n: int) -> str:
    first17 = f"{prefix}{n:0{17 - len(prefix)}d}"
    return first17 + credit_code_check_character(first17)


class Command(BaseCommand):
    help = "Create the large benchmark data set (bulk operations)."

    def add_arguments(self, parser):
        parser.add_argument("--applications", type=int, default=10_000)
        parser.add_argument("--experts", type=int, default=500)
        parser.add_argument("--centres", type=int, default=300)
        parser.add_argument("--objections", type=int, default=2_000)
        parser.add_argument("--seed", type=int, default=2017)

    @transaction.atomic
    def handle(self, *args, **opts):
        rng = random.Random(opts["seed"])
        now = timezone.now()
        districts = list(District.objects.all())
        fields = list(Field.objects.all())
        policy = Policy.current()
        template = ScoreSheetTemplate.objects.get(kind=ScoreSheetTemplate.Kind.EXPERT_REVIEW, is_default=True)
        criteria = list(template.criteria.order_by("order"))
        start = Organisation.objects.count()

        n_orgs = max(1, opts["applications"] // 4)
        orgs = Organisation.objects.bulk_create(
            [
                Organisation(
                    name=f"重庆规模测试企业{start + i}有限公司",
                    credit_code=code("91500099", start + i),
                    district=districts[i % len(districts)],
                    address="重庆市",
                    legal_representative="法人",
                    contact_name="联系人",
                    contact_phone="023-60000000",
                )
                for i in range(n_orgs)
            ],
            batch_size=BATCH,
        )
        lead_group = Group.objects.get(name=Role.LEAD_UNIT)
        leads = User.objects.bulk_create(
            [
                User(username=f"scale_lead_{start + i}", full_name=f"联系人{i}", organisation=o, password="!")
                for i, o in enumerate(orgs)
            ],
            batch_size=BATCH,
        )
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=u.pk, group_id=lead_group.pk) for u in leads], batch_size=BATCH
        )
        self.stdout.write(f"{len(orgs)} organisations and lead-unit users")

        expert_group = Group.objects.get(name=Role.EXPERT)
        employer_orgs = orgs[: opts["experts"]]
        experts = User.objects.bulk_create(
            [
                User(username=f"scale_expert_{start + i}", full_name=f"专家{i}", password="!")
                for i in range(opts["experts"])
            ],
            batch_size=BATCH,
        )
        User.groups.through.objects.bulk_create(
            [User.groups.through(user_id=u.pk, group_id=expert_group.pk) for u in experts], batch_size=BATCH
        )
        ExpertProfile.objects.bulk_create(
            [
                ExpertProfile(user=u, title="教授", employer=employer_orgs[(i + 7) % len(employer_orgs)])
                for i, u in enumerate(experts)
            ],
            batch_size=BATCH,
        )
        self.stdout.write(f"{len(experts)} experts")

        stages = [s for s, w in STAGE_WEIGHTS for _ in range(w)]
        apps = []
        for i in range(opts["applications"]):
            status = stages[i % len(stages)]
            year = 2022 + i % 5
            submitted = datetime.combine(date(year, 1 + i % 12, 1 + i % 28), time(10), tzinfo=SH)
            org = orgs[i % len(orgs)]
            apps.append(
                Application(
                    number=None if status == Status.DRAFT else f"CQ-ZZCX-{year}-S{i:05d}",
                    status=status,
                    lead_unit=org,
                    district_id=org.district_id,
                    created_by=leads[i % len(leads)],
                    submitted_at=None if status == Status.DRAFT else submitted,
                    year=year,
                    revision=1,
                    policy=policy,
                    eligibility={"passed": i % 7 != 0, "items": []},
                    outcome=Outcome.RECOGNISE if status in PAST_EXPERT_REVIEW and i % 5 else "",
                    centre_name=f"重庆市规模测试{i}创新中心",
                    field=fields[i % len(fields)],
                    host_name="依托公司",
                    basis="建设基础",
                    investment_capital=Decimal("900.00"),
                    investment_ip=Decimal("200.00"),
                    employees=100,
                    rd_staff=35,
                    total_cost=Decimal("1000.00"),
                    rd_expense=Decimal("320.00"),
                    stage_entered_at=submitted + timedelta(days=20),
                )
            )
        apps = Application.objects.bulk_create(apps, batch_size=BATCH)
        events = []
        for i, a in enumerate(apps):
            if a.status == Status.DRAFT:
                continue
            t0 = a.submitted_at
            events.append(
                ApplicationEvent(
                    application=a,
                    action="submit",
                    from_status=Status.DRAFT,
                    to_status=Status.SUBMITTED,
                    actor_id=a.created_by_id,
                    created_at=t0,
                )
            )
            if a.status not in (Status.SUBMITTED, Status.WITHDRAWN):
                events.append(
                    ApplicationEvent(
                        application=a,
                        action="start_preliminary",
                        from_status=Status.SUBMITTED,
                        to_status=Status.PRELIMINARY,
                        created_at=t0 + timedelta(days=3 + i % 5),
                    )
                )
        ApplicationEvent.objects.bulk_create(events, batch_size=BATCH)
        self.stdout.write(f"{len(apps)} applications, {len(events)} history records")

        scored = PAST_EXPERT_REVIEW | {Status.REJECTED, Status.EXPERT_REVIEW}
        reviewed = [a for a in apps if a.status in scored]
        size = 9  # an odd panel; 9 experts on ~6,000 panels give about 50,000 sheets
        panels = Panel.objects.bulk_create(
            [
                Panel(
                    application=a,
                    kind=ScoreSheetTemplate.Kind.EXPERT_REVIEW,
                    template=template,
                    deadline=a.submitted_at + timedelta(days=40),
                    created_by_id=a.created_by_id,
                    closed_at=a.submitted_at + timedelta(days=45),
                    result={"used": "82.00", "count": size},
                )
                for a in reviewed
            ],
            batch_size=BATCH,
        )
        assignments = Assignment.objects.bulk_create(
            [
                Assignment(
                    panel=p,
                    expert=experts[(j * 37 + k * 101) % len(experts)],
                    state=Assignment.State.SUBMITTED,
                    assigned_by_id=p.created_by_id,
                    declared_at=now,
                )
                for j, p in enumerate(panels)
                for k in range(size)
            ],
            batch_size=BATCH,
            ignore_conflicts=False,
        )
        sheets = ScoreSheet.objects.bulk_create(
            [
                ScoreSheet(assignment=a, total=Decimal(70 + (a.pk % 25)), submitted_at=now)
                for a in assignments
            ],
            batch_size=BATCH,
        )
        Score.objects.bulk_create(
            [
                Score(sheet=s, criterion=c, points=min(c.max_points, Decimal(rng.randint(10, 20))))
                for s in sheets
                for c in criteria
            ],
            batch_size=5 * BATCH,
        )
        self.stdout.write(f"{len(panels)} panels, {len(sheets)} score sheets")

        awarded = [a for a in apps if a.status == Status.AWARDED][: opts["centres"]]
        centres = Centre.objects.bulk_create(
            [
                Centre(
                    application=a,
                    name=a.centre_name,
                    field_id=a.field_id,
                    lead_unit_id=a.lead_unit_id,
                    kind=Centre.Kind.RECOGNISED if i % 4 else Centre.Kind.PILOT,
                    approval_number=f"渝经信发〔2020〕{i}号",
                    approval_date=date(2020, 6, 1),
                    plaque_number=f"SCALE-{start}-{i:04d}",
                    award_date=date(2020, 6, 30),
                    support_years=3,
                    created_by_id=a.created_by_id,
                )
                for i, a in enumerate(awarded)
            ],
            batch_size=BATCH,
        )
        staff = User.objects.filter(groups__name=Role.COMMISSION_STAFF).first() or leads[0]
        years = []
        for y in range(2021, 2026):
            ry, _ = ReportingYear.objects.get_or_create(
                year=y, defaults={"due_date": date(y + 1, 3, 31), "opened_by": staff}
            )
            years.append(ry)
        AnnualSummary.objects.bulk_create(
            [
                AnnualSummary(
                    centre=c,
                    reporting_year=ry,
                    state=AnnualSummary.State.ACCEPTED,
                    rd_expense=Decimal("500"),
                    total_cost=Decimal("1500"),
                    employees=120,
                    rd_staff=50,
                    patents_filed=10 + i % 9,
                    patents_granted=3,
                    standards_led=1,
                    firms_incubated=2,
                    revenue_transfer=Decimal("300"),
                    submitted_at=now,
                )
                for i, c in enumerate(centres)
                for ry in years
            ],
            batch_size=BATCH,
            ignore_conflicts=True,
        )
        self.stdout.write(f"{len(centres)} centres with {len(years)} years of summaries")

        in_publicity = [a for a in apps if a.status == Status.PUBLICITY]
        per = 5
        announcements = Announcement.objects.bulk_create(
            [
                Announcement(
                    title=f"规模测试公示{i}",
                    list_type="recognise",
                    starts_at=now - timedelta(days=30 + i),
                    ends_at=now - timedelta(days=20 + i) if i % 3 else now + timedelta(days=5),
                    working_days=5,
                    contact_person="张",
                    contact_phone="023",
                    contact_address="重庆",
                    supervision_phone="023",
                    created_by_id=staff.pk,
                )
                for i in range(max(1, len(in_publicity) // per))
            ],
            batch_size=BATCH,
        )
        entries = AnnouncementEntry.objects.bulk_create(
            [
                AnnouncementEntry(
                    announcement=announcements[i // per % len(announcements)], application=a, order=i % per
                )
                for i, a in enumerate(in_publicity[: len(announcements) * per])
            ],
            batch_size=BATCH,
        )
        Objection.objects.bulk_create(
            [
                Objection(
                    reference=f"YYSCALE-{start}-{i:05d}",
                    entry=entries[i % len(entries)],
                    kind="person",
                    name=f"异议人{i}",
                    id_number="11010519491231002X",
                    phone="13800000000",
                    statement="异议内容",
                )
                for i in range(opts["objections"])
            ],
            batch_size=BATCH,
        )
        self.stdout.write(f"{len(announcements)} announcements, {opts['objections']} objections")
        # Bulk writes send no signals: drop what the caches hold, and give the planner fresh statistics.
        for scope in fragments.SCOPES:
            fragments.bump(scope)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

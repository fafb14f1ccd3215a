"""Demo data for the review: an expert pool and applications waiting in each review stage. Idempotent."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import District, Organisation, User
from accounts.roles import Role
from accounts.validators import credit_code_check_character
from applications import services, stages
from applications.demo import fill_complete
from applications.models import Application, Field, Policy
from config import clock
from evaluation import comprehensive, inspection, panels, publicity, workdays, workflow
from evaluation.models import Assignment, ExpertProfile, PreliminaryCheck, SiteInspection

EXPERTS = [
    # username, name, title, employer name, employer code (17 chars), field names
    ("expert2_demo", "孙强", "研究员", "重庆示范研究院", "12500000450500DEM", ["高档数控机床", "智能装备"]),
    ("expert3_demo", "周敏", "教授", "重庆示范理工大学", "12500000450600DEM", ["生物医药", "化工新材料"]),
    ("expert4_demo", "吴涛", "高级工程师", "重庆示范检测中心", "12500000450700DEM", ["集成电路", "物联网"]),
    ("expert5_demo", "郑丽", "正高级会计师", "重庆示范会计师事务所", "91500000450800DEM", []),
]
# centre name, field, lead unit name, lead unit code (17 chars), how far the review gets
STAGES = [
    (
        "重庆市高档数控机床创新中心",
        "高档数控机床",
        "重庆示范机床集团有限公司",
        "91500000MA60DEM10",
        "expert_review",
    ),
    (
        "重庆市生物医药创新中心",
        "生物医药",
        "重庆示范药业股份有限公司",
        "91500000MA60DEM20",
        "site_inspection",
    ),
    ("重庆市集成电路创新中心", "集成电路", "重庆示范微电子有限公司", "91500000MA60DEM30", "comprehensive"),
    ("重庆市智能装备创新中心", "智能装备", "重庆示范智能装备有限公司", "91500000MA60DEM40", "leadership"),
    ("重庆市新材料创新中心", "化工新材料", "重庆示范新材料有限公司", "91500000MA60DEM50", "publicity"),
    ("重庆市物联网创新中心", "物联网", "重庆示范物联网有限公司", "91500000MA60DEM60", "awarded"),
    ("重庆市虚拟现实创新中心", "虚拟现实", "重庆示范虚拟现实有限公司", "91500000MA60DEM70", "awarded"),
    (
        "重庆市能源及环保装备创新中心",
        "能源及环保装备",
        "重庆示范能源装备有限公司",
        "91500000MA60DEM80",
        "awarded",
    ),
    (
        "重庆市现代航空装备创新中心",
        "现代航空装备",
        "重庆示范航空装备有限公司",
        "91500000MA60DEM90",
        "awarded",
    ),
]
SCORES = [Decimal(x) for x in ("17", "22", "17", "18", "13")]  # per criterion of the default sheet: 87


def _code(first17: str) -> str:
    return first17 + credit_code_check_character(first17)


def _expert_pool(users) -> list[User]:
    group = Group.objects.get(name=Role.EXPERT)
    district = District.objects.get(code="500106")
    pool = []
    demo_expert = users[Role.EXPERT]
    ExpertProfile.objects.get_or_create(
        user=demo_expert, defaults={"title": "教授", "employer": demo_expert.organisation}
    )
    pool.append(demo_expert)
    for username, name, title, employer, code, field_names in EXPERTS:
        organisation, _ = Organisation.objects.get_or_create(
            credit_code=_code(code),
            defaults={
                "name": employer,
                "kind": Organisation.Kind.RESEARCH_INSTITUTE,
                "district": district,
                "address": "重庆市沙坪坝区",
                "legal_representative": "示范",
                "contact_name": name,
                "contact_phone": "023-65000000",
            },
        )
        user, created = User.objects.get_or_create(
            username=username, defaults={"full_name": name, "email": f"{username}@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(group)
        profile, _ = ExpertProfile.objects.get_or_create(
            user=user, defaults={"title": title, "employer": organisation}
        )
        profile.fields.set(Field.objects.filter(name__in=field_names))
        pool.append(user)
    return pool


def _lead_unit(name: str, code: str) -> tuple[Organisation, User]:
    organisation, _ = Organisation.objects.get_or_create(
        credit_code=_code(code),
        defaults={
            "name": name,
            "kind": Organisation.Kind.ENTERPRISE,
            "district": District.objects.get(code="500112"),
            "address": "重庆市渝北区",
            "legal_representative": "示范",
            "contact_name": "联系人",
            "contact_phone": "023-67000000",
        },
    )
    username = f"lead{code[-2:]}_demo"
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "full_name": f"{name[2:6]}联系人",
            "organisation": organisation,
            "email": f"{username}@example.com",
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    user.groups.add(Group.objects.get(name=Role.LEAD_UNIT))
    return organisation, user


def _score_all(panel, experts):
    for assignment in Assignment.objects.filter(panel=panel, expert__in=experts):
        if assignment.state == Assignment.State.ASSIGNED:
            assignment = panels.declare(
                assignment, assignment.expert, dict.fromkeys(Assignment.CONFLICT_QUESTIONS, False)
            )
        if assignment.state == Assignment.State.DECLARED:
            criteria = list(panel.template.criteria.order_by("order"))
            scores = {
                c.pk: (min(points, c.max_points), "示范评语")
                for c, points in zip(criteria, SCORES, strict=False)
            }
            panels.save_sheet(assignment, assignment.expert, scores, "同意通过。", submit=True)


# The awarded demo centres: their award dates (授牌); every earlier step of theirs is dated before it.
AWARDED = {
    "重庆市物联网创新中心": date(2022, 6, 30),
    "重庆市虚拟现实创新中心": date(2024, 5, 20),
    "重庆市能源及环保装备创新中心": date(2021, 3, 31),  # fails its assessment later: excluded
    "重庆市现代航空装备创新中心": date(2021, 9, 30),  # never reports: title withdrawn later
}
# Days after submission on which each step is taken (the same rhythm for every demo application).
DAY = {
    "preliminary": 2,
    "panel": 3,
    "scores": 4,  # one expert a day from here
    "close_review": 9,
    "open_inspection": 10,
    "inspection": 17,
    "decide": 20,
    "meeting": 25,
    "publicity": 28,
}
# The last step taken (two days before today) by an application still under review at that stage.
LAST_STEP = {"expert_review": "scores", "site_inspection": "open_inspection", "comprehensive": "inspection"}


def open_period_start(now, working_days: int):
    """When the demo's open announcement started: a few working days before ``now`` (09:00 of that day), so
    that its period is running and ends within years whose holidays are known. None when no such start
    exists (``now`` is in, or too close to, a year whose holidays are not entered)."""
    today = timezone.localdate(now)
    # Two working days back if the period is long enough, else fewer; more if two would reach an unknown year.
    for back in [b for b in (2, 1, *range(3, working_days)) if b < working_days] + [0]:
        day, counted = today, 0
        try:
            while counted < back:
                day -= timedelta(days=1)
                counted += workdays.is_working_day(day)
            start = clock.china(day, 9)
            if start <= now < workdays.add_working_days(start, working_days):
                return start
        except workdays.UnknownCalendarYear:
            continue
    return None


def _first_day(target: str, centre: str, now) -> date | None:
    """The day the demo application of this stage was submitted, so its last step lies in the past."""
    today = timezone.localdate(now)
    if target == "awarded":
        return AWARDED[centre] - timedelta(days=75)
    if target == "leadership":
        return today - timedelta(days=DAY["meeting"] + 2)
    if target == "publicity":
        start = open_period_start(now, Policy.current().publicity_working_days)
        if start is None:  # an unknown year: the plan waits, approved, for the holidays to be entered
            return today - timedelta(days=DAY["meeting"] + 3)
        return start.date() - timedelta(days=DAY["publicity"])
    last = DAY[LAST_STEP.get(target, "scores")]
    return today - timedelta(days=last + 2)


@transaction.atomic
def seed(users) -> None:
    staff = users[Role.COMMISSION_STAFF]
    pool = _expert_pool(users)
    now = timezone.now()
    # Oldest first, so numbers and histories follow the calendar.
    plans = sorted(
        (
            (_first_day(target, centre, now), centre, field_name, unit, code, target)
            for centre, field_name, unit, code, target in STAGES
        ),
        key=lambda plan: plan[0],
    )
    for first_day, centre, field_name, unit, code, target in plans:
        organisation, lead = _lead_unit(unit, code)
        if Application.objects.filter(lead_unit=organisation, centre_name=centre).exists():
            continue
        _through_stages(first_day, centre, field_name, lead, staff, pool, target, now)


@dataclass
class _Plan:
    """One demo application on its way through the declared stages (applications.stages)."""

    first_day: date
    centre: str
    lead: User
    staff: User
    pool: list
    target: str
    now: object
    application: Application | None = None
    last: object = None  # when the latest step was taken

    def on(self, step: str, hour: int = 10, minute: int = 0):
        self.last = clock.china(self.first_day + timedelta(days=DAY[step]), hour, minute)
        return clock.at(self.last)

    def fresh(self) -> Application:
        return Application.objects.get(pk=self.application.pk)


def _through_stages(first_day, centre, field_name, lead, staff, pool, target, now):
    """Submit the plan, then walk the declared stages: each stage's demo step (or, for a stage the demo
    has no step of its own for, the stage's ``make_closable`` hook and its closing move an hour after the
    previous step), stopping in ``target``."""
    plan = _Plan(first_day, centre, lead, staff, pool, target, now)
    with clock.at(clock.china(first_day, 9, 30)):
        application = services.create_draft(lead)
        Application.objects.filter(pk=application.pk).update(centre_name=centre)
        fill_complete(application, lead)
        Application.objects.filter(pk=application.pk).update(field=Field.objects.get(name=field_name))
        services.submit(application, lead)
    plan.application, plan.last = application, clock.china(first_day, 9, 30)
    for stage in stages.STAGES:
        STEPS.get(stage.status, _declared_step)(plan, stage, stop=stage.status == target)
        if stage.status == target:
            return


def _declared_step(plan, stage, stop):
    plan.last += timedelta(hours=1)
    with clock.at(plan.last):
        cast = stages.Cast(experts=lambda n: plan.pool[:n], leader=plan.staff)
        arguments = stage.prepare(plan.fresh(), plan.staff, cast)
        if not stop and stage.close:
            stage.close(plan.fresh(), plan.staff, **arguments)


def _accept(plan, stage, stop):
    with plan.on("preliminary"):
        workflow.start_preliminary(plan.application, plan.staff)


def _preliminary(plan, stage, stop):
    plan.last += timedelta(minutes=1)  # a minute after accepting it
    with clock.at(plan.last):
        workflow.pass_preliminary(plan.application, plan.staff, PreliminaryCheck.Item.values, "材料齐全。")


def _expert_review(plan, stage, stop):
    with plan.on("panel"):
        panel = panels.create_panel(plan.fresh(), plan.staff, deadline=timezone.now() + timedelta(days=14))
        panels.assign(panel, plan.staff, plan.pool)
    # The demo expert still has to declare and score in the application waiting in 专家论证.
    scoring = plan.pool[1:3] if stop else plan.pool
    for n, expert in enumerate(scoring):
        with clock.at(clock.china(plan.first_day + timedelta(days=DAY["scores"] + n // 2), 9 + n)):
            _score_all(panel, [expert])
    if stop:
        return
    with plan.on("close_review"):
        workflow.close_expert_review(plan.application, plan.staff)


def _site_inspection(plan, stage, stop):
    with plan.on("open_inspection"):
        found = inspection.open_inspection(
            plan.fresh(),
            plan.staff,
            # The plan waiting in 现场考核 is led by the demo expert (it shows on their home page).
            leader=plan.pool[0] if stop else plan.staff,
            visit_date=plan.first_day + timedelta(days=DAY["inspection"]),
            team="张伟（市经济信息委）\n孙强（重庆示范研究院）",
        )
    if stop:
        return
    with plan.on("inspection", 16):
        inspection.save_record(
            found,
            plan.staff,
            score=Decimal("84"),
            conclusion="场地、设备、人员与申报一致。",
            findings={item: {"ok": True, "finding": "核查一致。"} for item in SiteInspection.Item.values},
        )
        inspection.sign_off(found, plan.staff)
        workflow.close_site_inspection(plan.application, plan.staff)


def _comprehensive(plan, stage, stop):
    if stop:
        return
    with plan.on("decide"):
        comprehensive.decide(plan.fresh(), plan.staff, "recognise")


def _leadership(plan, stage, stop):
    with plan.on("meeting", 15):
        _leadership_meeting(plan.application, plan.staff)


def _publicity(plan, stage, stop):
    if stop:
        start = open_period_start(plan.now, Policy.current().publicity_working_days)
        if start is None:
            return  # approved and ready to publish once the year's holidays are entered
        with clock.at(start):
            _open_publicity(plan.application, plan.staff, plan.centre)
        return
    with plan.on("publicity", 9):
        announcement = _open_publicity(plan.application, plan.staff, plan.centre)
    with clock.at(announcement.ends_at + timedelta(hours=10)):
        publicity.close_expired()
    plan.last = announcement.ends_at  # approval follows a week after the period ended


def _approved(plan, stage, stop):
    application = plan.application
    approved_on = timezone.localdate(plan.last) + timedelta(days=7)
    with clock.at(clock.china(approved_on)):
        publicity.record_approval(
            plan.fresh(),
            plan.staff,
            document_number=f"渝经信发〔{approved_on.year}〕{application.pk}号",
            document_date=approved_on,
        )
    award_date = AWARDED[plan.centre]
    with clock.at(clock.china(award_date)):
        publicity.award(
            plan.fresh(),
            plan.staff,
            plaque_number=f"CQZZCX-{award_date.year}-{application.pk:03d}",
            award_date=award_date,
        )


# The demo's own step in each declared stage (timed by ``DAY``); a stage without one runs its hook.
STEPS = {
    "submitted": _accept,
    "preliminary": _preliminary,
    "expert_review": _expert_review,
    "site_inspection": _site_inspection,
    "comprehensive": _comprehensive,
    "leadership": _leadership,
    "publicity": _publicity,
    "approved": _approved,
}


def _leadership_meeting(application, staff):
    from django.core.files.base import ContentFile

    from applications.demo import demo_pdf

    workflow.record_leadership_meeting(
        staff,
        meeting_date=timezone.localdate(),
        title="委主任办公会（示范）",
        minutes=ContentFile(demo_pdf("minutes"), name="会议纪要.pdf"),
        decisions={application.pk: ("approve", "")},
    )


def _open_publicity(application, staff, centre):
    return publicity.open_publicity(
        staff,
        [Application.objects.get(pk=application.pk)],
        title=f"关于{centre}拟认定为重庆市制造业创新中心的公示",
        list_type="recognise",
        starts_at=timezone.now(),
        contact_person="张伟",
        contact_phone="023-63899999",
        contact_address="重庆市渝北区示范路1号",
        supervision_phone="023-63899000",
    )

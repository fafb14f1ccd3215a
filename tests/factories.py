import datetime
import hashlib
import itertools
import math
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import District, Organisation, User
from accounts.roles import Role
from accounts.validators import credit_code_check_character
from applications.models import (
    Application,
    Attachment,
    CommitteeMember,
    ExpectedOutcome,
    Field,
    MemberUnit,
    Policy,
)

TEST_PASSWORD = "Test#Passw0rd-2026"


def make_credit_code(n: int) -> str:
    first17 = f"915001{n:011d}"
    return first17 + credit_code_check_character(first17)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"重庆测试单位{n}有限公司")
    credit_code = factory.Sequence(make_credit_code)
    kind = Organisation.Kind.ENTERPRISE
    district = factory.LazyFunction(lambda: District.objects.get(code="500112"))
    address = "重庆市渝北区测试路 1 号"
    legal_representative = "测试法人"
    contact_name = "测试联系人"
    contact_phone = "023-60000000"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=list(extracted)))


def user_with_role(role: Role, **kwargs) -> User:
    """A user holding one role, with the organisation or district that role needs."""
    if role == Role.LEAD_UNIT:
        kwargs.setdefault("organisation", OrganisationFactory())
    if role == Role.DISTRICT_STAFF:
        kwargs.setdefault("district", District.objects.get(code="500112"))
    return UserFactory(roles=[role], **kwargs)


# --- applications ----------------------------------------------------------------------------------------

# A minimal PDF: what matters for the upload checks is the "%PDF-" signature at the start.
PDF_BYTES = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n"
    b"%%EOF\n"
)

_member_codes = itertools.count(700000)


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A draft construction plan of a fresh lead unit, written by one of that unit's users."""

    class Meta:
        model = Application

    lead_unit = factory.SubFactory(OrganisationFactory)
    district = factory.LazyAttribute(lambda a: a.lead_unit.district)
    created_by = factory.LazyAttribute(lambda a: user_with_role(Role.LEAD_UNIT, organisation=a.lead_unit))


def make_attachment(application, kind, uploaded_by=None, data: bytes = PDF_BYTES, name: str = ""):
    """A stored attachment with a real file (in MEDIA_ROOT) and the facts the upload check would record."""
    attachment = Attachment(
        application=application,
        kind=kind,
        original_name=name or f"{kind}.pdf",
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=uploaded_by or application.created_by,
    )
    attachment.file.save(attachment.original_name, ContentFile(data), save=False)
    attachment.save()
    return attachment


def complete_application(lead_user=None, **overrides) -> Application:
    """A draft that ``missing_for_submission`` accepts and that passes every basic condition of the
    policy in force (figures derived from ``Policy.current()``, never literal thresholds)."""
    policy = Policy.current()
    employees = 1000
    total_cost = Decimal("2000.00")
    values = {
        "centre_name": "重庆市测试制造业创新中心",
        "field": Field.objects.first(),
        "host_name": "重庆测试创新中心有限公司",
        "host_credit_code": make_credit_code(next(_member_codes)),
        "host_registered_capital": Decimal("5000.00"),
        "host_founded_on": datetime.date(2020, 6, 1),
        "host_board": "董事长张三，董事李四、王五。",
        "host_management": "总经理赵六，技术总监钱七。",
        "basis": "已建成中试线两条。",
        "construction_plan": "三年内建成共性技术研发平台。",
        "tech_direction": "突破轻量化材料成型关键技术。",
        "operating_model": "公司+联盟，会员制运营。",
        "expected_results": "形成一批行业共性技术成果。",
        "benefits": "带动产业链产值增长。",
        "roadmap": "2026年攻关，2027年中试，2028年产业化。",
        "investment_capital": policy.min_total_investment,
        "investment_ip": Decimal("100.00"),
        "employees": employees,
        "rd_staff": min(employees, math.ceil(employees * policy.min_rd_staff_ratio / 100) + 10),
        "total_cost": total_cost,
        "rd_expense": min(
            total_cost,
            (total_cost * policy.min_rd_expense_ratio / 100).quantize(Decimal("0.01")) + Decimal("10.00"),
        ),
        "declares_enterprise_legal_person": True,
        "declares_capital_links": True,
        "declares_alliance": True,
        "declares_expert_committee": True,
        "declares_governance": True,
    }
    values.update(overrides)
    if lead_user is not None:
        values.setdefault("lead_unit", lead_user.organisation)
        values.setdefault("created_by", lead_user)
    application = ApplicationFactory(**values)
    ExpectedOutcome.objects.create(
        application=application, indicator="发明专利申请", target="50件", year=2028
    )
    CommitteeMember.objects.create(
        application=application, name="陈院士", title="中国工程院院士", employer="重庆大学", is_chair=True
    )
    MemberUnit.objects.create(
        application=application,
        name="重庆测试骨干企业有限公司",
        credit_code=make_credit_code(next(_member_codes)),
        kind=MemberUnit.Kind.ENTERPRISE,
        relation=MemberUnit.Relation.SHAREHOLDER,
        contribution=MemberUnit.Contribution.MONEY,
        amount=policy.min_total_investment,
    )
    MemberUnit.objects.create(
        application=application,
        name="重庆测试大学",
        credit_code=make_credit_code(next(_member_codes)),
        kind=MemberUnit.Kind.UNIVERSITY,
        relation=MemberUnit.Relation.ALLIANCE,
        contribution=MemberUnit.Contribution.IP,
        amount=Decimal("100.00"),
        platforms="重庆市重点实验室",
    )
    for kind in (
        Attachment.Kind.PLAN,
        Attachment.Kind.AGREEMENT,
        Attachment.Kind.LICENCE,
        Attachment.Kind.AUDIT,
    ):
        make_attachment(application, kind)
    return application


# --- applications along the lifecycle (through the real services, never by setting the status) ---------


def all_checklist_items() -> list[str]:
    """Every item of the 材料初审 checklist (evaluation.models.PreliminaryCheck.Item)."""
    from evaluation.models import PreliminaryCheck

    return list(PreliminaryCheck.Item.values)


def expert_user(**kwargs) -> User:
    """An expert of the pool: the role, and a profile naming an employer of their own (no conflicts)."""
    from evaluation.models import ExpertProfile

    user = user_with_role(Role.EXPERT, **kwargs)
    ExpertProfile.objects.create(user=user, title="教授级高级工程师", employer=OrganisationFactory())
    return user


def complete_expert_review(application, staff, ratio: Decimal = Decimal("0.9")):
    """专家论证 done for real (the stage's hook, evaluation.closable): a panel of the policy's minimum size;
    every expert declares no conflict and submits a full sheet at ``ratio`` of each criterion's maximum."""
    from applications.stages import Cast
    from evaluation import closable
    from evaluation.models import Panel

    cast = Cast(experts=lambda n: [expert_user() for _ in range(n)], leader=staff)
    closable.expert_review(application, staff, cast, ratio=ratio)
    return Panel.objects.filter(application_id=application.pk).latest("pk")


def complete_site_inspection(application, staff, leader=None, score: Decimal = Decimal("85")):
    """现场考核 done for real (the stage's hook, evaluation.closable), signed off by its leader."""
    from applications.stages import Cast
    from evaluation import closable
    from evaluation.models import SiteInspection

    closable.site_inspection(application, staff, Cast(experts=None, leader=leader or staff), score=score)
    return SiteInspection.objects.get(application_id=application.pk)


def record_comprehensive_evaluation(application, staff, decision: str):
    """The 综合评估 conclusion stored as evaluation.comprehensive computes it, without moving the
    application (``comprehensive.decide`` would also propose it), so ``workflow.propose`` can be tested
    on its own."""
    from evaluation.comprehensive import compute, figures_for_model
    from evaluation.models import ComprehensiveEvaluation

    application = Application.objects.get(pk=application.pk)
    return ComprehensiveEvaluation.objects.create(
        application=application,
        **figures_for_model(compute(application)),
        decision=decision,
        reason="测试：综合评估结论",
        decided_by=staff,
    )


# The side exits, reached from 材料初审 by commission staff; every state on the path follows the
# declaration of the review stages (applications.stages).
_SIDE_EXITS = {"returned": "return_for_amendment", "rejected": "reject"}


def application_in(status: str, staff=None, lead_user=None, outcome: str = "recognise", **overrides):
    """A complete application brought to ``status`` by the real steps: submitted by its lead unit, then
    moved by commission staff (``staff``, or a new commission staff user) with evaluation.workflow, the
    expert panel and site inspection run for real, and 综合评估 decided with ``outcome``.

    ``draft`` and ``withdrawn`` (from submitted) are reached too. The returned object is fresh from the
    database.
    """
    from applications import services, stages
    from applications.stages import Cast
    from evaluation import workflow

    application = complete_application(lead_user=lead_user, **overrides)
    lead = lead_user or application.created_by
    if status == "draft":
        return Application.objects.get(pk=application.pk)
    services.submit(application, lead)
    if status == "withdrawn":
        services.withdraw(application, lead, reason="测试：撤回")
        return Application.objects.get(pk=application.pk)
    staff = staff or user_with_role(Role.COMMISSION_STAFF)
    cast = Cast(
        experts=lambda n: [expert_user() for _ in range(n)],
        leader=staff,
        outcome=outcome,
        reason="测试：综合评估结论",
    )
    target = "preliminary" if status in _SIDE_EXITS else status
    for stage in stages.path_to(target):
        arguments = stage.prepare(Application.objects.get(pk=application.pk), staff, cast)
        stage.close(application, staff, **arguments)
    if status == "returned":
        workflow.return_for_amendment(application, staff, "测试：请修改", {})
    elif status == "rejected":
        workflow.reject(application, staff, "测试：不予认定")
    application = Application.objects.get(pk=application.pk)
    assert application.status == status, (application.status, status)
    return application


# --- experts, panels and policy versions (evaluation.panels) -----------------------------------------------


def expert_with_profile(employer=None, fields=(), title="研究员", **kwargs) -> User:
    """An expert of the pool whose employer (default: an organisation of their own) and fields are chosen."""
    from evaluation.models import ExpertProfile

    user = user_with_role(Role.EXPERT, **kwargs)
    profile = ExpertProfile.objects.create(
        user=user, title=title, employer=employer if employer is not None else OrganisationFactory()
    )
    if fields:
        profile.fields.set(fields)
    return user


def application_in_expert_review(staff=None, lead_user=None, **overrides) -> Application:
    """A complete application moved to 专家论证 by the real steps, without a panel yet."""
    return application_in("expert_review", staff=staff, lead_user=lead_user, **overrides)


def policy_version(**changes) -> Policy:
    """A new Policy version (rows are append-only) copying the version in force, with ``changes``."""
    current = Policy.current()
    skip = {"id", "version", "effective_from", "created_at", "created_by", "note"}
    values = {f.name: getattr(current, f.name) for f in Policy._meta.concrete_fields if f.name not in skip}
    values.update(changes)
    return Policy.objects.create(note="测试：新版本", **values)


def stamp_policy(application, policy: Policy) -> Application:
    """Make ``policy`` the version the application is judged against (as submission would have stamped)."""
    Application.objects.filter(pk=application.pk).update(policy=policy)
    return Application.objects.get(pk=application.pk)


def declare_no_conflict(assignment):
    """The assigned expert answers every conflict-of-interest question "no" (evaluation.panels.declare)."""
    from evaluation import panels
    from evaluation.models import Assignment

    return panels.declare(assignment, assignment.expert, dict.fromkeys(Assignment.CONFLICT_QUESTIONS, False))


def points_for_total(criteria, total) -> dict:
    """Per-criterion points adding up to ``total``: each criterion about its share of the maximum (in
    halves), the last one taking the rest. ``criteria`` in order; returns {criterion id: (points, "")}."""
    from decimal import ROUND_FLOOR

    total = Decimal(total)
    maximum = sum(c.max_points for c in criteria)
    points = {}
    given = Decimal(0)
    for criterion in criteria[:-1]:
        share = (criterion.max_points * total / maximum * 2).to_integral_value(rounding=ROUND_FLOOR) / 2
        points[criterion.pk] = (share, "")
        given += share
    last = criteria[-1]
    rest = total - given
    assert 0 <= rest <= last.max_points, (total, rest)
    points[last.pk] = (rest, "")
    return points


def submit_sheet(assignment, scores=None, total=None, opinion="同意。"):
    """Declare no conflict if still needed, then submit a full sheet: ``scores`` as a list of points in
    criterion order, or a ``total`` spread over the criteria by ``points_for_total``."""
    from evaluation import panels
    from evaluation.models import Assignment

    if assignment.state == Assignment.State.ASSIGNED:
        assignment = declare_no_conflict(assignment)
    criteria = list(assignment.panel.template.criteria.order_by("order"))
    if scores is not None:
        values = {c.pk: (Decimal(str(p)), "") for c, p in zip(criteria, scores, strict=True)}
    else:
        values = points_for_total(criteria, total)
    return panels.save_sheet(assignment, assignment.expert, values, opinion, submit=True)


def panel_with_experts(application, staff, size=None, deadline=None, experts=None):
    """An expert-review panel (evaluation.panels.create_panel) with ``size`` fresh experts assigned
    (default: the policy's minimum). Returns (panel, assignments in assignment order)."""
    from evaluation import panels

    application = Application.objects.get(pk=application.pk)
    deadline = deadline or timezone.now() + datetime.timedelta(days=7)
    panel = panels.create_panel(application, staff, deadline=deadline)
    if experts is None:
        size = size or (application.policy or Policy.current()).min_panel_size
        experts = [expert_with_profile() for _ in range(size)]
    assignments = panels.assign(panel, staff, experts)
    return panel, assignments


# --- publicity, objections, approval and award (evaluation.publicity) -----------------------------------

ANNOUNCEMENT_CONTACTS = {
    "contact_person": "张伟",
    "contact_phone": "023-63899999",
    "contact_address": "重庆市渝北区测试路1号",
    "supervision_phone": "023-63899000",
}


def valid_id_number(first17: str = "50010219900307123") -> str:
    """A resident ID number (GB 11643-1999) whose check character is right: ``first17`` plus the check."""
    from accounts.validators import ID_CHECK, ID_WEIGHTS

    return first17 + ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def objection_evidence(name: str = "证据.pdf") -> list:
    """The ``files`` of a person's objection: the evidence DOMAIN.md asks for (a PDF)."""
    from evaluation.models import ObjectionFile

    upload = SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")
    return [(ObjectionFile.Kind.EVIDENCE, upload)]


def application_in_leadership_approved(staff=None, lead_user=None, outcome: str = "recognise", **overrides):
    """A complete application brought to 委主任办公会审定 by the real steps (``application_in``), then
    approved by a recorded 委主任办公会 (``workflow.record_leadership_meeting`` with minutes), as
    ``publicity.open_publicity`` requires. Fresh from the database."""
    from evaluation import workflow
    from evaluation.models import LeadershipDecision

    staff = staff or user_with_role(Role.COMMISSION_STAFF)
    application = application_in("leadership", staff=staff, lead_user=lead_user, outcome=outcome, **overrides)
    workflow.record_leadership_meeting(
        staff,
        meeting_date=timezone.localdate(),
        title="委主任办公会（测试）",
        minutes=ContentFile(PDF_BYTES, name="会议纪要.pdf"),
        decisions={application.pk: (LeadershipDecision.Decision.APPROVE, "")},
    )
    return Application.objects.get(pk=application.pk)


def enter_statutory_holidays(year: int, skip=()) -> None:
    """Enter one day for each of the seven statutory holidays of ``year`` (but those in ``skip``): that
    month's first Saturday, so no working day changes. A year counts as known only with all seven."""
    from evaluation.models import CalendarDay
    from evaluation.workdays import HOLIDAYS

    for month, name in zip((1, 2, 4, 5, 6, 9, 10), HOLIDAYS, strict=True):
        if name in skip:
            continue
        day = datetime.date(year, month, 1)
        day += datetime.timedelta(days=(5 - day.weekday()) % 7)  # that month's first Saturday
        CalendarDay.objects.get_or_create(date=day, defaults={"kind": CalendarDay.Kind.HOLIDAY, "name": name})


def declare_unknown_years(first: datetime.date, days: int = 60) -> None:
    """Enter (as staff would) every year in ``first`` .. ``first + days`` that the ``chinese-calendar``
    package does not know, Monday to Friday working, so a period opened "now" does not depend on the date
    the tests run (late December reaches a year the package may not know yet)."""
    import chinese_calendar

    from evaluation.models import CalendarYear

    for year in range(first.year, (first + datetime.timedelta(days=days)).year + 1):
        try:
            chinese_calendar.is_workday(datetime.date(year, 1, 1))
        except NotImplementedError:
            CalendarYear.objects.get_or_create(year=year, defaults={"notice": "测试：按周一至周五上班计"})
            enter_statutory_holidays(year)


def open_announcement(staff, applications, *, starts_at=None, list_type=None, title=None, ip=None):
    """``publicity.open_publicity`` for ``applications`` (approved by the leadership), with the contacts
    of ``ANNOUNCEMENT_CONTACTS``. ``starts_at`` defaults to now (then unknown years ahead are declared with
    ``declare_unknown_years``); ``list_type`` to the first application's outcome."""
    from evaluation import publicity

    applications = list(applications)
    if starts_at is None:
        starts_at = timezone.now()
        declare_unknown_years(timezone.localdate())
    list_type = list_type or applications[0].outcome
    return publicity.open_publicity(
        staff,
        applications,
        title=title or f"关于{applications[0].centre_name}等拟认定为重庆市制造业创新中心的公示",
        list_type=list_type,
        starts_at=starts_at,
        ip=ip,
        **ANNOUNCEMENT_CONTACTS,
    )


def application_in_publicity(staff=None, lead_user=None, outcome: str = "recognise", **overrides):
    """An application approved by the leadership and put into an announcement open now.
    Returns (application fresh from the database, announcement)."""
    staff = staff or user_with_role(Role.COMMISSION_STAFF)
    application = application_in_leadership_approved(
        staff=staff, lead_user=lead_user, outcome=outcome, **overrides
    )
    announcement = open_announcement(staff, [application])
    return Application.objects.get(pk=application.pk), announcement


def expire_announcement(announcement, ago: datetime.timedelta = datetime.timedelta(minutes=1)):
    """Make an announcement's period over (its end ``ago`` in the past), as if the days had passed: a
    queryset update of ``starts_at``/``ends_at``, nothing else. Returns it fresh from the database."""
    from evaluation.models import Announcement

    now = timezone.now()
    Announcement.objects.filter(pk=announcement.pk).update(
        starts_at=now - datetime.timedelta(days=10), ends_at=now - ago
    )
    return Announcement.objects.get(pk=announcement.pk)


def application_approved(staff=None, lead_user=None, outcome: str = "recognise", **overrides):
    """An application through publicity without objections and the deadline sweep (``close_expired``,
    which closes every announcement due by now, not only this one): status 批复 (approved), no approval
    document recorded yet. Fresh from the database."""
    from evaluation import publicity

    application, announcement = application_in_publicity(
        staff=staff, lead_user=lead_user, outcome=outcome, **overrides
    )
    expire_announcement(announcement)
    publicity.close_expired()
    application = Application.objects.get(pk=application.pk)
    assert application.status == "approved", application.status
    return application


# --- centres after award (reports: annual summaries) -------------------------------------------------------

_plaque_numbers = itertools.count(1)


def awarded_centre(lead_user=None, award_date=None, **overrides):
    """A recognised centre created directly for a complete application marked awarded (without running the
    whole review): ``overrides`` go to the Centre (status, kind, name, excluded_until ...)."""
    from centres.models import Centre

    application = complete_application(lead_user=lead_user)
    Application.objects.filter(pk=application.pk).update(status="awarded")
    award_date = award_date or datetime.date(2024, 6, 1)
    values = {
        "application": application,
        "name": application.centre_name,
        "field": application.field,
        "lead_unit": application.lead_unit,
        "kind": Centre.Kind.RECOGNISED,
        "approval_number": "渝经信发〔2024〕1号",
        "approval_date": award_date,
        "plaque_number": f"CQMIC-T{next(_plaque_numbers):05d}",
        "award_date": award_date,
        "support_years": Policy.current().support_years,
        "created_by": application.created_by,
    }
    values.update(overrides)
    return Centre.objects.create(**values)


# --- dashboard, exports and timelines (reports) ------------------------------------------------------------


def lead_user_in(district_code: str, **kwargs) -> User:
    """A lead-unit user of a fresh organisation registered in the district with ``district_code``."""
    organisation = OrganisationFactory(district=District.objects.get(code=district_code))
    return user_with_role(Role.LEAD_UNIT, organisation=organisation, **kwargs)


def district_staff_in(district_code: str, **kwargs) -> User:
    """A district-staff user of the district with ``district_code``."""
    return user_with_role(Role.DISTRICT_STAFF, district=District.objects.get(code=district_code), **kwargs)


def annual_summary(centre, reporting_year, state: str = "draft", submitted_at=None, **figures):
    """An annual summary row stored directly with ``figures`` (the figures a dashboard or an export reads).
    Submitted and accepted ones get ``submitted_at`` (default now)."""
    from reports.models import AnnualSummary

    if state in (AnnualSummary.State.SUBMITTED, AnnualSummary.State.ACCEPTED) and submitted_at is None:
        submitted_at = timezone.now()
    figures.setdefault("work_summary", "测试：年度工作总结")
    figures.setdefault("next_year_plan", "测试：下一年度工作计划")
    return AnnualSummary.objects.create(
        centre=centre, reporting_year=reporting_year, state=state, submitted_at=submitted_at, **figures
    )


def graded_assessment(
    centre, cycle: int, total, grade: str, confirmed_by=None, due_on=None, confirmed_at=None
):
    """An assessment stored directly with its total and grade; confirmed (now unless ``confirmed_at``) when
    ``confirmed_by`` is given."""
    from reports.models import Assessment

    return Assessment.objects.create(
        centre=centre,
        cycle=cycle,
        due_on=due_on or datetime.date(2024 + 3 * (cycle - 1), 6, 1),
        total=Decimal(str(total)),
        grade=grade,
        confirmed_by=confirmed_by,
        confirmed_at=(confirmed_at or timezone.now()) if confirmed_by else None,
    )


def event_at(application, action: str, from_status: str, to_status: str, at, actor=None, **extra):
    """A history entry written at a chosen time (``ApplicationEvent`` is append-only: new rows only)."""
    from applications.models import ApplicationEvent

    return ApplicationEvent.objects.create(
        application=application,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor,
        created_at=at,
        **extra,
    )


# --- fault tests (tests/test_faults.py) --------------------------------------------------------------------


def applications_in_expired_publicity(n: int, staff=None, now=None) -> list:
    """``n`` complete applications, each alone in an announcement whose period is over, for the deadline
    sweep (``publicity.close_expired``). Built directly for speed, not through the review: a queryset
    update puts each ``complete_application`` in 公示 (the sweep reads only the status, the entries and
    the end of the period), then the Announcement and its AnnouncementEntry are created. The periods end
    one minute apart, the first longest ago, so the sweep (ordered by ``ends_at``) takes them in list order.
    Returns ``[(application, announcement), ...]``, fresh from the database."""
    from applications.models import Status
    from evaluation.models import Announcement, AnnouncementEntry

    staff = staff or user_with_role(Role.COMMISSION_STAFF)
    now = now or timezone.now()
    pairs = []
    for i in range(n):
        application = complete_application()
        Application.objects.filter(pk=application.pk).update(
            status=Status.PUBLICITY,
            outcome="recognise",
            year=now.year,
            number=f"CQ-ZZCX-{now.year}-{9000 + application.pk:05d}",  # unique however often it is called
            policy=Policy.current(),
            submitted_at=now - datetime.timedelta(days=60),
        )
        announcement = Announcement.objects.create(
            title=f"关于{application.centre_name}（{i + 1}）拟认定为重庆市制造业创新中心的公示",
            list_type="recognise",
            starts_at=now - datetime.timedelta(days=10),
            ends_at=now - datetime.timedelta(minutes=n - i),
            working_days=5,
            created_by=staff,
            **ANNOUNCEMENT_CONTACTS,
        )
        AnnouncementEntry.objects.create(announcement=announcement, application=application, order=0)
        pairs.append((Application.objects.get(pk=application.pk), announcement))
    return pairs


# --- browser tests -----------------------------------------------------------------------------------------


def sign_in(page, portal, user, password=TEST_PASSWORD):
    """Sign ``user`` in through the real sign-in page of the live portal (Playwright ``page``)."""
    page.goto(portal + "/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()

"""The basic conditions (基本条件) and the completeness check, against the policy in force.

Thresholds are always read from the policy record; the boundary cases are built from its values, so a
policy with other numbers moves the boundary and these tests keep meaning the same thing.
"""

import re
from decimal import Decimal

import pytest

from accounts.roles import Role
from applications.eligibility import all_passed, as_json, evaluate, field_clash, missing_for_submission
from applications.models import Application, Attachment, CommitteeMember, Field, MemberUnit, Policy, Status
from tests.factories import ApplicationFactory, complete_application, make_credit_code, user_with_role

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")


def reload(application) -> Application:
    return Application.objects.get(pk=application.pk)


def check(application, code, policy=None):
    """The check ``code`` of a freshly loaded application (no stale related caches)."""
    checks = evaluate(reload(application), policy or Policy.current())
    assert [c.code for c in checks] == ["1", "2", "3", "4", "5", "6", "7", "8"]
    return next(c for c in checks if c.code == code)


def set_fields(application, **values):
    Application.objects.filter(pk=application.pk).update(**values)
    return reload(application)


# --- the policy the checks read ------------------------------------------------------------------------


def test_policy_in_force_carries_the_programme_thresholds():
    """DOMAIN.md: ≥ 1000万元 investment, ≥ 30 % R&D staff, ≥ 30 % R&D expense (渝经信发〔2017〕139号)."""
    policy = Policy.current()
    assert policy.min_total_investment == Decimal("1000")
    assert policy.min_rd_staff_ratio == Decimal("30")
    assert policy.min_rd_expense_ratio == Decimal("30")


def test_a_complete_application_passes_every_condition():
    application = complete_application()
    checks = evaluate(reload(application), Policy.current())
    assert [c for c in checks if c.passed is not True] == []
    assert all_passed(checks)
    assert as_json(checks)["passed"] is True


# --- item 5: R&D staff ratio --------------------------------------------------------------------------


def rd_staff_at_threshold(employees: int) -> int:
    at = Policy.current().min_rd_staff_ratio * employees / 100
    assert at == at.to_integral_value(), "pick a head count that makes the threshold a whole number"
    return int(at)


@pytest.mark.parametrize(("offset", "passed"), [(-1, False), (0, True), (1, True)])
def test_rd_staff_ratio_around_the_threshold(offset, passed):
    employees = 1000  # one person is 0.1 %: 299 of 1000 is 29.9 %, 300 is 30 %
    rd_staff = rd_staff_at_threshold(employees) + offset
    application = complete_application(employees=employees, rd_staff=rd_staff)
    result = check(application, "5")
    assert result.kind == "computed"
    assert result.passed is passed


def test_rd_staff_ratio_is_not_rounded_up_to_the_threshold():
    employees = 100_000  # 29.999 %: would show as 30.00 % when rounded, still below
    application = complete_application(employees=employees, rd_staff=rd_staff_at_threshold(employees) - 1)
    assert check(application, "5").passed is False


@pytest.mark.parametrize("item", ["5", "6"])
def test_a_failed_ratio_is_never_shown_as_meeting_the_minimum(item):
    if item == "5":
        employees = 100_000
        application = complete_application(
            employees=employees, rd_staff=rd_staff_at_threshold(employees) - 1
        )  # 29.999 %
    else:
        total_cost = Decimal("1000.00")
        at = (Policy.current().min_rd_expense_ratio * total_cost / 100).quantize(CENT)
        application = complete_application(total_cost=total_cost, rd_expense=at - CENT)  # 29.999 %
    result = check(application, item)
    assert result.passed is False
    shown, minimum = (Decimal(p) for p in re.findall(r"(\d+(?:\.\d+)?)%", result.detail))
    assert shown < minimum, result.detail


# --- item 6: R&D expense ratio --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "passed"),
    [
        (Decimal("-1.00"), False),  # 29.9 %
        (Decimal("-0.01"), False),  # 29.999 %
        (Decimal("0.00"), True),  # exactly the threshold
        (Decimal("0.01"), True),
    ],
)
def test_rd_expense_ratio_around_the_threshold(offset, passed):
    total_cost = Decimal("1000.00")
    at = (Policy.current().min_rd_expense_ratio * total_cost / 100).quantize(CENT)
    application = complete_application(total_cost=total_cost, rd_expense=at + offset)
    result = check(application, "6")
    assert result.kind == "computed"
    assert result.passed is passed


# --- item 4: total investment ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "passed"), [(Decimal("-0.01"), False), (Decimal("0.00"), True), (Decimal("0.01"), True)]
)
@pytest.mark.parametrize("ip_share", [Decimal("0.00"), Decimal("0.4"), Decimal("1.00")])
def test_total_investment_around_the_threshold_split_between_capital_and_ip(offset, passed, ip_share):
    total = Policy.current().min_total_investment + offset  # e.g. 999.99 / 1000.00 / 1000.01 万元
    ip = (total * ip_share).quantize(CENT)
    application = complete_application(investment_capital=total - ip, investment_ip=ip)
    result = check(application, "4")
    assert result.kind == "computed"
    assert result.passed is passed


def test_investment_entered_only_as_capital_or_only_as_ip_counts():
    minimum = Policy.current().min_total_investment
    only_capital = complete_application(investment_capital=minimum, investment_ip=None)
    only_ip = complete_application(investment_capital=None, investment_ip=minimum)
    assert check(only_capital, "4").passed is True
    assert check(only_ip, "4").passed is True


# --- missing figures: the check cannot tell ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "blank"),
    [
        ("4", {"investment_capital": None, "investment_ip": None}),
        ("5", {"rd_staff": None}),
        ("5", {"employees": None}),
        ("5", {"employees": None, "rd_staff": None}),
        ("5", {"employees": 0, "rd_staff": 0}),
        ("6", {"rd_expense": None}),
        ("6", {"total_cost": None}),
        ("6", {"total_cost": Decimal(0), "rd_expense": Decimal(0)}),
    ],
)
def test_missing_figures_leave_the_computed_check_undecided(code, blank):
    application = set_fields(complete_application(), **blank)
    result = check(application, code)
    assert result.passed is None
    assert result.detail  # tells the applicant what to fill in
    checks = evaluate(application, Policy.current())
    assert not all_passed(checks)  # undecided is not a pass
    assert as_json(checks)["passed"] is False


# --- declared items: the declaration and its evidence ---------------------------------------------------

DECLARATIONS = {
    "1": "declares_enterprise_legal_person",
    "2": "declares_capital_links",
    "3": "declares_alliance",
    "7": "declares_expert_committee",
    "8": "declares_governance",
}


def drop_attachment(kind):
    def remove(application):
        Attachment.objects.filter(application=application, kind=kind).delete()

    return remove


def no_shareholder(application):
    MemberUnit.objects.filter(application=application).update(relation=MemberUnit.Relation.ALLIANCE)


def no_enterprise_member(application):
    MemberUnit.objects.filter(application=application, kind=MemberUnit.Kind.ENTERPRISE).delete()


def no_research_member(application):
    MemberUnit.objects.filter(application=application, kind=MemberUnit.Kind.UNIVERSITY).delete()


def no_chair(application):
    CommitteeMember.objects.filter(application=application).update(is_chair=False)


def two_chairs(application):
    CommitteeMember.objects.create(
        application=application, name="第二主任", title="研究员", employer="重庆研究院", is_chair=True
    )


def blank_text(name):
    def remove(application):
        Application.objects.filter(pk=application.pk).update(**{name: "  \n "})

    return remove


EVIDENCE_MISSING = [
    ("1", drop_attachment(Attachment.Kind.LICENCE)),
    ("2", no_shareholder),
    ("2", drop_attachment(Attachment.Kind.AGREEMENT)),
    ("3", no_enterprise_member),
    ("3", no_research_member),
    ("7", no_chair),
    ("7", two_chairs),
    ("8", blank_text("host_board")),
    ("8", blank_text("host_management")),
    ("8", blank_text("roadmap")),
]


@pytest.mark.parametrize("code", list(DECLARATIONS))
def test_declared_item_passes_with_declaration_and_evidence(code):
    result = check(complete_application(), code)
    assert result.kind == "declared"
    assert result.passed is True


@pytest.mark.parametrize("code", list(DECLARATIONS))
def test_declared_item_fails_without_its_declaration(code):
    application = complete_application(**{DECLARATIONS[code]: False})
    result = check(application, code)
    assert result.passed is False
    # The evidence is all there: only this item fails.
    others = [c for c in evaluate(reload(application), Policy.current()) if c.code != code]
    assert all(c.passed is True for c in others)


@pytest.mark.parametrize(
    ("code", "remove"), EVIDENCE_MISSING, ids=[f"{c}-{f.__name__}" for c, f in EVIDENCE_MISSING]
)
def test_declared_item_fails_without_its_evidence(code, remove):
    application = complete_application()
    remove(application)
    result = check(application, code)
    assert result.passed is False
    assert result.detail


def test_research_institute_counts_like_a_university_for_the_alliance():
    application = complete_application()
    MemberUnit.objects.filter(application=application, kind=MemberUnit.Kind.UNIVERSITY).update(
        kind=MemberUnit.Kind.RESEARCH_INSTITUTE
    )
    assert check(application, "3").passed is True


def test_a_member_that_is_both_shareholder_and_alliance_member_is_a_shareholder():
    application = complete_application()
    MemberUnit.objects.filter(application=application).update(relation=MemberUnit.Relation.BOTH)
    assert check(application, "2").passed is True


# --- a new policy version moves the thresholds -----------------------------------------------------------


def new_policy_raising_everything_by(step: Decimal) -> Policy:
    old = Policy.current()
    return Policy.objects.create(
        note="测试：提高门槛",
        min_total_investment=old.min_total_investment + step * 100,
        min_rd_staff_ratio=old.min_rd_staff_ratio + step,
        min_rd_expense_ratio=old.min_rd_expense_ratio + step,
    )


def test_a_new_policy_version_changes_the_result():
    old = Policy.current()
    employees, total_cost = 1000, Decimal("1000.00")
    application = complete_application(
        investment_capital=old.min_total_investment,
        investment_ip=Decimal(0),
        employees=employees,
        rd_staff=rd_staff_at_threshold(employees),
        total_cost=total_cost,
        rd_expense=(old.min_rd_expense_ratio * total_cost / 100).quantize(CENT),
    )
    assert [check(application, code).passed for code in "456"] == [True, True, True]

    new = new_policy_raising_everything_by(Decimal("5"))
    assert new.version > old.version
    assert Policy.current() == new
    assert [check(application, code).passed for code in "456"] == [False, False, False]
    # The old version is kept unchanged: an application judged under it still passes under it.
    assert [check(application, code, policy=old).passed for code in "456"] == [True, True, True]


def test_meeting_the_raised_policy_passes_again():
    new_policy_raising_everything_by(Decimal("5"))
    policy = Policy.current()
    employees, total_cost = 1000, Decimal("1000.00")
    application = complete_application(
        investment_capital=policy.min_total_investment,
        investment_ip=Decimal(0),
        employees=employees,
        rd_staff=rd_staff_at_threshold(employees),
        total_cost=total_cost,
        rd_expense=(policy.min_rd_expense_ratio * total_cost / 100).quantize(CENT),
    )
    assert [check(application, code).passed for code in "456"] == [True, True, True]


def test_a_policy_in_the_future_is_not_yet_in_force():
    from datetime import timedelta

    from django.utils import timezone

    current = Policy.current()
    Policy.objects.create(
        effective_from=timezone.now() + timedelta(days=30), min_rd_staff_ratio=current.min_rd_staff_ratio + 10
    )
    assert Policy.current() == current


def test_a_policy_version_cannot_be_edited():
    from django.core.exceptions import ValidationError

    policy = Policy.current()
    policy.min_rd_staff_ratio += 1
    with pytest.raises(ValidationError):
        policy.save()


# --- one centre per field ---------------------------------------------------------------------------------


def award(application):
    Application.objects.filter(pk=application.pk).update(status=Status.AWARDED)


def test_field_clash_lists_an_awarded_application_in_the_same_field():
    field, other_field = Field.objects.all()[:2]
    awarded_same = ApplicationFactory(field=field, centre_name="已授牌中心")
    award(awarded_same)
    awarded_other_field = ApplicationFactory(field=other_field)
    award(awarded_other_field)
    approved_same = ApplicationFactory(field=field)
    Application.objects.filter(pk=approved_same.pk).update(status=Status.APPROVED)
    draft_same = ApplicationFactory(field=field)
    submitted_same = ApplicationFactory(field=field)
    Application.objects.filter(pk=submitted_same.pk).update(status=Status.SUBMITTED)

    new = ApplicationFactory(field=field)
    assert field_clash(new) == [awarded_same]
    assert draft_same not in field_clash(new)


def test_field_clash_is_empty_without_an_awarded_centre_or_a_field():
    field = Field.objects.first()
    for status in (Status.DRAFT, Status.SUBMITTED, Status.PUBLICITY, Status.APPROVED, Status.REJECTED):
        app = ApplicationFactory(field=field)
        Application.objects.filter(pk=app.pk).update(status=status)
    assert field_clash(ApplicationFactory(field=field)) == []
    award(ApplicationFactory(field=field))
    assert field_clash(ApplicationFactory(field=None)) == []


def test_an_awarded_application_does_not_clash_with_itself():
    application = ApplicationFactory(field=Field.objects.first())
    award(application)
    assert field_clash(reload(application)) == []


# --- completeness ----------------------------------------------------------------------------------------

# The form labels the applicant sees; each must be named when it is empty.
REQUIRED_TEXT = {
    "centre_name": "创新中心名称",
    "host_name": "依托公司名称",
    "host_credit_code": "依托公司统一社会信用代码",
    "basis": "建设基础条件",
    "construction_plan": "建设规划",
    "tech_direction": "技术发展方向和目标",
    "operating_model": "运营模式",
    "expected_results": "预期成果",
    "benefits": "经济社会效益",
    "roadmap": "技术路线图",
    "host_board": "董事会组成",
    "host_management": "管理团队",
}
REQUIRED_VALUES = {
    "field": "重点布局领域",
    "host_registered_capital": "依托公司注册资本（万元）",
    "host_founded_on": "依托公司成立日期",
    "investment_capital": "资本投入（万元）",
    "investment_ip": "知识产权投入（万元）",
    "employees": "职工总数",
    "rd_staff": "研发及相关人员数",
    "total_cost": "年度总成本支出（万元）",
    "rd_expense": "年度研发经费支出（万元）",
}


def test_an_empty_draft_misses_everything():
    missing = missing_for_submission(ApplicationFactory())
    for label in [*REQUIRED_TEXT.values(), *REQUIRED_VALUES.values()]:
        assert label in missing
    for kind in (
        Attachment.Kind.PLAN,
        Attachment.Kind.AGREEMENT,
        Attachment.Kind.LICENCE,
        Attachment.Kind.AUDIT,
    ):
        assert any(str(kind.label) in item for item in missing), kind
    assert not any(str(Attachment.Kind.OTHER.label) in item for item in missing)
    assert any("预期成果指标" in item for item in missing)
    assert any("共建单位" in item for item in missing)
    assert any("专家委员会" in item for item in missing)
    assert len(missing) == len(set(missing)) == len(REQUIRED_TEXT) + len(REQUIRED_VALUES) + 3 + 4


def test_a_complete_application_misses_nothing():
    assert missing_for_submission(reload(complete_application())) == []


def test_a_complete_application_that_fails_the_thresholds_is_still_complete():
    """Completeness and eligibility are separate: a failed check warns, it never blocks submission."""
    application = complete_application(
        investment_capital=Decimal(0), investment_ip=Decimal(0), rd_staff=0, rd_expense=Decimal(0)
    )
    application = reload(application)
    assert missing_for_submission(application) == []
    assert not all_passed(evaluate(application, Policy.current()))


@pytest.mark.parametrize("name", list(REQUIRED_TEXT))
def test_a_blank_text_is_missing(name):
    application = set_fields(complete_application(), **{name: "   "})
    assert missing_for_submission(application) == [REQUIRED_TEXT[name]]


@pytest.mark.parametrize("name", list(REQUIRED_VALUES))
def test_an_empty_value_is_missing(name):
    application = set_fields(complete_application(), **{name: None})
    assert missing_for_submission(application) == [REQUIRED_VALUES[name]]


def test_zero_is_an_answer_not_a_gap():
    application = set_fields(complete_application(), investment_ip=Decimal(0))
    assert missing_for_submission(application) == []


@pytest.mark.parametrize(
    "kind", [Attachment.Kind.PLAN, Attachment.Kind.AGREEMENT, Attachment.Kind.LICENCE, Attachment.Kind.AUDIT]
)
def test_each_required_attachment_is_missing_alone(kind):
    application = complete_application()
    drop_attachment(kind)(application)
    missing = missing_for_submission(reload(application))
    assert len(missing) == 1
    assert str(kind.label) in missing[0]


@pytest.mark.parametrize("related", ["outcomes", "members", "committee"])
def test_each_required_list_is_missing_alone(related):
    application = complete_application()
    getattr(application, related).all().delete()
    assert len(missing_for_submission(reload(application))) == 1


def test_the_factory_uses_valid_credit_codes_and_a_lead_unit_author():
    from accounts.validators import validate_credit_code

    application = complete_application()
    validate_credit_code(application.host_credit_code)
    for member in application.members.all():
        validate_credit_code(member.credit_code)
    assert application.created_by.organisation_id == application.lead_unit_id
    assert application.created_by.has_role(Role.LEAD_UNIT)
    assert application.district_id == application.lead_unit.district_id
    assert make_credit_code(1) != make_credit_code(2)


def test_the_factory_can_write_for_a_given_lead_user():
    user = user_with_role(Role.LEAD_UNIT)
    application = complete_application(lead_user=user)
    assert application.created_by == user
    assert application.lead_unit == user.organisation

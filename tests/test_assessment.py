"""The three-year assessment (考核评估) after recognition: the beat trigger (once per cycle), the grade
bands of the policy, scoring by a panel with the shared engine, confirmation and exclusion (which blocks
the lead unit's new applications until the date), the centres' private pages, and query counts that do
not grow with rows."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import District, Notification
from accounts.roles import Role
from applications import services as application_services
from applications.models import Application, Policy
from applications.services import ActionRefused
from centres import services as centre_services
from centres.models import Centre, CentreEvent, Nomination
from evaluation import comprehensive, panels, publicity, workflow
from evaluation.models import Assignment, ScoreSheetTemplate
from reports.assessment import (
    confirm,
    grade_for,
    open_by_staff,
    open_due_assessments,
    score,
    start_panel,
)
from reports.models import AnnualSummary, Assessment, ReportingYear
from tests.factories import (
    PDF_BYTES,
    OrganisationFactory,
    application_in,
    application_in_publicity,
    awarded_centre,
    complete_application,
    expert_with_profile,
    expire_announcement,
    policy_version,
    submit_sheet,
    user_with_role,
)

pytestmark = pytest.mark.django_db

Grade = Assessment.Grade
D = datetime.date
AWARD = D(2021, 6, 1)  # marks (3-year interval of the policy): 2024-06-01, 2027-06-01, 2030-06-01 ...


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


@pytest.fixture
def lead(db):
    return user_with_role(Role.LEAD_UNIT, full_name="李明")


@pytest.fixture
def centre(lead):
    return awarded_centre(lead_user=lead, award_date=AWARD, name="重庆市甲创新中心")


def cycles(centre) -> list[tuple[int, datetime.date]]:
    return list(Assessment.objects.filter(centre=centre).order_by("cycle").values_list("cycle", "due_on"))


def years_later(day: datetime.date, years: int) -> datetime.date:
    """``day`` plus whole years; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# --- 1. the three-year trigger ---------------------------------------------------------------------------


def test_the_policy_in_force_assesses_every_three_years():
    # The dates below are computed by hand for a 3-year interval and a 5-expert minimum panel.
    policy = Policy.current()
    assert policy.assessment_interval_years == 3
    assert policy.exclusion_years == 3
    assert policy.min_panel_size == 5
    assert policy.score_aggregate == Policy.Aggregate.MEAN


def test_the_three_year_trigger_fires_exactly_once_per_cycle(staff, centre):
    # Award 2021-06-01: nothing before 2024-06-01.
    for day in (AWARD, D(2022, 6, 1), D(2024, 5, 31)):
        assert open_due_assessments(today=day) == 0
    assert cycles(centre) == []

    # On the mark: cycle 1, due on award + 3 years.
    assert open_due_assessments(today=D(2024, 6, 1)) == 1
    assert cycles(centre) == [(1, D(2024, 6, 1))]
    first = Assessment.objects.get(centre=centre, cycle=1)
    assert not first.grade and first.panel_id is None and first.confirmed_at is None

    # The same day again (a second beat run), the next day, later in the cycle: nothing new.
    for day in (D(2024, 6, 1), D(2024, 6, 1), D(2024, 6, 2), D(2025, 12, 31), D(2027, 5, 31)):
        assert open_due_assessments(today=day) == 0
    assert cycles(centre) == [(1, D(2024, 6, 1))]

    # Award + 6 years: cycle 2, once.
    assert open_due_assessments(today=D(2027, 6, 1)) == 1
    assert open_due_assessments(today=D(2027, 6, 1)) == 0
    assert open_due_assessments(today=D(2030, 5, 31)) == 0
    assert cycles(centre) == [(1, D(2024, 6, 1)), (2, D(2027, 6, 1))]

    # Commission staff are told once per opened cycle, with a link to the assessment.
    links = list(Notification.objects.filter(recipient=staff).values_list("link", flat=True))
    assert sorted(links) == sorted(
        reverse("reports:assessment", args=[a.pk]) for a in centre.assessments.all()
    )


def test_a_missed_run_opens_each_missing_cycle_once(staff):
    centre = awarded_centre(award_date=D(2018, 3, 15))
    # The beat never ran until award + 7 years (2025-03-15): the marks 2021-03-15 and 2024-03-15 have
    # passed, 2027-03-15 has not. Each missing cycle is opened once, with its own due date.
    assert open_due_assessments(today=D(2025, 3, 15)) == 2
    assert cycles(centre) == [(1, D(2021, 3, 15)), (2, D(2024, 3, 15))]
    assert open_due_assessments(today=D(2025, 3, 15)) == 0
    assert open_due_assessments(today=D(2027, 3, 14)) == 0
    assert open_due_assessments(today=D(2027, 3, 15)) == 1
    assert cycles(centre) == [(1, D(2021, 3, 15)), (2, D(2024, 3, 15)), (3, D(2027, 3, 15))]


def test_the_accepted_summaries_of_the_three_preceding_years_are_attached(staff, centre):
    other = awarded_centre(award_date=AWARD, name="重庆市乙创新中心")
    summaries = {}
    for year in range(2020, 2026):
        reporting_year = ReportingYear.objects.create(year=year, due_date=D(year + 1, 3, 31), opened_by=staff)
        summaries[year] = AnnualSummary.objects.create(
            centre=centre, reporting_year=reporting_year, state=AnnualSummary.State.ACCEPTED
        )
        AnnualSummary.objects.create(centre=other, reporting_year=reporting_year, state="accepted")
    AnnualSummary.objects.filter(pk=summaries[2022].pk).update(state=AnnualSummary.State.DRAFT)

    open_due_assessments(today=D(2024, 6, 1))
    # Due 2024-06-01: the reporting years 2021, 2022, 2023 (not 2020, not 2024), of this centre only, and
    # only what staff accepted (the 2022 draft is not a summary yet).
    assessment = Assessment.objects.get(centre=centre, cycle=1)
    assert set(assessment.summaries.all()) == {summaries[2021], summaries[2023]}
    assert {s.reporting_year.year for s in Assessment.objects.get(centre=other).summaries.all()} == {
        2021,
        2022,
        2023,
    }

    open_due_assessments(today=D(2027, 6, 1))
    # Due 2027-06-01: 2024, 2025 exist (2026 does not yet).
    second = Assessment.objects.get(centre=centre, cycle=2)
    assert set(second.summaries.all()) == {summaries[2024], summaries[2025]}


def test_withdrawn_centres_are_skipped(staff, centre):
    withdrawn = awarded_centre(award_date=AWARD, name="重庆市乙创新中心")
    centre_services.withdraw_title(withdrawn, staff, "连续两年未报送年度工作总结。")
    excluded = awarded_centre(
        award_date=AWARD, name="重庆市丙创新中心", status=Centre.Status.EXCLUDED, excluded_until=D(2026, 1, 1)
    )
    # Two centres reach their mark (the active and the excluded one); the withdrawn one is left alone.
    assert open_due_assessments(today=D(2024, 6, 1)) == 2
    assert cycles(withdrawn) == []
    assert cycles(centre) == [(1, D(2024, 6, 1))]
    assert cycles(excluded) == [(1, D(2024, 6, 1))]


def _beats_in_threads(count, today):
    """``count`` runs of the trigger at once, each in a thread of its own (own connection)."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = open_due_assessments(today=today)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a trigger run hung"
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_trigger_runs_at_once_open_each_cycle_once():
    staff = user_with_role(Role.COMMISSION_STAFF)
    centres = [awarded_centre(award_date=D(2018, 3, 15), name=f"重庆市第{n}创新中心") for n in range(3)]
    # On 2025-03-15 each centre is due for cycles 1 (2021-03-15) and 2 (2024-03-15): 3 × 2 = 6 in all,
    # however the two runs share them.
    results = _beats_in_threads(2, D(2025, 3, 15))
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 6
    for centre in centres:
        assert cycles(centre) == [(1, D(2021, 3, 15)), (2, D(2024, 3, 15))]
    # Commission staff were told once per assessment.
    assert Notification.objects.filter(recipient=staff).count() == 6


def test_an_award_on_29_february_is_assessed_on_28_february_of_common_years(staff):
    centre = awarded_centre(award_date=D(2020, 2, 29))
    # 2023 has no 29 February: the mark is 2023-02-28.
    assert open_due_assessments(today=D(2023, 2, 27)) == 0
    assert open_due_assessments(today=D(2023, 2, 28)) == 1
    assert open_due_assessments(today=D(2023, 3, 1)) == 0
    assert cycles(centre) == [(1, D(2023, 2, 28))]
    # A run on 2032-03-01 opens cycles 2 (2026-02-28), 3 (2029-02-28) and 4 (2032-02-29, a leap year).
    assert open_due_assessments(today=D(2032, 3, 1)) == 3
    assert cycles(centre) == [
        (1, D(2023, 2, 28)),
        (2, D(2026, 2, 28)),
        (3, D(2029, 2, 28)),
        (4, D(2032, 2, 29)),
    ]


def test_the_beat_task_opens_what_is_due_today(staff):
    from reports.tasks import open_due_assessments as task

    today = timezone.localdate()
    due = awarded_centre(award_date=years_later(today, -3))  # its mark is today
    not_yet = awarded_centre(award_date=years_later(today, -3) + datetime.timedelta(days=1))
    assert task.apply().get() == 1
    assert cycles(due) == [(1, years_later(due.award_date, 3))]  # today, or 28 Feb when today is 29 Feb
    assert cycles(not_yet) == []
    assert task.apply().get() == 0


def test_staff_open_the_next_cycle_early_once(staff, lead):
    centre = awarded_centre(lead_user=lead, award_date=D(2025, 1, 10), name="重庆市甲创新中心")
    today = timezone.localdate()
    assessment = open_by_staff(centre, staff)
    assert (assessment.cycle, assessment.due_on) == (1, today)
    assert cycles(centre) == [(1, today)]
    # The beat at the mark (2028-01-10) does not open cycle 1 again; cycle 2 comes at award + 6 years.
    assert open_due_assessments(today=D(2028, 1, 10)) == 0
    assert open_due_assessments(today=D(2031, 1, 9)) == 0
    assert open_due_assessments(today=D(2031, 1, 10)) == 1
    assert cycles(centre) == [(1, today), (2, D(2031, 1, 10))]


def test_only_commission_staff_open_an_assessment_and_never_for_a_withdrawn_centre(staff, lead, centre):
    with pytest.raises(ActionRefused, match="只有市经济信息委工作人员可以启动考核评估"):
        open_by_staff(centre, lead)
    centre_services.withdraw_title(centre, staff, "未报送年度工作总结。")
    with pytest.raises(ActionRefused, match="该创新中心已撤销称号"):
        open_by_staff(centre, staff)
    assert cycles(centre) == []


def test_a_second_click_while_the_cycle_is_open_does_not_open_another(staff, lead):
    centre = awarded_centre(lead_user=lead, award_date=D(2025, 1, 10))
    open_by_staff(centre, staff)
    with pytest.raises(ActionRefused):
        open_by_staff(centre, staff)
    assert [c for c, _ in cycles(centre)] == [1]


# --- 2. the grade bands of the policy --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("100", Grade.EXCELLENT),
        ("90", Grade.EXCELLENT),
        ("89.99", Grade.GOOD),
        ("80", Grade.GOOD),
        ("79.99", Grade.PASS),
        ("60", Grade.PASS),
        ("59.99", Grade.FAIL),
        ("0", Grade.FAIL),
    ],
)
def test_grade_at_each_band_edge_of_the_policy_in_force(total, grade):
    # Bands of the policy: 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60, else 不合格.
    policy = Policy.current()
    assert (policy.grade_excellent_min, policy.grade_good_min, policy.grade_pass_min) == (90, 80, 60)
    assert grade_for(Decimal(total), policy) == grade


def test_grade_labels():
    assert [g.label for g in Grade] == ["优秀", "良好", "合格", "不合格"]


@pytest.mark.parametrize(
    ("total", "grade"),
    [
        ("95", Grade.EXCELLENT),
        ("94.99", Grade.GOOD),
        ("90", Grade.GOOD),  # 优秀 under the previous version
        ("85", Grade.GOOD),
        ("84.99", Grade.PASS),
        ("80", Grade.PASS),
        ("70", Grade.PASS),
        ("69.99", Grade.FAIL),
        ("60", Grade.FAIL),  # 合格 under the previous version
    ],
)
def test_a_new_policy_version_moves_the_bands(total, grade):
    old = Policy.current()
    new = policy_version(grade_excellent_min=95, grade_good_min=85, grade_pass_min=70)
    assert Policy.current() == new and new.version == old.version + 1
    assert grade_for(Decimal(total), new) == grade
    # The previous version keeps its own bands.
    assert grade_for(Decimal("90"), old) == Grade.EXCELLENT
    assert grade_for(Decimal("60"), old) == Grade.PASS


# --- 3. scoring and confirmation ---------------------------------------------------------------------------


def with_panel(centre, staff, size=5) -> tuple[Assessment, list[Assignment]]:
    """The next cycle opened by staff, its panel started and ``size`` fresh experts (unrelated employers)
    assigned. Returns (assessment fresh from the database, assignments in order)."""
    assessment = open_by_staff(centre, staff)
    start_panel(assessment, staff, deadline=timezone.now() + datetime.timedelta(days=7))
    assessment = Assessment.objects.select_related("panel").get(pk=assessment.pk)
    experts = [expert_with_profile(full_name=f"专家{n}") for n in range(1, size + 1)]
    return assessment, panels.assign(assessment.panel, staff, experts)


def scored(centre, staff, totals) -> Assessment:
    assessment, assignments = with_panel(centre, staff, size=len(totals))
    for assignment, total in zip(assignments, totals, strict=True):
        submit_sheet(assignment, total=total)
    return score(assessment, staff)


def test_the_panel_is_an_assessment_panel_with_the_assessment_sheet(staff, centre):
    assessment, assignments = with_panel(centre, staff)
    panel = assessment.panel
    assert panel.kind == ScoreSheetTemplate.Kind.ASSESSMENT
    assert panel.application_id == centre.application_id
    assert [(c.name, c.max_points) for c in panel.template.criteria.order_by("order")] == [
        ("建设目标完成", 30),
        ("共性技术与成果", 22),
        ("创新投入", 20),
        ("协同创新", 10),
        ("成果转化与市场化", 10),
        ("可持续发展", 8),
    ]
    assert len(assignments) == 5
    with pytest.raises(ActionRefused, match="该考核评估已有专家组"):
        start_panel(assessment, staff, deadline=timezone.now() + datetime.timedelta(days=7))


def test_score_is_refused_without_a_panel_or_by_others(staff, lead, centre):
    assessment = open_by_staff(centre, staff)
    with pytest.raises(ActionRefused, match="尚未组建考核专家组"):
        score(assessment, staff)
    with pytest.raises(ActionRefused, match="只有市经济信息委工作人员可以汇总考核评分"):
        score(assessment, lead)


def test_score_is_refused_while_experts_have_not_submitted(staff, centre):
    assessment, assignments = with_panel(centre, staff)
    for assignment in assignments[:4]:
        submit_sheet(assignment, total=80)
    with pytest.raises(ActionRefused, match="专家组还不能结束") as refused:
        score(assessment, staff)
    assert refused.value.details == ["以下专家尚未提交评分：专家5"]
    assessment.refresh_from_db()
    assessment.panel.refresh_from_db()
    assert assessment.total is None and assessment.grade == "" and assessment.panel.closed_at is None


@pytest.mark.parametrize(
    ("size", "withdrawn", "active"),
    [
        (4, 0, 4),  # even and below the minimum of 5
        (3, 0, 3),  # odd but below the minimum
        (6, 0, 6),  # even
        (5, 1, 4),  # one expert withdrew: 4 left, even
    ],
)
def test_score_is_refused_while_the_panel_is_too_small_or_even(staff, centre, size, withdrawn, active):
    assessment, assignments = with_panel(centre, staff, size=size)
    for assignment in assignments[:withdrawn]:
        panels.declare(assignment, assignment.expert, dict.fromkeys(Assignment.CONFLICT_QUESTIONS, True))
    for assignment in assignments[withdrawn:]:
        submit_sheet(assignment, total=80)
    with pytest.raises(ActionRefused) as refused:
        score(assessment, staff)
    assert refused.value.details == [f"有效专家{active}人，专家组应为不少于5人的奇数。"]
    assert Assessment.objects.get(pk=assessment.pk).grade == ""


def test_score_closes_the_panel_and_takes_its_used_score_and_grade(staff, centre):
    # Totals 50 + 55 + 58 + 60 + 62 = 285; plain mean 285 / 5 = 57.00 → 不合格 (< 60).
    assessment = scored(centre, staff, [50, 55, 58, 60, 62])
    assessment = Assessment.objects.select_related("panel").get(pk=assessment.pk)
    assert assessment.panel.closed_at is not None
    assert assessment.panel.result["used"] == "57.00"
    assert assessment.total == Decimal("57.00")
    assert assessment.grade == Grade.FAIL
    assert assessment.confirmed_at is None
    # Scoring alone changes nothing about the centre.
    centre.refresh_from_db()
    assert centre.status == Centre.Status.ACTIVE and centre.excluded_until is None


def test_score_follows_a_new_policy_version(staff, centre):
    policy_version(grade_excellent_min=95, grade_good_min=85, grade_pass_min=70)
    # 60 + 62 + 65 + 68 + 70 = 325; 325 / 5 = 65.00: 合格 under 90/80/60, 不合格 under 95/85/70.
    assessment = scored(centre, staff, [60, 62, 65, 68, 70])
    assert (assessment.total, assessment.grade) == (Decimal("65.00"), Grade.FAIL)


def test_confirming_a_fail_excludes_the_centre_and_tells_the_lead_unit(staff, lead, centre):
    colleague = user_with_role(Role.LEAD_UNIT, organisation=lead.organisation)
    stranger = user_with_role(Role.LEAD_UNIT)
    assessment = scored(centre, staff, [50, 55, 58, 60, 62])  # 57.00 → 不合格
    with pytest.raises(ActionRefused, match="只有市经济信息委工作人员可以确认考核结果"):
        confirm(assessment, lead)

    confirm(assessment, staff)

    today = timezone.localdate()
    until = years_later(today, 3)  # the confirmation date + policy.exclusion_years (3)
    centre.refresh_from_db()
    assert centre.status == Centre.Status.EXCLUDED
    assert centre.excluded_until == until
    assert centre.is_excluded(today) and not centre.is_excluded(until)
    assessment.refresh_from_db()
    assert assessment.confirmed_by == staff and assessment.confirmed_at is not None
    event = CentreEvent.objects.get(centre=centre, action="excluded")
    assert event.actor == staff
    assert event.comment == f"第1轮考核评估不合格（57.00分）（至{until:%Y-%m-%d}）"
    notes = Notification.objects.filter(link=reverse("reports:centre", args=[centre.pk]))
    assert {n.recipient for n in notes} == {lead, colleague}
    assert not Notification.objects.filter(recipient=stranger).exists()
    # (the lead unit was also told when the assessment opened)
    body = notes.get(recipient=lead, body__contains="考核评估结果为").body
    assert "“重庆市甲创新中心”第1轮考核评估结果为不合格（57.00分）" in body
    assert f"{until:%Y-%m-%d}前不纳入支持范围" in body

    # Confirmed once only; scoring again is refused too.
    with pytest.raises(ActionRefused, match="考核结果已确认"):
        confirm(assessment, staff)
    with pytest.raises(ActionRefused, match="考核结果已确认"):
        score(assessment, staff)
    assert CentreEvent.objects.filter(centre=centre, action="excluded").count() == 1

    # The lead unit cannot start a new application now.
    with pytest.raises(ActionRefused, match="重庆市甲创新中心"):
        application_services.create_draft(colleague)


def test_confirming_a_fail_uses_the_exclusion_years_of_the_policy(staff, centre):
    policy_version(exclusion_years=2)
    confirm(scored(centre, staff, [50, 55, 58, 60, 62]), staff)
    centre.refresh_from_db()
    assert centre.excluded_until == years_later(timezone.localdate(), 2)


def test_confirming_a_pass_keeps_the_centre_active(staff, lead, centre):
    # 70 + 75 + 80 + 85 + 90 = 400; 400 / 5 = 80.00 → 良好 (exactly the edge).
    assessment = scored(centre, staff, [70, 75, 80, 85, 90])
    assert (assessment.total, assessment.grade) == (Decimal("80.00"), Grade.GOOD)
    confirm(assessment, staff)
    centre.refresh_from_db()
    assert centre.status == Centre.Status.ACTIVE and centre.excluded_until is None
    event = CentreEvent.objects.get(centre=centre)
    assert (event.action, event.comment) == ("assessment", "第1轮考核评估良好（80.00分），继续给予支持")
    body = Notification.objects.get(
        recipient=lead, link=reverse("reports:centre", args=[centre.pk]), body__contains="考核评估结果为"
    ).body
    assert "第1轮考核评估结果为良好（80.00分）" in body and "不纳入支持范围" not in body
    with pytest.raises(ActionRefused, match="考核结果已确认"):
        confirm(assessment, staff)
    # The lead unit may apply again.
    assert application_services.create_draft(lead).lead_unit == lead.organisation


def test_confirm_before_scoring_is_refused(staff, centre):
    assessment, _ = with_panel(centre, staff)
    with pytest.raises(ActionRefused, match="尚未汇总考核评分"):
        confirm(assessment, staff)


# --- 4. exclusion blocks new applications ------------------------------------------------------------------


def excluded_centre(lead, until):
    return awarded_centre(
        lead_user=lead, name="重庆市甲创新中心", status=Centre.Status.EXCLUDED, excluded_until=until
    )


def test_exclusion_blocks_a_new_application_until_the_date_and_not_after(lead):
    today = timezone.localdate()
    until = today + datetime.timedelta(days=10)
    centre = excluded_centre(lead, until)
    before = Application.objects.count()

    with pytest.raises(ActionRefused) as refused:
        application_services.create_draft(lead)
    assert refused.value.message == (
        f"贵单位牵头的“重庆市甲创新中心”考核评估不合格，{until:%Y-%m-%d}前不纳入支持范围，不能新建申报。"
    )
    assert Application.objects.count() == before

    # The day before the date still excluded; on the date and after, not.
    organisation = lead.organisation
    assert application_services.exclusion(organisation, today=until - datetime.timedelta(days=1)) == centre
    assert application_services.exclusion(organisation, today=until) is None
    assert application_services.exclusion(organisation, today=until + datetime.timedelta(days=1)) is None

    # Another lead unit is not affected.
    other = user_with_role(Role.LEAD_UNIT)
    assert application_services.create_draft(other).lead_unit == other.organisation

    # Time moves: the date is reached today.
    Centre.objects.filter(pk=centre.pk).update(excluded_until=today)
    application = application_services.create_draft(lead)
    assert application.lead_unit == organisation and application.status == "draft"


def _exclusion_message(lead, until, action):
    return (
        f"牵头单位“{lead.organisation.name}”牵头的“重庆市甲创新中心”考核评估不合格，"
        f"{until:%Y-%m-%d}前不纳入支持范围，不能{action}。"
    )


def test_a_draft_written_before_the_exclusion_cannot_be_submitted(lead):
    draft = complete_application(lead_user=lead)  # written while the lead unit was not excluded
    until = timezone.localdate() + datetime.timedelta(days=400)
    excluded_centre(lead, until)

    with pytest.raises(ActionRefused) as refused:
        application_services.submit(draft, lead)

    assert refused.value.message == _exclusion_message(lead, until, "提交")
    draft.refresh_from_db()
    assert (draft.status, draft.number, draft.revision) == ("draft", None, 0)
    assert not draft.events.filter(action="submit").exists()


def test_a_returned_plan_cannot_be_resubmitted_while_excluded(lead, staff):
    returned = application_in("returned", staff=staff, lead_user=lead)
    until = timezone.localdate() + datetime.timedelta(days=30)
    excluded_centre(lead, until)

    with pytest.raises(ActionRefused) as refused:
        application_services.submit(returned, lead)

    assert refused.value.message == _exclusion_message(lead, until, "重新提交")
    assert Application.objects.get(pk=returned.pk).status == "returned"
    # Withdrawing stays possible.
    application_services.withdraw(returned, lead, reason="暂停支持期间撤回")
    assert Application.objects.get(pk=returned.pk).status == "withdrawn"


def test_the_submit_page_names_the_end_of_the_exclusion(client, lead):
    draft = complete_application(lead_user=lead)
    until = timezone.localdate() + datetime.timedelta(days=30)
    excluded_centre(lead, until)
    client.force_login(lead)

    response = client.post(reverse("applications:submit", args=[draft.pk]), {"confirm": "on"}, follow=True)

    assert response.status_code == 200
    assert _exclusion_message(lead, until, "提交") in response.content.decode()
    assert Application.objects.get(pk=draft.pk).status == "draft"


def test_staff_cannot_move_an_excluded_lead_units_plan_forward(lead, staff):
    submitted = application_in("submitted", staff=staff, lead_user=lead)
    comprehensive_one = application_in("comprehensive", staff=staff, lead_user=lead)
    in_leadership = application_in("leadership", staff=staff, lead_user=lead)
    until = timezone.localdate() + datetime.timedelta(days=30)
    excluded_centre(lead, until)

    with pytest.raises(ActionRefused) as refused:
        workflow.start_preliminary(submitted, staff)
    assert refused.value.message == _exclusion_message(lead, until, "受理并开始初审")
    with pytest.raises(ActionRefused) as refused:
        comprehensive.decide(Application.objects.get(pk=comprehensive_one.pk), staff, "recognise", reason="x")
    assert refused.value.message == _exclusion_message(lead, until, "提请委主任办公会审定")
    with pytest.raises(ActionRefused) as refused:
        workflow.record_leadership_meeting(
            staff,
            meeting_date=timezone.localdate(),
            title="委主任办公会",
            minutes=ContentFile(PDF_BYTES, name="会议纪要.pdf"),
            decisions={in_leadership.pk: ("approve", "")},
        )
    assert refused.value.details == [_exclusion_message(lead, until, "审定同意")]
    assert [
        Application.objects.get(pk=a.pk).status for a in (submitted, comprehensive_one, in_leadership)
    ] == [
        "submitted",
        "comprehensive",
        "leadership",
    ]
    assert not workflow.leadership_approved(Application.objects.get(pk=in_leadership.pk))
    # Rejection stays possible.
    workflow.reject(in_leadership, staff, "牵头单位考核不合格，暂停支持。")
    assert Application.objects.get(pk=in_leadership.pk).status == "rejected"


@pytest.mark.parametrize("chunk", [False, True], ids=["one-by-one", "shared-out-chunk"])
def test_the_sweep_does_not_approve_a_plan_whose_lead_unit_was_excluded_during_publicity(lead, staff, chunk):
    application, announcement = application_in_publicity(staff=staff, lead_user=lead)
    until = timezone.localdate() + datetime.timedelta(days=30)
    excluded_centre(lead, until)
    expire_announcement(announcement)

    counts = publicity.close_many([announcement.pk]) if chunk else publicity.close_expired()

    assert counts == {"closed": 1, "approved": 0, "waiting": 1}
    assert Application.objects.get(pk=application.pk).status == "publicity"
    note = Notification.objects.get(recipient=staff, subject__startswith="待办理")
    assert _exclusion_message(lead, until, "批复") in note.body
    with pytest.raises(ActionRefused) as refused:
        publicity.approve(Application.objects.get(pk=application.pk), staff)
    assert refused.value.message == _exclusion_message(lead, until, "公示期满，予以批复")


def test_a_past_exclusion_does_not_block(lead):
    excluded_centre(lead, timezone.localdate() - datetime.timedelta(days=1))
    assert application_services.create_draft(lead).lead_unit == lead.organisation


def test_the_lead_units_home_says_why_and_hides_the_new_plan_button(client, lead):
    today = timezone.localdate()
    until = today + datetime.timedelta(days=30)
    centre = excluded_centre(lead, until)
    client.force_login(lead)
    create_url = reverse("applications:create")
    reason = (
        f"贵单位牵头的“重庆市甲创新中心”考核评估不合格，{until:%Y-%m-%d}前不纳入支持范围，暂不能新建申报。"
    )

    page = client.get(reverse("applications:lead_home")).content.decode()
    assert reason in page
    assert f'action="{create_url}"' not in page

    # A POST anyway is refused with the message, and nothing is created.
    before = Application.objects.count()
    response = client.post(create_url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("applications:lead_home")
    refusal = (
        f"贵单位牵头的“重庆市甲创新中心”考核评估不合格，{until:%Y-%m-%d}前不纳入支持范围，不能新建申报。"
    )
    assert refusal in [str(m) for m in response.context["messages"]]
    assert refusal in response.content.decode()
    assert Application.objects.count() == before

    # The date reached: the button is back, the message gone, and creating works.
    Centre.objects.filter(pk=centre.pk).update(excluded_until=today)
    page = client.get(reverse("applications:lead_home")).content.decode()
    assert "考核评估不合格" not in page
    assert f'action="{create_url}"' in page
    response = client.post(create_url)
    assert response.status_code == 302
    assert Application.objects.count() == before + 1


# --- 5. centre pages ---------------------------------------------------------------------------------------


def test_a_lead_unit_sees_its_own_centre_only(client, lead, centre):
    other = awarded_centre(name="重庆市乙创新中心")
    client.force_login(lead)

    mine = client.get(reverse("reports:my_centres"))
    assert mine.status_code == 200
    assert "重庆市甲创新中心" in mine.content.decode()
    assert "重庆市乙创新中心" not in mine.content.decode()

    page = client.get(reverse("reports:centre", args=[centre.pk]))
    assert page.status_code == 200
    assert page.context["centre"] == centre and page.context["staff"] is False
    assert "启动下一轮考核评估" not in page.content.decode()

    assert client.get(reverse("reports:centre", args=[other.pk])).status_code == 403
    for name in ("reports:centres", "reports:assessments"):
        assert client.get(reverse(name)).status_code == 403
    # Nor may the lead unit act on its own centre.
    response = client.post(
        reverse("reports:centre", args=[centre.pk]), {"withdraw_title": "1", "reason": "x", "confirm": "on"}
    )
    assert response.status_code == 403
    centre.refresh_from_db()
    assert centre.status == Centre.Status.ACTIVE


def test_district_staff_see_the_centres_of_their_district_only(client, centre):
    yubei = District.objects.get(code="500112")
    assert centre.lead_unit.district == yubei
    elsewhere_lead = user_with_role(
        Role.LEAD_UNIT, organisation=OrganisationFactory(district=District.objects.get(code="500101"))
    )
    elsewhere = awarded_centre(lead_user=elsewhere_lead, name="重庆市万州创新中心")
    client.force_login(user_with_role(Role.DISTRICT_STAFF, district=yubei))

    assert client.get(reverse("reports:centre", args=[centre.pk])).status_code == 200
    assert client.get(reverse("reports:centre", args=[elsewhere.pk])).status_code == 403
    assert client.get(reverse("reports:centres")).status_code == 403
    assert client.get(reverse("reports:my_centres")).status_code == 403
    response = client.post(reverse("reports:centre", args=[centre.pk]), {"open_assessment": "1"})
    assert response.status_code == 403
    assert not Assessment.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, centre):
    response = client.get(reverse("reports:centre", args=[centre.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_staff_withdraw_a_title_with_a_reason_and_it_leaves_the_public_directory(client, staff, centre):
    url = reverse("reports:centre", args=[centre.pk])
    client.force_login(staff)
    assert "重庆市甲创新中心" in client.get(reverse("centres:directory")).content.decode()

    # No reason, or no confirmation: refused with the form error, nothing changes.
    response = client.post(url, {"withdraw_title": "1", "reason": "", "confirm": "on"})
    assert response.status_code == 200
    assert response.context["withdraw_form"].errors["reason"]
    response = client.post(url, {"withdraw_title": "1", "reason": "未报送年度工作总结。"})
    assert response.status_code == 200
    assert response.context["withdraw_form"].errors["confirm"]
    centre.refresh_from_db()
    assert centre.status == Centre.Status.ACTIVE
    assert not CentreEvent.objects.filter(centre=centre).exists()

    response = client.post(
        url, {"withdraw_title": "1", "reason": "连续两年未报送年度工作总结。", "confirm": "on"}
    )
    assert response.status_code == 302
    centre.refresh_from_db()
    assert centre.status == Centre.Status.WITHDRAWN
    event = CentreEvent.objects.get(centre=centre)
    assert (event.action, event.comment, event.actor) == (
        "title_withdrawn",
        "连续两年未报送年度工作总结。",
        staff,
    )

    assert "重庆市甲创新中心" not in client.get(reverse("centres:directory")).content.decode()
    gone = client.get(reverse("centres:detail", args=[centre.pk]))
    assert gone.status_code == 410
    assert f"称号已于{timezone.localdate():%Y-%m-%d}撤销" in gone.content.decode()
    page = client.get(url)
    assert page.status_code == 200
    assert "撤销称号" in page.content.decode() and 'name="withdraw_title"' not in page.content.decode()


def nominate(client, centre, outcome=Nomination.Outcome.SUCCEEDED, outcome_date="2025-09-01", **values):
    """Record a nomination on the centre page, then (unless pending) its outcome on the same record."""
    url = reverse("reports:centre", args=[centre.pk])
    data = {"nominate": "1", "kind": Nomination.Kind.TO_NATIONAL, "nominated_on": "2025-03-01", **values}
    response = client.post(url, data)
    if outcome == Nomination.Outcome.PENDING or response.status_code != 302:
        return response
    nomination = Nomination.objects.get(centre=centre, outcome=Nomination.Outcome.PENDING)
    prefix = f"outcome-{nomination.pk}"
    return client.post(
        url,
        {
            "nomination_outcome": nomination.pk,
            f"{prefix}-nomination": nomination.pk,
            f"{prefix}-outcome": outcome,
            f"{prefix}-outcome_date": outcome_date,
            f"{prefix}-note": "工信部批复组建。",
        },
    )


def test_staff_record_a_national_nomination_that_marks_the_centre_national(client, staff, centre):
    client.force_login(staff)
    # Pending first: recorded, not yet national.
    assert nominate(client, centre, outcome=Nomination.Outcome.PENDING).status_code == 302
    centre.refresh_from_db()
    assert centre.is_national is False

    # The outcome is recorded on the same nomination.
    assert nominate(client, centre).status_code == 200  # a second pending one of the same kind is refused
    nomination = Nomination.objects.get(centre=centre)
    prefix = f"outcome-{nomination.pk}"
    response = client.post(
        reverse("reports:centre", args=[centre.pk]),
        {
            "nomination_outcome": nomination.pk,
            f"{prefix}-nomination": nomination.pk,
            f"{prefix}-outcome": Nomination.Outcome.SUCCEEDED,
            f"{prefix}-outcome_date": "2025-09-01",
        },
    )
    assert response.status_code == 302
    centre.refresh_from_db()
    assert centre.is_national is True
    succeeded = Nomination.objects.get(centre=centre, outcome=Nomination.Outcome.SUCCEEDED)
    assert (succeeded.kind, succeeded.name, succeeded.recorded_by) == (
        Nomination.Kind.TO_NATIONAL,
        "重庆市甲创新中心",
        staff,
    )
    assert succeeded.outcome_date == D(2025, 9, 1)
    assert CentreEvent.objects.filter(centre=centre, action__startswith="nomination").count() == 2

    listing = client.get(reverse("reports:centres")).content.decode()
    assert '重庆市甲创新中心</a> <span class="badge text-bg-success">国家级</span>' in listing
    page = client.get(reverse("reports:centre", args=[centre.pk])).content.decode()
    assert "国家级" in page and "争创国家级" in page


def test_the_public_directory_marks_national_centres(client, staff, centre):
    client.force_login(staff)
    nominate(client, centre)
    centre.refresh_from_db()
    assert centre.is_national
    client.logout()
    directory = client.get(reverse("centres:directory")).content.decode()
    assert "重庆市甲创新中心" in directory
    assert "国家级" in directory


def test_support_years_and_exclusion_dates_of_a_centre(centre):
    # Award 2021-06-01, 3 years of support: 2021-06-01 .. 2024-05-31.
    assert centre.support_years == 3
    assert centre.support_until == D(2024, 5, 31)
    assert [centre.support_year(d) for d in (D(2021, 5, 31), AWARD, D(2022, 5, 31), D(2022, 6, 1))] == [
        None,
        1,
        1,
        2,
    ]
    assert [centre.support_year(d) for d in (D(2023, 6, 1), D(2024, 5, 31), D(2024, 6, 1))] == [3, 3, None]
    centre.excluded_until = D(2027, 7, 1)
    assert centre.is_excluded(D(2027, 6, 30)) and not centre.is_excluded(D(2027, 7, 1))


def test_the_centre_page_shows_the_current_support_year(client, lead):
    today = timezone.localdate()
    centre = awarded_centre(lead_user=lead, award_date=years_later(today, -1))  # the second year starts today
    client.force_login(lead)
    response = client.get(reverse("reports:centre", args=[centre.pk]))
    assert response.context["support_year"] == 2
    assert "当前为第2年" in response.content.decode()


def test_staff_see_the_years_whose_summary_was_never_submitted(client, staff, lead, centre):
    states = {
        2021: AnnualSummary.State.ACCEPTED,
        2022: AnnualSummary.State.SUBMITTED,
        2023: AnnualSummary.State.DRAFT,
        2024: AnnualSummary.State.RETURNED,
    }
    for year, state in states.items():
        reporting_year = ReportingYear.objects.create(year=year, due_date=D(year + 1, 3, 31), opened_by=staff)
        AnnualSummary.objects.create(centre=centre, reporting_year=reporting_year, state=state)
    # 2025's summary is a draft, but its due date (2026-03-31) has not come on 2026-03-31 itself.
    year_2025 = ReportingYear.objects.create(year=2025, due_date=D(2026, 3, 31), opened_by=staff)
    AnnualSummary.objects.create(centre=centre, reporting_year=year_2025)

    from reports.assessment import missing_summaries

    assert sorted(missing_summaries(centre, today=D(2026, 3, 31))) == [2023, 2024]
    assert sorted(missing_summaries(centre, today=D(2026, 4, 1))) == [2023, 2024, 2025]

    client.force_login(staff)
    page = client.get(reverse("reports:centre", args=[centre.pk])).content.decode()
    assert "未报送年度工作总结的年度：" in page
    client.force_login(lead)
    assert (
        "未报送年度工作总结的年度："
        not in client.get(reverse("reports:centre", args=[centre.pk])).content.decode()
    )


def test_the_assessments_list_puts_open_assessments_first(client, staff, centre):
    confirm(scored(centre, staff, [70, 75, 80, 85, 90]), staff)
    waiting = open_by_staff(awarded_centre(name="重庆市乙创新中心"), staff)
    client.force_login(staff)
    listed = list(client.get(reverse("reports:assessments")).context["page"].object_list)
    assert listed[0] == waiting


# --- 6. query counts ---------------------------------------------------------------------------------------

# Measured: staff centres list 10, assessments list 9, centre page 14.
CENTRES_LIST_BUDGET = 10
ASSESSMENTS_LIST_BUDGET = 9
CENTRE_PAGE_BUDGET = 14  # + the application history merged into the timeline


def count_queries(client, url) -> int:
    cache.clear()  # the uncached path: the page renders in full
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def centre_with_history(staff, n):
    centre = awarded_centre(award_date=AWARD, name=f"重庆市第{n}创新中心")
    open_by_staff(centre, staff)
    centre_services.add_event(centre, "note", staff, "测试记录")
    return centre


def test_staff_lists_keep_constant_query_counts_from_1_to_20_centres(client, staff):
    client.force_login(staff)
    centre_with_history(staff, 1)
    small = (
        count_queries(client, reverse("reports:centres")),
        count_queries(client, reverse("reports:assessments")),
    )
    for n in range(2, 21):
        centre_with_history(staff, n)
    assert Centre.objects.count() == 20 and Assessment.objects.count() == 20
    big = (
        count_queries(client, reverse("reports:centres")),
        count_queries(client, reverse("reports:assessments")),
    )
    assert small == big
    assert big[0] <= CENTRES_LIST_BUDGET, big
    assert big[1] <= ASSESSMENTS_LIST_BUDGET, big


def test_the_centre_page_keeps_a_constant_query_count_as_summaries_grow(client, staff, centre):
    client.force_login(staff)
    url = reverse("reports:centre", args=[centre.pk])
    open_by_staff(centre, staff)

    def add_year(year):
        reporting_year = ReportingYear.objects.create(year=year, due_date=D(year + 1, 3, 31), opened_by=staff)
        AnnualSummary.objects.create(
            centre=centre, reporting_year=reporting_year, employees=100 + year % 10, rd_staff=20
        )
        centre_services.add_event(centre, "note", staff, f"{year}年记录")

    add_year(2021)
    one = count_queries(client, url)
    for year in range(2022, 2026):
        add_year(year)
    assert AnnualSummary.objects.filter(centre=centre).count() == 5
    five = count_queries(client, url)
    assert one == five
    assert five <= CENTRE_PAGE_BUDGET, five

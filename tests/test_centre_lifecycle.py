"""After recognition, issue 25 and 15.6: title withdrawal tells the lead unit and the district and closes what
the centre owed; a nomination is one record whose outcome is recorded on it; nominations refuse withdrawn and
excluded centres; an excluded centre is in no support year."""

import datetime

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from applications.services import ActionRefused
from centres import services as centre_services
from centres.models import Centre, CentreEvent, Nomination
from reports import assessment as assessments
from tests.factories import awarded_centre, user_with_role

pytestmark = pytest.mark.django_db

D = datetime.date
Kind, Outcome = Nomination.Kind, Nomination.Outcome


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


@pytest.fixture
def lead(db):
    return user_with_role(Role.LEAD_UNIT, full_name="李明")


@pytest.fixture
def district(db):
    return user_with_role(Role.DISTRICT_STAFF, full_name="王芳")  # 渝北区, the lead unit's district


@pytest.fixture
def centre(lead):
    return awarded_centre(lead_user=lead, award_date=D(2021, 6, 1), name="重庆市甲创新中心")


def today():
    return timezone.localdate()


# --- 25.2 title withdrawal ---------------------------------------------------------------------------------


def test_withdrawing_a_title_tells_the_lead_unit_and_the_district_with_the_reason(
    staff, lead, district, centre, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assessments.withdraw_title(centre, staff, "连续两年未报送年度工作总结。")
    centre.refresh_from_db()
    assert centre.status == Centre.Status.WITHDRAWN
    assert centre.withdrawn_on == today() and centre.withdrawal_reason == "连续两年未报送年度工作总结。"
    for person in (lead, district):
        note = Notification.objects.get(recipient=person)
        assert "撤销称号" in note.subject and "连续两年未报送年度工作总结。" in note.body
        assert note.link == reverse("reports:centre", args=[centre.pk])
    assert not Notification.objects.filter(recipient=staff).exists()
    assert {m.to[0] for m in mail.outbox} >= {lead.email, district.email}


def test_a_title_is_withdrawn_once_by_staff_only_and_with_a_reason(staff, lead, centre):
    with pytest.raises(ActionRefused, match="只有市经济信息委"):
        centre_services.withdraw_title(centre, lead, "理由")
    with pytest.raises(ActionRefused, match="写明理由"):
        centre_services.withdraw_title(centre, staff, "  ")
    centre_services.withdraw_title(centre, staff, "理由")
    with pytest.raises(ActionRefused, match=r"已于.*撤销称号"):
        centre_services.withdraw_title(centre, staff, "再来一次")
    assert CentreEvent.objects.filter(centre=centre, action="title_withdrawn").count() == 1


def test_the_lead_units_home_shows_the_withdrawal_and_its_reason(client, staff, lead, centre):
    client.force_login(staff)
    client.post(
        reverse("reports:centre", args=[centre.pk]),
        {"withdraw_title": "1", "reason": "连续两年未报送年度工作总结。", "confirm": "on"},
    )
    assert Notification.objects.filter(recipient=lead, subject__contains="撤销称号").exists()
    client.force_login(lead)
    page = client.get(reverse("applications:lead_home")).content.decode()
    assert f'data-withdrawn="{centre.pk}"' in page
    assert f"已于{today():%Y-%m-%d}被撤销" in page and "连续两年未报送年度工作总结。" in page
    # The centre page says when, without an end date (a withdrawal does not end).
    centre_page = client.get(reverse("reports:centre", args=[centre.pk])).content.decode()
    assert f"撤销称号（{today():%Y-%m-%d}撤销）" in centre_page


def test_a_withdrawal_after_an_exclusion_shows_no_end_date(client, staff, centre):
    centre_services.exclude(centre, staff, decided_on=today(), years=3, reason="不合格")
    assessments.withdraw_title(Centre.objects.get(pk=centre.pk), staff, "考核不合格，撤销称号。")
    client.force_login(staff)
    page = client.get(reverse("reports:centre", args=[centre.pk])).content.decode()
    status = page.split('id="centre-status">', 1)[1].split("</dd>", 1)[0]
    assert "撤销称号" in status and "至" not in status
    listing = client.get(reverse("reports:centres")).content.decode()
    assert f"撤销称号（{today():%Y-%m-%d}撤销）" in listing


def test_a_withdrawn_centres_open_assessment_closes(staff, centre):
    assessment = assessments.open_by_staff(centre, staff)
    assessments.withdraw_title(centre, staff, "撤销")
    assessment.refresh_from_db()
    assert assessment.closed_at is not None and not assessment.is_open and not assessment.grade
    with pytest.raises(ActionRefused, match="终止"):
        assessments.start_panel(assessment, staff, deadline=timezone.now() + datetime.timedelta(days=7))
    assert assessments.open_due_assessments(today=D(2030, 6, 1)) == 0


def test_a_closed_assessment_says_so_on_the_pages(client, staff, centre):
    from evaluation import panels
    from tests.factories import declare_no_conflict, expert_with_profile

    assessment = assessments.open_by_staff(centre, staff)
    assessments.start_panel(assessment, staff, deadline=timezone.now() + datetime.timedelta(days=7))
    assessment.refresh_from_db()
    expert = expert_with_profile(full_name="专家甲")
    (assignment,) = panels.assign(assessment.panel, staff, [expert])
    assignment = declare_no_conflict(assignment)
    assessments.withdraw_title(centre, staff, "撤销")
    # The expert is told and can no longer score.
    assert Notification.objects.filter(recipient=expert, subject__contains="考核评估已终止").exists()
    with pytest.raises(ActionRefused, match="专家组已结束评分"):
        panels.save_sheet(assignment, expert, {}, "", submit=False)
    client.force_login(staff)
    page = client.get(reverse("reports:assessment", args=[assessment.pk])).content.decode()
    assert 'id="assessment-closed"' in page and "考核评估终止" in page
    assert 'name="score"' not in page
    listing = client.get(reverse("reports:assessments")).content.decode()
    assert "已终止" in listing and "评审中" not in listing


# --- 25.5 and 15.6 nominations ------------------------------------------------------------------------------


def test_a_nomination_is_one_record_whose_outcome_is_recorded_later(staff, centre):
    nomination = centre_services.nominate(centre, staff, kind=Kind.TO_NATIONAL, nominated_on=D(2025, 3, 1))
    assert nomination.outcome == Outcome.PENDING and nomination.name == centre.name
    with pytest.raises(ActionRefused, match="尚无结果"):
        centre_services.nominate(centre, staff, kind=Kind.TO_NATIONAL, nominated_on=D(2025, 4, 1))
    with pytest.raises(ActionRefused, match="不能早于推荐日期"):
        centre_services.record_outcome(
            nomination, staff, outcome=Outcome.SUCCEEDED, outcome_date=D(2025, 1, 1)
        )
    centre_services.record_outcome(
        nomination,
        staff,
        outcome=Outcome.SUCCEEDED,
        outcome_date=D(2025, 9, 1),
        document="工信部函〔2025〕8号",
    )
    nomination.refresh_from_db()
    assert (nomination.outcome, nomination.outcome_date, nomination.outcome_document) == (
        Outcome.SUCCEEDED,
        D(2025, 9, 1),
        "工信部函〔2025〕8号",
    )
    assert Nomination.objects.filter(centre=centre).count() == 1
    assert Centre.objects.get(pk=centre.pk).is_national
    with pytest.raises(ActionRefused, match="已于2025-09-01登记结果"):
        centre_services.record_outcome(nomination, staff, outcome=Outcome.FAILED, outcome_date=D(2025, 9, 2))


def test_the_database_holds_one_pending_nomination_per_centre_and_kind(staff, centre):
    centre_services.nominate(centre, staff, kind=Kind.TO_NATIONAL, nominated_on=D(2025, 3, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Nomination.objects.create(
            kind=Kind.TO_NATIONAL,
            centre=centre,
            name=centre.name,
            nominated_on=D(2025, 3, 2),
            recorded_by=staff,
        )


def test_staff_record_the_outcome_on_the_centre_page_without_a_second_entry(client, staff, centre):
    url = reverse("reports:centre", args=[centre.pk])
    client.force_login(staff)
    response = client.post(url, {"nominate": "1", "kind": Kind.TO_NATIONAL, "nominated_on": "2025-03-01"})
    assert response.status_code == 302
    nomination = Nomination.objects.get(centre=centre)
    page = client.get(url).content.decode()
    assert f'name="nomination_outcome" value="{nomination.pk}"' in page and "登记结果" in page

    prefix = f"outcome-{nomination.pk}"
    # An incomplete outcome comes back with the error and keeps what was typed.
    response = client.post(
        url,
        {
            "nomination_outcome": nomination.pk,
            f"{prefix}-nomination": nomination.pk,
            f"{prefix}-outcome": "succeeded",
        },
    )
    assert response.status_code == 200 and "结果日期" in response.content.decode()
    response = client.post(
        url,
        {
            "nomination_outcome": nomination.pk,
            f"{prefix}-nomination": nomination.pk,
            f"{prefix}-outcome": "succeeded",
            f"{prefix}-outcome_date": "2025-09-01",
            f"{prefix}-outcome_document": "工信部函〔2025〕8号",
        },
    )
    assert response.status_code == 302
    assert Nomination.objects.filter(centre=centre).count() == 1
    nomination.refresh_from_db()
    assert nomination.outcome == Outcome.SUCCEEDED
    page = client.get(url).content.decode()
    assert "已获批" in page and "工信部函〔2025〕8号" in page and "待定" not in page
    assert Centre.objects.get(pk=centre.pk).is_national


def test_nominations_refuse_withdrawn_and_excluded_centres(client, staff, lead, centre):
    excluded = awarded_centre(lead_user=user_with_role(Role.LEAD_UNIT), award_date=D(2021, 6, 1))
    centre_services.exclude(excluded, staff, decided_on=today(), years=3, reason="不合格")
    until = Centre.objects.get(pk=excluded.pk).excluded_until
    with pytest.raises(ActionRefused, match=f"{until:%Y-%m-%d}前暂停支持"):
        centre_services.nominate(excluded, staff, kind=Kind.TO_NATIONAL, nominated_on=today())
    centre_services.withdraw_title(centre, staff, "撤销")
    with pytest.raises(ActionRefused, match="撤销称号，不能推荐升级"):
        centre_services.nominate(centre, staff, kind=Kind.TO_NATIONAL, nominated_on=today())
    with pytest.raises(ActionRefused, match="只有市经济信息委"):
        centre_services.nominate(excluded, lead, kind=Kind.TO_NATIONAL, nominated_on=today())
    # Through the page: refused with the reason, nothing written.
    client.force_login(staff)
    response = client.post(
        reverse("reports:centre", args=[excluded.pk]),
        {"nominate": "1", "kind": Kind.TO_NATIONAL, "nominated_on": today().isoformat()},
        follow=True,
    )
    assert "暂停支持，不能推荐升级" in response.content.decode()
    assert not Nomination.objects.exists()


def test_an_excluded_centre_is_in_no_support_year(client, staff, lead):
    award = today().replace(year=today().year - 1)  # in its second support year by the calendar
    centre = awarded_centre(lead_user=lead, award_date=award)
    assert centre.support_year(today()) == 2
    centre_services.exclude(centre, staff, decided_on=today(), years=3, reason="不合格")
    centre.refresh_from_db()
    assert centre.support_year(today()) is None
    assert centre.support_state(today()) == {"code": "excluded", "year": None, "until": centre.excluded_until}
    assert centre.support_year(centre.excluded_until) is None  # past the support years by then anyway
    client.force_login(lead)
    page = client.get(reverse("reports:centre", args=[centre.pk])).content.decode()
    support = page.split('id="support-state">', 1)[1].split("</span>", 1)[0]
    assert f"暂停支持（至{centre.excluded_until:%Y-%m-%d}）" in support
    assert "当前为第" not in page


# --- 25.3 the assessed period's summaries -------------------------------------------------------------------


def _accepted(centre, lead, staff, year):
    from reports import summaries
    from reports.models import AnnualSummary, ReportingYear

    reporting_year, _ = ReportingYear.objects.get_or_create(
        year=year, defaults={"due_date": D(year + 1, 3, 31), "opened_by": staff}
    )
    summary = AnnualSummary.objects.create(
        centre=centre, reporting_year=reporting_year, work_summary="建成中试线。", next_year_plan="扩大成员。"
    )
    summaries.submit_summary(summary, lead)
    return summaries.accept_summary(summary, staff)


def test_the_assessed_period_follows_the_policys_interval(staff, lead):
    from tests.factories import policy_version

    policy_version(assessment_interval_years=2)
    centre = awarded_centre(lead_user=lead, award_date=D(2021, 6, 1))
    accepted = {year: _accepted(centre, lead, staff, year) for year in (2020, 2021, 2022)}
    assessments.open_due_assessments(today=D(2023, 6, 1))  # award + 2 years
    assessment = centre.assessments.get(cycle=1)
    assert assessment.due_on == D(2023, 6, 1)
    assert set(assessment.summaries.all()) == {accepted[2021], accepted[2022]}  # not 2020 (3 years back)


def test_a_summary_accepted_after_the_assessment_opened_is_attached(client, staff, lead, centre):
    from evaluation import panels
    from tests.factories import declare_no_conflict, expert_with_profile

    assessment = assessments.open_by_staff(centre, staff)  # due today: the three years before this one
    assert not assessment.summaries.exists()
    last_year = today().year - 1
    summary = _accepted(centre, lead, staff, last_year)
    old = _accepted(centre, lead, staff, last_year - 3)  # before the assessed period
    assert list(assessment.summaries.all()) == [summary]
    assert old not in assessment.summaries.all()

    # Staff see it on the assessment page.
    client.force_login(staff)
    page = client.get(reverse("reports:assessment", args=[assessment.pk])).content.decode()
    assert f"{last_year}" in page.split("附年度总结", 1)[1].split("</p>", 1)[0]

    # The expert reads it beside the indicator sheet, and may open it; before declaring, not.
    assessments.start_panel(assessment, staff, deadline=timezone.now() + datetime.timedelta(days=7))
    assessment.refresh_from_db()
    expert = expert_with_profile(full_name="专家甲")
    (assignment,) = panels.assign(assessment.panel, staff, [expert])
    client.force_login(expert)
    summary_url = reverse("reports:summary", args=[summary.pk])
    assert client.get(summary_url).status_code == 403
    declare_no_conflict(assignment)
    page = client.get(reverse("evaluation:assignment", args=[assignment.pk])).content.decode()
    assert 'id="assessed-summaries"' in page and summary_url in page
    assert client.get(summary_url).status_code == 200
    assert client.get(reverse("reports:summary", args=[old.pk])).status_code == 403
    # A summary accepted once the assessment is confirmed or closed is not attached any more.
    assessments.withdraw_title(centre, staff, "撤销")
    later = _accepted(Centre.objects.get(pk=centre.pk), lead, staff, last_year - 1)
    assert later not in assessment.summaries.all()


# --- the public pages ---------------------------------------------------------------------------------------


def test_the_public_directory_and_pages_say_each_centres_status(client, staff, lead, centre):
    excluded = awarded_centre(lead_user=user_with_role(Role.LEAD_UNIT), name="重庆市乙创新中心")
    centre_services.exclude(
        excluded, staff, decided_on=today(), years=3, reason="第1轮考核评估不合格（55分）"
    )
    until = Centre.objects.get(pk=excluded.pk).excluded_until
    awarded_centre(lead_user=user_with_role(Role.LEAD_UNIT), name="重庆市丙创新中心", is_national=True)
    withdrawn = awarded_centre(lead_user=user_with_role(Role.LEAD_UNIT), name="重庆市丁创新中心")
    centre_services.withdraw_title(withdrawn, staff, "撤销")

    directory = client.get(reverse("centres:directory")).content.decode()

    def status_of(name):
        return directory.split(name, 1)[1].split("</tr>", 1)[0]

    assert 'data-status="active"' in status_of("重庆市甲创新中心")
    assert f"暂停支持（至{until:%Y-%m-%d}）" in status_of("重庆市乙创新中心")
    assert 'data-status="national"' in status_of("重庆市丙创新中心")
    assert "重庆市丁创新中心" not in directory

    page = client.get(reverse("centres:detail", args=[excluded.pk])).content.decode()
    assert "考核评估不合格" in page and f"{until:%Y-%m-%d}前不纳入专项支持范围" in page
    gone = client.get(reverse("centres:detail", args=[withdrawn.pk]))
    assert gone.status_code == 410
    assert f"称号已于{today():%Y-%m-%d}撤销" in gone.content.decode()
    assert client.get(reverse("centres:detail", args=[999999])).status_code == 404


# --- the assessment's pages: confirmation of 不合格, assigning, the empty panel ---------------------


def test_confirming_a_fail_asks_for_confirmation_first(client, staff, centre):
    from evaluation import panels
    from tests.factories import expert_with_profile, submit_sheet

    assessment = assessments.open_by_staff(centre, staff)
    assessments.start_panel(assessment, staff, deadline=timezone.now() + datetime.timedelta(days=7))
    assessment.refresh_from_db()
    experts = [expert_with_profile(full_name=f"专家{n}") for n in range(5)]
    for assignment in panels.assign(assessment.panel, staff, experts):
        submit_sheet(assignment, total=50)
    assessments.score(assessment, staff)
    url = reverse("reports:assessment", args=[assessment.pk])
    client.force_login(staff)
    page = client.get(url).content.decode()
    assert 'name="confirm_exclusion"' in page and "3年内不纳入支持范围" in page

    response = client.post(url, {"confirm": "1"}, follow=True)
    assert "请先勾选确认" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.confirmed_at is None
    assert Centre.objects.get(pk=centre.pk).status == Centre.Status.ACTIVE

    client.post(url, {"confirm": "1", "confirm_exclusion": "on"})
    assessment.refresh_from_db()
    assert assessment.confirmed_at is not None
    assert Centre.objects.get(pk=centre.pk).status == Centre.Status.EXCLUDED


def test_assigning_with_nobody_ticked_says_so_and_an_empty_panel_is_not_a_problem(client, staff, centre):
    from tests.factories import expert_with_profile

    expert_with_profile(full_name="专家甲")
    assessment = assessments.open_by_staff(centre, staff)
    assessments.start_panel(assessment, staff, deadline=timezone.now() + datetime.timedelta(days=7))
    url = reverse("reports:assessment", args=[assessment.pk])
    client.force_login(staff)
    page = client.get(url).content.decode()
    assert "专家组还不能结束" not in page and 'id="panel-not-started"' in page
    response = client.post(url, {})
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("请至少勾选一位专家再分配。") == 2  # the message and the error at the list
    assert 'id="experts-error"' in page


# --- English ----------------------------------------------------------------------------------------------


def test_the_assessment_sheet_round_and_nomination_read_in_english(client, staff, lead, centre):
    from evaluation import panels
    from reports.models import AnnualSummary, ReportingYear
    from tests.factories import declare_no_conflict, expert_with_profile

    assessment = assessments.open_by_staff(centre, staff)
    assessments.start_panel(assessment, staff, deadline=timezone.now() + datetime.timedelta(days=7))
    assessment.refresh_from_db()
    expert = expert_with_profile(full_name="专家甲")
    (assignment,) = panels.assign(assessment.panel, staff, [expert])
    declare_no_conflict(assignment)
    centre_services.nominate(centre, staff, kind=Kind.TO_NATIONAL, nominated_on=D(2025, 3, 1))
    client.cookies["portal_language"] = "en"

    client.force_login(expert)
    page = client.get(reverse("evaluation:assignment", args=[assignment.pk])).content.decode()
    assert "Achievement of development targets" in page and "建设目标完成" not in page
    assert "Annual summaries of the assessed period" in page

    client.force_login(staff)
    page = client.get(reverse("reports:centre", args=[centre.pk])).content.decode()
    assert "Assessment round 1" in page and "第1轮考核" not in page
    assert "Bid for national level" in page

    year = ReportingYear.objects.create(year=2025, due_date=D(2026, 3, 31), opened_by=staff)
    summary = AnnualSummary.objects.create(centre=centre, reporting_year=year)
    page = client.get(reverse("reports:summary", args=[summary.pk])).content.decode()
    assert "Annual summary 2025" in page and "2025 annual summaries" not in page


def test_the_admin_refuses_a_nomination_of_a_withdrawn_or_excluded_centre(staff, centre):
    from centres.admin import NominationAdminForm

    def form_for(c):
        return NominationAdminForm(
            data={
                "kind": Kind.TO_NATIONAL,
                "centre": c.pk,
                "name": c.name,
                "nominated_on": "2025-03-01",
                "outcome": "pending",
            }
        )

    assert form_for(centre).is_valid(), form_for(centre).errors
    centre_services.withdraw_title(centre, staff, "撤销")
    form = form_for(centre)
    assert not form.is_valid() and "撤销称号，不能推荐升级" in str(form.errors)
    excluded = awarded_centre(lead_user=user_with_role(Role.LEAD_UNIT))
    centre_services.exclude(excluded, staff, decided_on=today(), years=3, reason="不合格")
    form = form_for(excluded)
    assert not form.is_valid() and "暂停支持" in str(form.errors)

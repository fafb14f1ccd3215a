"""Annual summaries (年度工作总结): opening a reporting year, the lead unit's draft and submission, staff
review, reminders, overdue flags, who sees what, and query counts that do not grow with the rows."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import District, Notification
from accounts.roles import Role
from applications.services import ActionRefused
from centres.models import Centre
from reports import summaries
from reports.models import AnnualSummary, ReportingYear, SummaryAttachment, SummaryReminder
from tests.factories import (
    PDF_BYTES,
    OrganisationFactory,
    awarded_centre,
    policy_version,
    user_with_role,
)

pytestmark = pytest.mark.django_db

State = AnnualSummary.State
YEAR = 2024
DUE = datetime.date(2025, 3, 31)

FIGURES = {
    "revenue_transfer": "120.50",
    "revenue_incubation": "30",
    "revenue_contract_rd": "200",
    "revenue_testing": "45.5",
    "revenue_public_service": "4",
    "total_cost": "800",
    "rd_expense": "200",
    "employees": "120",
    "rd_staff": "30",
    "talents_recruited": "6",
    "projects_national": "2",
    "projects_municipal": "5",
    "patents_filed": "18",
    "patents_granted": "7",
    "standards_led": "1",
    "standards_joined": "3",
    "technologies_transferred": "4",
    "firms_incubated": "2",
    "members": "23",
    "platforms": "4",
    "work_summary": "建成中试线一条，完成共性技术攻关三项。",
    "problems": "高端人才仍然不足。",
    "next_year_plan": "扩大成员单位，推进成果转化。",
}


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


@pytest.fixture
def lead(db):
    return user_with_role(Role.LEAD_UNIT, full_name="李明")


@pytest.fixture
def centre(lead):
    return awarded_centre(lead_user=lead, award_date=datetime.date(2023, 5, 20), name="重庆市甲创新中心")


@pytest.fixture
def reporting_year(staff, centre):
    return summaries.open_year(staff, YEAR, DUE)


@pytest.fixture
def summary(reporting_year, centre):
    return AnnualSummary.objects.get(centre=centre, reporting_year=reporting_year)


def fill(summary, **values):
    """Store figures and narrative directly (tests of what follows the lead unit's typing)."""
    data = {**FIGURES, **values}
    for name, value in data.items():
        field = AnnualSummary._meta.get_field(name)
        setattr(summary, name, field.to_python(value))
    summary.save()
    return summary


def submitted(summary, lead):
    fill(summary)
    return summaries.submit_summary(summary, lead)


def post_data(**changes):
    return {**FIGURES, **changes}


# --- dates ---------------------------------------------------------------------------------------------


def test_default_due_date_comes_from_the_policy_and_is_clamped_to_the_month():
    assert summaries.default_due_date(2024) == datetime.date(2025, 3, 31)
    february = policy_version(summary_due_month=2, summary_due_day=31)
    assert summaries.default_due_date(2023, february) == datetime.date(2024, 2, 29)
    assert summaries.default_due_date(2024, february) == datetime.date(2025, 2, 28)
    assert summaries.default_due_date(2024) == datetime.date(2025, 2, 28)  # now the policy in force


# --- opening a reporting year --------------------------------------------------------------------------


def test_open_year_creates_drafts_only_for_reporting_centres_and_tells_their_lead_units(staff):
    leads = {key: user_with_role(Role.LEAD_UNIT) for key in ("active", "excluded", "withdrawn", "late")}
    active = awarded_centre(lead_user=leads["active"], award_date=datetime.date(2024, 12, 31))
    excluded = awarded_centre(
        lead_user=leads["excluded"],
        award_date=datetime.date(2021, 3, 1),
        status=Centre.Status.EXCLUDED,
        excluded_until=datetime.date(2027, 1, 1),
    )
    awarded_centre(
        lead_user=leads["withdrawn"], award_date=datetime.date(2021, 3, 1), status=Centre.Status.WITHDRAWN
    )
    awarded_centre(lead_user=leads["late"], award_date=datetime.date(2025, 1, 1))
    colleague = user_with_role(Role.LEAD_UNIT, organisation=leads["active"].organisation)
    district = user_with_role(Role.DISTRICT_STAFF)

    reporting_year = summaries.open_year(staff, YEAR)

    assert reporting_year.due_date == DUE
    created = AnnualSummary.objects.filter(reporting_year=reporting_year)
    assert {s.centre_id for s in created} == {active.pk, excluded.pk}
    assert {s.state for s in created} == {State.DRAFT}
    told = set(
        Notification.objects.filter(subject__contains="2024年度工作总结").values_list("recipient", flat=True)
    )
    assert told == {leads["active"].pk, colleague.pk, leads["excluded"].pk}
    assert district.pk not in told
    note = Notification.objects.filter(recipient=leads["active"]).latest("pk")
    assert "2025-03-31" in note.body
    assert note.link == reverse("reports:summary_edit", args=[created.get(centre=active).pk])


def test_opening_the_same_year_twice_is_refused(staff, centre):
    summaries.open_year(staff, YEAR, DUE)
    with pytest.raises(ActionRefused, match="已经开启"):
        summaries.open_year(staff, YEAR, datetime.date(2025, 4, 30))
    assert ReportingYear.objects.get(year=YEAR).due_date == DUE
    assert AnnualSummary.objects.count() == 1


@pytest.mark.parametrize(
    ("year", "due", "message"),
    [
        (None, None, "尚未开始"),  # next year
        (YEAR, datetime.date(2024, 12, 31), "应晚于"),
    ],
)
def test_open_year_refuses_a_future_year_and_a_due_date_inside_the_year(staff, year, due, message):
    year = year or timezone.localdate().year + 1
    with pytest.raises(ActionRefused, match=message):
        summaries.open_year(staff, year, due)
    assert not ReportingYear.objects.exists()


def test_only_commission_staff_open_a_year(lead, centre):
    with pytest.raises(ActionRefused, match="市经济信息委"):
        summaries.open_year(lead, YEAR)
    assert not ReportingYear.objects.exists()


def test_staff_open_a_year_from_the_years_page(client, staff, centre):
    client.force_login(staff)
    page = client.get(reverse("reports:years"))
    assert page.status_code == 200
    form = page.context["form"]
    today = timezone.localdate()
    assert form["year"].initial == today.year - 1
    assert form["due_date"].initial == summaries.default_due_date(today.year - 1)

    response = client.post(reverse("reports:years"), {"year": YEAR, "due_date": "", "confirm": "on"})
    assert response["Location"] == reverse("reports:year", args=[YEAR])
    assert ReportingYear.objects.get(year=YEAR).due_date == DUE
    again = client.post(reverse("reports:years"), {"year": YEAR, "confirm": "on"}, follow=True)
    assert "不能重复开启" in again.content.decode()
    assert ReportingYear.objects.count() == 1


def test_the_open_form_offers_the_next_year_that_can_be_opened(client, staff, centre):
    """Minor of 25: not a year already open, and a due date that opening accepts."""
    client.force_login(staff)
    today = timezone.localdate()
    summaries.open_year(staff, today.year - 1)
    form = client.get(reverse("reports:years")).context["form"]
    assert form["year"].initial == today.year
    assert form["due_date"].initial == summaries.default_due_date(today.year)
    response = client.post(
        reverse("reports:years"),
        {"year": form["year"].initial, "due_date": form["due_date"].initial.isoformat(), "confirm": "on"},
    )
    assert response["Location"] == reverse("reports:year", args=[today.year])
    # Every year up to this one is open: nothing is pre-filled.
    form = client.get(reverse("reports:years")).context["form"]
    assert form["year"].initial is None and form["due_date"].initial is None


# --- the lead unit fills, saves and submits ------------------------------------------------------------


def test_the_lead_unit_saves_a_draft_and_sees_the_computed_ratios(client, lead, summary):
    client.force_login(lead)
    url = reverse("reports:summary_edit", args=[summary.pk])
    response = client.post(url, post_data(save="1"))
    assert response["Location"] == url
    summary.refresh_from_db()
    assert summary.state == State.DRAFT
    assert summary.revenue_total == Decimal("400.00")
    assert summary.patents_granted == 7
    page = client.get(url).content.decode()
    assert 'data-figure="revenue_total">400.00' in page
    assert 'data-figure="rd_expense_ratio">25.0%' in page
    assert 'data-figure="rd_staff_ratio">25.0%' in page


def test_a_failed_save_keeps_every_typed_value_and_saves_nothing(client, lead, summary):
    client.force_login(lead)
    url = reverse("reports:summary_edit", args=[summary.pk])
    data = post_data(rd_staff="500", rd_expense="900", save="1")
    response = client.post(url, data)
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"rd_staff", "rd_expense"}
    page = response.content.decode()
    assert "研发人员数不能超过职工总数。" in page
    assert 'id="error-summary"' in page
    for name in FIGURES:
        assert form[name].value() == data[name], name
    assert 'value="120.50"' in page
    assert "高端人才仍然不足。" in page
    summary.refresh_from_db()
    assert summary.revenue_transfer == 0 and summary.work_summary == ""
    # The computed figures still describe what is stored, not the refused values.
    assert 'data-figure="revenue_total">0.00' in page


def test_submitting_needs_the_promise_and_the_narrative(client, lead, staff, summary):
    client.force_login(lead)
    url = reverse("reports:summary_edit", args=[summary.pk])
    response = client.post(url, post_data(submit="1"))
    assert response.status_code == 200
    assert "confirm" in response.context["form"].errors
    summary.refresh_from_db()
    assert summary.state == State.DRAFT

    response = client.post(url, post_data(work_summary="", submit="1", confirm="on"), follow=True)
    assert "以下内容尚未填写，暂不能报送" in response.content.decode()
    summary.refresh_from_db()
    assert summary.state == State.DRAFT and summary.revenue_transfer == Decimal("120.50")  # draft kept

    response = client.post(url, post_data(submit="1", confirm="on"))
    assert response["Location"] == reverse("reports:summary", args=[summary.pk])
    summary.refresh_from_db()
    assert summary.state == State.SUBMITTED and summary.submitted_at is not None
    note = Notification.objects.get(recipient=staff, subject__contains="报送了2024年度工作总结")
    assert note.link == reverse("reports:summary_review", args=[summary.pk])
    # Locked now: the edit page sends the lead unit to the read-only page, the service refuses.
    locked = client.get(url)
    assert locked["Location"] == reverse("reports:summary", args=[summary.pk])
    with pytest.raises(ActionRefused, match="不能修改"):
        summaries.submit_summary(summary, lead)


def test_only_the_own_lead_unit_may_edit_or_submit(lead, staff, summary):
    other = user_with_role(Role.LEAD_UNIT)
    colleague = user_with_role(Role.LEAD_UNIT, organisation=lead.organisation)
    fill(summary)
    for outsider in (other, staff, user_with_role(Role.DISTRICT_STAFF)):
        with pytest.raises(ActionRefused, match="只有该创新中心的牵头单位"):
            summaries.submit_summary(summary, outsider)
        with pytest.raises(ActionRefused):
            summaries.add_attachment(summary, outsider, SimpleUploadedFile("a.pdf", PDF_BYTES))
    summaries.submit_summary(summary, colleague)
    assert AnnualSummary.objects.get(pk=summary.pk).state == State.SUBMITTED


def test_another_centres_summary_by_url_is_403(client, summary):
    fill(summary)
    attachment = summaries.add_attachment(
        summary,
        user_with_role(Role.LEAD_UNIT, organisation=summary.centre.lead_unit),
        SimpleUploadedFile("a.pdf", PDF_BYTES),
    )
    other_lead = user_with_role(Role.LEAD_UNIT)
    awarded_centre(lead_user=other_lead, award_date=datetime.date(2023, 1, 1))
    client.force_login(other_lead)
    for url in (
        reverse("reports:summary_edit", args=[summary.pk]),
        reverse("reports:summary", args=[summary.pk]),
        reverse("reports:summary_attachment", args=[summary.pk, attachment.pk]),
        reverse("reports:summary_review", args=[summary.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert (
        client.post(reverse("reports:summary_edit", args=[summary.pk]), post_data(save="1")).status_code
        == 403
    )
    assert (
        client.post(
            reverse("reports:summary_attachment_delete", args=[summary.pk, attachment.pk])
        ).status_code
        == 403
    )
    assert SummaryAttachment.objects.filter(pk=attachment.pk).exists()
    # Its own list shows only its own centre's summaries (none opened for it here).
    assert list(client.get(reverse("reports:my_summaries")).context["page"].object_list) == []


def test_who_may_read_the_summary(client, lead, staff, summary):
    url = reverse("reports:summary", args=[summary.pk])
    same_district = user_with_role(Role.DISTRICT_STAFF)  # the factories' district (渝北区)
    other_district = user_with_role(
        Role.DISTRICT_STAFF,
        district=District.objects.exclude(pk=summary.centre.lead_unit.district_id).first(),
    )
    expert = user_with_role(Role.EXPERT)
    for user, status in (
        (lead, 200),
        (staff, 200),
        (same_district, 200),
        (other_district, 403),
        (expert, 403),
    ):
        client.force_login(user)
        assert client.get(url).status_code == status, user
    client.logout()
    assert client.get(url)["Location"].startswith(reverse("accounts:login"))
    assert client.get(reverse("reports:my_summaries"))["Location"].startswith(reverse("accounts:login"))


def test_staff_pages_are_for_commission_staff_only(client, lead, reporting_year):
    client.force_login(lead)
    for url in (reverse("reports:years"), reverse("reports:year", args=[YEAR])):
        assert client.get(url).status_code == 403
    client.force_login(user_with_role(Role.DISTRICT_STAFF))
    assert client.get(reverse("reports:my_summaries")).status_code == 403


# --- attachments ---------------------------------------------------------------------------------------


def test_attachments_are_checked_by_content_and_kept_with_the_draft(client, lead, summary):
    client.force_login(lead)
    url = reverse("reports:summary_edit", args=[summary.pk])
    fake = SimpleUploadedFile("report.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    response = client.post(url, post_data(save="1", attachment=fake))
    assert response.status_code == 200
    assert "实际内容不是允许的类型" in response.content.decode()
    assert not SummaryAttachment.objects.exists()
    assert response.context["form"]["work_summary"].value() == FIGURES["work_summary"]

    good = SimpleUploadedFile("审计报告.pdf", PDF_BYTES, content_type="application/pdf")
    client.post(url, post_data(save="1", attachment=good))
    attachment = SummaryAttachment.objects.get(summary=summary)
    assert (attachment.original_name, attachment.content_type) == ("审计报告.pdf", "application/pdf")
    download = client.get(reverse("reports:summary_attachment", args=[summary.pk, attachment.pk]))
    assert download.status_code == 200 and download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PDF_BYTES

    client.post(reverse("reports:summary_attachment_delete", args=[summary.pk, attachment.pk]))
    assert not SummaryAttachment.objects.exists()


def test_a_chosen_attachment_is_kept_across_a_failed_submission(client, lead, summary):
    """25.1: the PDF chosen with a form that fails comes back as kept, and is stored by the next save."""
    client.force_login(lead)
    url = reverse("reports:summary_edit", args=[summary.pk])
    good = SimpleUploadedFile("审计报告.pdf", PDF_BYTES, content_type="application/pdf")
    response = client.post(url, post_data(rd_staff="500", rd_expense="900", submit="1", attachment=good))
    assert response.status_code == 200
    page = response.content.decode()
    assert "以下文件已保留" in page and "审计报告.pdf" in page
    assert "尚未上传附件。" not in page
    token = response.context["stash_token"]
    assert token and f'name="stash" value="{token}"' in page
    assert not SummaryAttachment.objects.exists()

    # The corrected form is sent without choosing the file again: the kept one is stored.
    response = client.post(url, post_data(save="1", stash=token))
    assert response.status_code == 302
    attachment = SummaryAttachment.objects.get(summary=summary)
    assert attachment.original_name == "审计报告.pdf"
    assert attachment.file.read() == PDF_BYTES
    # Used once: a later save with the same token stores nothing more.
    client.post(url, post_data(save="1", stash=token))
    assert SummaryAttachment.objects.filter(summary=summary).count() == 1


# --- staff review --------------------------------------------------------------------------------------


def test_return_needs_a_comment_the_lead_unit_sees_it_and_resubmits(client, lead, staff, summary):
    submitted(summary, lead)
    with pytest.raises(ActionRefused, match="须写明修改意见"):
        summaries.return_summary(summary, staff, "  ")
    client.force_login(staff)
    review = reverse("reports:summary_review", args=[summary.pk])
    response = client.post(review, {"decision": "return", "comment": "", "confirm": "on"})
    assert response.status_code == 200 and "comment" in response.context["form"].errors
    assert AnnualSummary.objects.get(pk=summary.pk).state == State.SUBMITTED

    response = client.post(
        review, {"decision": "return", "comment": "研发经费与审计报告不一致，请核对。", "confirm": "on"}
    )
    assert response["Location"] == reverse("reports:year", args=[YEAR])
    summary.refresh_from_db()
    assert summary.state == State.RETURNED and summary.reviewed_by == staff
    note = Notification.objects.get(recipient=lead, subject__contains="退回修改")
    assert "研发经费与审计报告不一致，请核对。" in note.body

    client.force_login(lead)
    edit = client.get(reverse("reports:summary_edit", args=[summary.pk]))
    assert edit.status_code == 200
    assert "研发经费与审计报告不一致，请核对。" in edit.content.decode()
    client.post(
        reverse("reports:summary_edit", args=[summary.pk]),
        post_data(rd_expense="180", submit="1", confirm="on"),
    )
    summary.refresh_from_db()
    assert summary.state == State.SUBMITTED and summary.rd_expense == Decimal("180.00")
    assert Notification.objects.filter(recipient=staff, subject__contains="重新报送").exists()

    summaries.accept_summary(summary, staff)
    assert AnnualSummary.objects.get(pk=summary.pk).state == State.ACCEPTED
    assert Notification.objects.filter(recipient=lead, subject__contains="已受理").exists()
    listing = client.get(reverse("reports:my_summaries")).content.decode()
    assert "已受理" in listing


def test_review_only_of_a_submitted_summary_and_only_by_staff(lead, staff, summary):
    with pytest.raises(ActionRefused, match="草稿"):
        summaries.accept_summary(summary, staff)
    submitted(summary, lead)
    with pytest.raises(ActionRefused, match="只有市经济信息委"):
        summaries.accept_summary(summary, lead)
    summaries.accept_summary(summary, staff)
    with pytest.raises(ActionRefused, match="已受理"):
        summaries.return_summary(summary, staff, "再改改")


# --- reminders and overdue flags -----------------------------------------------------------------------


def test_reminders_30_7_and_1_days_before_are_sent_once_each(staff, lead, centre):
    second_lead = user_with_role(Role.LEAD_UNIT)
    awarded_centre(lead_user=second_lead, award_date=datetime.date(2022, 1, 1))
    done_lead = user_with_role(Role.LEAD_UNIT)
    done_centre = awarded_centre(lead_user=done_lead, award_date=datetime.date(2022, 1, 1))
    summaries.open_year(staff, YEAR, DUE)
    submitted(AnnualSummary.objects.get(centre=done_centre), done_lead)
    before = Notification.objects.filter(subject__contains="天截止").count()

    sent = {}
    for days_before in (45, 31, 30, 30, 29, 8, 7, 7, 2, 1, 1, 0, -1):
        day = DUE - datetime.timedelta(days=days_before)
        sent.setdefault(days_before, []).append(summaries.remind_due(day))
    assert sent == {
        45: [0],
        31: [0],
        30: [2, 0],
        29: [0],
        8: [0],
        7: [2, 0],
        2: [0],
        1: [2, 0],
        0: [0],
        -1: [0],
    }
    assert set(SummaryReminder.objects.values_list("days_before", flat=True)) == {30, 7, 1}
    assert SummaryReminder.objects.count() == 6
    notes = Notification.objects.filter(subject__contains="天截止")
    assert notes.count() - before == 6
    assert set(notes.values_list("recipient", flat=True)) == {lead.pk, second_lead.pk}
    assert notes.filter(recipient=lead, subject__contains="还有7天截止").count() == 1


def test_a_caught_up_reminder_states_the_days_actually_left(client, staff, lead, summary):
    """25.4: beat missed the 7-day mark; the reminder sent 5 days before says 5 days, not 7."""
    assert summaries.remind_due(DUE - datetime.timedelta(days=5)) == 1
    note = Notification.objects.get(recipient=lead, subject__contains="天截止")
    assert "还有5天截止" in note.subject and "还有5天" in note.body
    assert SummaryReminder.objects.get(summary=summary).days_before == 7
    # Caught up on the due date itself: "today".
    assert summaries.remind_due(DUE) == 1
    note = Notification.objects.filter(recipient=lead, subject__contains="今天截止").get()
    assert "还有0天" not in note.body and "今天" in note.body
    # The lead unit reads the same in its notifications page.
    client.force_login(lead)
    assert "还有5天截止" in client.get(reverse("accounts:notifications")).content.decode()


def test_a_summary_submitted_after_a_reminder_gets_no_more(staff, lead, summary):
    assert summaries.remind_due(DUE - datetime.timedelta(days=30)) == 1
    submitted(summary, lead)
    assert summaries.remind_due(DUE - datetime.timedelta(days=7)) == 0


def test_overdue_flags(client, staff, lead, summary):
    other_lead = user_with_role(Role.LEAD_UNIT)
    other = awarded_centre(lead_user=other_lead, award_date=datetime.date(2022, 1, 1))
    other_summary = AnnualSummary.objects.create(centre=other, reporting_year=summary.reporting_year)
    other_summary = submitted(other_summary, other_lead)

    assert not summaries.is_overdue(summary, DUE)
    assert summaries.is_overdue(summary, DUE + datetime.timedelta(days=1))
    assert not summaries.is_overdue(other_summary, DUE + datetime.timedelta(days=1))
    assert list(summaries.overdue(DUE)) == []
    assert list(summaries.overdue(DUE + datetime.timedelta(days=1))) == [summary]

    # A returned summary past the due date is overdue again until resubmitted.
    summaries.return_summary(other_summary, staff, "请补充附件。")
    assert set(summaries.overdue(DUE + datetime.timedelta(days=1))) == {summary, other_summary}

    # The pages (today is after 31 March 2025): the lead unit's list and the staff's year page.
    client.force_login(lead)
    listing = client.get(reverse("reports:my_summaries"))
    assert [s.is_overdue for s in listing.context["page"].object_list] == [True]
    assert "逾期未报送" in listing.content.decode()
    client.force_login(staff)
    page = client.get(reverse("reports:year", args=[YEAR]))
    assert page.context["counts"]["overdue"] == 2
    flags = {s.pk: s.is_overdue for s in page.context["page"].object_list}
    assert flags == {summary.pk: True, other_summary.pk: True}


def test_the_year_page_filters_who_has_not_submitted(client, staff, lead, summary):
    done_lead = user_with_role(Role.LEAD_UNIT)
    done = awarded_centre(lead_user=done_lead, award_date=datetime.date(2022, 1, 1), name="重庆市乙创新中心")
    done_summary = AnnualSummary.objects.create(centre=done, reporting_year=summary.reporting_year)
    submitted(done_summary, done_lead)
    client.force_login(staff)
    url = reverse("reports:year", args=[YEAR])

    def shown(**params):
        return {s.pk for s in client.get(url, params).context["page"].object_list}

    assert shown() == {summary.pk, done_summary.pk}
    assert shown(show="not_submitted") == {summary.pk}
    assert shown(show="submitted") == {done_summary.pk}
    assert shown(show="accepted") == set()
    assert shown(q="乙创新") == {done_summary.pk}
    years = client.get(reverse("reports:years"))
    row = years.context["page"].object_list[0]
    assert (row.total, row.not_submitted, row.waiting, row.accepted) == (2, 1, 1, 0)


# --- year on year --------------------------------------------------------------------------------------


def test_comparison_of_the_key_figures_year_on_year_in_one_query(
    client, staff, lead, centre, django_assert_num_queries
):
    for year, rd_expense, patents in ((2023, "100", 10), (2024, "200", 7)):
        summaries.open_year(staff, year, datetime.date(year + 1, 3, 31))
        summary = AnnualSummary.objects.get(centre=centre, reporting_year__year=year)
        fill(summary, rd_expense=rd_expense, patents_granted=patents)
        summaries.submit_summary(summary, lead)
    summaries.open_year(staff, 2025, datetime.date(2026, 3, 31))  # a draft: not compared

    with django_assert_num_queries(1):
        table = summaries.comparison(centre)
    assert table["years"] == [2023, 2024]
    rows = {str(row["label"]): row for row in table["rows"]}
    assert rows["研发经费支出（万元）"]["values"] == [Decimal("100.00"), Decimal("200.00")]
    assert rows["研发经费支出（万元）"]["change"] == Decimal("100.00")
    assert rows["研发经费占比（%）"]["values"] == [Decimal("12.5"), Decimal("25")]
    assert rows["发明专利授权"]["change"] == -3
    assert rows["收入合计（万元）"]["values"] == [Decimal("400.00"), Decimal("400.00")]

    client.force_login(staff)
    page = client.get(reverse("reports:summary", args=[summary.pk])).content.decode()
    assert "主要指标年度对比" in page and "+100.00" in page


# --- query counts --------------------------------------------------------------------------------------


# Measured: session, user, roles, unread notifications and the session save (3) are part of every page.
YEAR_PAGE_QUERY_BUDGET = 11  # + the reporting year, the counts, the page count, the rows
YEARS_PAGE_QUERY_BUDGET = 10  # + the page count, the rows with their counts
MY_LIST_QUERY_BUDGET = 10  # + the page count, the rows


def centres_for_year(staff, n):
    reporting_year = ReportingYear.objects.create(year=YEAR, due_date=DUE, opened_by=staff)
    for i in range(n):
        lead = user_with_role(
            Role.LEAD_UNIT,
            organisation=OrganisationFactory(district=District.objects.order_by("code")[i % 5]),
        )
        centre = awarded_centre(
            lead_user=lead, award_date=datetime.date(2022, 1, 1), name=f"重庆市第{i}创新中心"
        )
        summary = AnnualSummary.objects.create(centre=centre, reporting_year=reporting_year)
        if i % 3 == 1:
            submitted(summary, lead)
    return reporting_year


def count_queries(client, url) -> int:
    cache.clear()  # the uncached path: the page renders in full
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_staff_year_and_years_pages_keep_constant_query_counts(client, staff):
    client.force_login(staff)
    small = centres_for_year(staff, 1)
    counts_small = (
        count_queries(client, reverse("reports:year", args=[small.year])),
        count_queries(client, reverse("reports:years")),
    )
    AnnualSummary.objects.all().delete()
    ReportingYear.objects.all().delete()
    big = centres_for_year(staff, 20)
    for year in range(2010, 2020):  # and more reporting years on the years page
        ReportingYear.objects.create(year=year, due_date=datetime.date(year + 1, 3, 31), opened_by=staff)
    counts_big = (
        count_queries(client, reverse("reports:year", args=[big.year])),
        count_queries(client, reverse("reports:years")),
    )
    assert counts_small == counts_big
    assert counts_big[0] <= YEAR_PAGE_QUERY_BUDGET, counts_big
    assert counts_big[1] <= YEARS_PAGE_QUERY_BUDGET, counts_big
    assert (
        count_queries(client, reverse("reports:year", args=[big.year]) + "?show=not_submitted&q=创新")
        == (counts_big[0])
    )


def test_the_lead_units_list_keeps_a_constant_query_count(client, staff, lead):
    client.force_login(lead)

    def add_summaries(n, first_year):
        centre = awarded_centre(lead_user=lead, award_date=datetime.date(2000, 1, 1))
        for year in range(first_year, first_year + n):
            reporting_year = ReportingYear.objects.get_or_create(
                year=year, defaults={"due_date": datetime.date(year + 1, 3, 31), "opened_by": staff}
            )[0]
            AnnualSummary.objects.create(centre=centre, reporting_year=reporting_year)

    add_summaries(1, 2024)
    one = count_queries(client, reverse("reports:my_summaries"))
    add_summaries(19, 2001)
    assert AnnualSummary.objects.filter(centre__lead_unit=lead.organisation).count() == 20
    twenty = count_queries(client, reverse("reports:my_summaries"))
    assert one == twenty
    assert twenty <= MY_LIST_QUERY_BUDGET, twenty


# --- after the due date: told once, late marked, withdrawn centres owe nothing (issue 25) ------------


def test_an_overdue_summary_is_told_once_to_the_lead_unit_and_staff_get_one_digest(staff, lead, summary):
    second_lead = user_with_role(Role.LEAD_UNIT)
    second = AnnualSummary.objects.create(
        centre=awarded_centre(lead_user=second_lead, name="重庆市乙创新中心"),
        reporting_year=summary.reporting_year,
    )
    assert summaries.notify_overdue(DUE) == 0  # on the due date itself: not yet overdue
    assert summaries.notify_overdue(DUE + datetime.timedelta(days=1)) == 2
    for person in (lead, second_lead):
        note = Notification.objects.get(recipient=person, subject__contains="逾期")
        assert f"{YEAR}年度工作总结已逾期未报送" in note.subject
    digest = Notification.objects.get(recipient=staff, subject__contains="逾期")
    assert "2份年度工作总结已逾期未报送" in digest.subject
    assert "重庆市甲创新中心" in digest.body and "重庆市乙创新中心" in digest.body
    # The next runs tell nobody again.
    assert summaries.notify_overdue(DUE + datetime.timedelta(days=2)) == 0
    assert Notification.objects.filter(subject__contains="逾期").count() == 3
    second.refresh_from_db()
    assert second.overdue_notified_at is not None


def test_the_daily_task_sends_reminders_and_overdue_notices(staff, lead, summary):
    from reports.tasks import remind_annual_summaries

    summaries.notify_overdue(DUE)  # nothing yet
    ReportingYear.objects.filter(pk=summary.reporting_year_id).update(
        due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert remind_annual_summaries.apply().get() == 1
    assert Notification.objects.filter(recipient=lead, subject__contains="逾期未报送").count() == 1


def test_a_late_filing_is_marked_late_in_lists_and_on_the_centre_page(client, staff, lead, summary):
    fill(summary)
    summaries.submit_summary(summary, lead)
    late = DUE + datetime.timedelta(days=3)
    AnnualSummary.objects.filter(pk=summary.pk).update(
        submitted_at=timezone.make_aware(datetime.datetime.combine(late, datetime.time(10))),
        first_submitted_at=timezone.make_aware(datetime.datetime.combine(late, datetime.time(10))),
    )
    summary.refresh_from_db()
    assert summary.is_late
    client.force_login(lead)
    assert "data-late" in client.get(reverse("reports:my_summaries")).content.decode()
    assert "逾期报送" in client.get(reverse("reports:centre", args=[summary.centre_id])).content.decode()
    client.force_login(staff)
    assert "data-late" in client.get(reverse("reports:year", args=[YEAR])).content.decode()


def test_a_returned_summary_resubmitted_after_the_due_date_is_not_late(staff, lead, summary):
    submitted(summary, lead)
    summaries.return_summary(summary, staff, "请补充。")
    summaries.submit_summary(AnnualSummary.objects.get(pk=summary.pk), lead)
    # The first submission was on the due date, the resubmission after it.
    on_time = timezone.make_aware(datetime.datetime.combine(DUE, datetime.time(9)))
    AnnualSummary.objects.filter(pk=summary.pk).update(
        first_submitted_at=on_time, submitted_at=on_time + datetime.timedelta(days=10)
    )
    assert not AnnualSummary.objects.select_related("reporting_year").get(pk=summary.pk).is_late


def test_a_withdrawn_centre_owes_nothing(client, staff, lead, summary):
    from reports import assessment

    assessment.withdraw_title(summary.centre, staff, "撤销")
    after = DUE + datetime.timedelta(days=5)
    assert not summaries.overdue(after).exists()
    assert not summaries.is_overdue(AnnualSummary.objects.select_related("centre").get(pk=summary.pk), after)
    assert summaries.remind_due(DUE - datetime.timedelta(days=7)) == 0
    assert summaries.notify_overdue(after) == 0
    client.force_login(staff)
    response = client.get(reverse("reports:year", args=[YEAR]))
    assert response.context["counts"]["total"] == 0 and response.context["counts"]["not_submitted"] == 0
    listing = client.get(reverse("reports:years"))
    row = listing.context["page"].object_list[0]
    assert (row.total, row.not_submitted, row.overdue) == (0, 0, 0)


def test_the_centre_page_shows_unfiled_years_blank_and_every_compared_figure(client, staff, lead, centre):
    filed_year = ReportingYear.objects.create(year=2023, due_date=datetime.date(2024, 3, 31), opened_by=staff)
    filed = AnnualSummary.objects.create(centre=centre, reporting_year=filed_year)
    submitted(filed, lead)
    draft_year = ReportingYear.objects.create(year=YEAR, due_date=DUE, opened_by=staff)
    AnnualSummary.objects.create(centre=centre, reporting_year=draft_year, revenue_transfer=Decimal("0"))
    client.force_login(lead)
    response = client.get(reverse("reports:centre", args=[centre.pk]))
    page = response.content.decode()
    labels = [str(row["label"]) for row in response.context["comparison"]]
    for label in (
        "承担国家级项目",
        "主导制定标准",
        "参与制定标准",
        "成员单位数",
        "创新平台数",
        "研发经费占比（%）",
        "研发人员占比（%）",
    ):
        assert label in labels and label in page
    assert all(row["values"][1] is None for row in response.context["comparison"])  # the draft: blank
    assert "未报送" in page
    table = page.split("主要指标逐年比较", 1)[1].split("</table>", 1)[0]
    assert "0.00" not in table.split("技术转让和成果转化收入（万元）", 1)[1].split("</tr>", 1)[0]

"""Excel exports (reports.exports, reports.export_views, the build_export task) opened with openpyxl: the
Chinese header row, the frozen header, the rows the filters select, real number and date cells; who sees
and downloads a job; a district's exports hold nothing of other districts. Printable PDFs (config.pdf)
whose text, extracted with poppler's pdftotext, holds the Chinese text."""

import datetime
import io
import re
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import District
from accounts.roles import Role
from applications.models import Application, Policy
from evaluation import panels, publicity
from evaluation.models import Assignment, Panel
from reports import exports
from reports.models import AnnualSummary, Assessment, ExportJob, ReportingYear
from reports.tasks import build_export
from tests.factories import (
    annual_summary,
    application_approved,
    application_in,
    awarded_centre,
    district_staff_in,
    graded_assessment,
    lead_user_in,
    panel_with_experts,
    submit_sheet,
    user_with_role,
)

pytestmark = pytest.mark.django_db

D1, D2 = "500112", "500103"  # 渝北区, 渝中区
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
APPLICATION_HEADERS = [
    "申报编号",
    "创新中心名称",
    "牵头单位",
    "统一社会信用代码",
    "领域",
    "区县",
    "阶段",
    "基本条件",
    "实际投资总额（万元）",
    "提交时间",
]


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


def run_export(client, capture, user, kind: str, query: str = "", **extra) -> ExportJob:
    """What a browser does: open the export page (with the list's query string), press 开始导出 (the form
    carries the query), follow the redirect to the job. Celery runs eagerly after the commit."""
    client.force_login(user)
    url = reverse("reports:export_new", args=[kind])
    page = client.get(f"{url}?{query}" if query else url)
    assert page.status_code == 200
    form = page.content.decode()
    carried = re.search(r'name="query" value="([^"]*)"', form).group(1).replace("&amp;", "&")
    data = {"query": carried}
    for name in ("panel", "year"):
        found = re.search(rf'name="{name}" value="([^"]*)"', form)
        if found:
            data[name] = found.group(1)
    data.update(extra)
    with capture(execute=True):
        response = client.post(url, data)
    assert response.status_code == 302
    job = ExportJob.objects.filter(owner=user).latest("created_at", "pk")
    assert response["Location"] == reverse("reports:export_job", args=[job.pk])
    return job


def download(client, job):
    response = client.get(reverse("reports:export_download", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return workbook.active


def values(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def excel_time(moment) -> datetime.datetime:
    """The Asia/Shanghai wall time written into Excel (which has no time zones)."""
    return timezone.localtime(moment).replace(tzinfo=None)


def assert_same_time(cell, moment, number_format="yyyy-mm-dd hh:mm"):
    assert cell.is_date and isinstance(cell.value, datetime.datetime), (cell.coordinate, cell.value)
    assert abs(cell.value - excel_time(moment)) < datetime.timedelta(seconds=1)
    assert cell.number_format == number_format


def assert_number(cell, value, number_format):
    assert cell.data_type == "n" and isinstance(cell.value, int | float | Decimal), (
        cell.coordinate,
        cell.value,
    )
    assert not isinstance(cell.value, bool)
    assert Decimal(str(cell.value)) == Decimal(str(value)), cell.coordinate
    assert cell.number_format == number_format, cell.coordinate


def assert_header(sheet, headers):
    assert [cell.value for cell in sheet[1]] == headers
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"


# --- the applications list ----------------------------------------------------------------------------------


@pytest.fixture
def applications(staff):
    """Submitted: one in D1, then one in D2 (later); one in preliminary review (D1); a draft (never shown)."""
    first = application_in(
        "submitted", staff=staff, lead_user=lead_user_in(D1), centre_name="重庆市甲创新中心"
    )
    second = application_in(
        "submitted", staff=staff, lead_user=lead_user_in(D2), centre_name="重庆市乙创新中心"
    )
    third = application_in(
        "preliminary", staff=staff, lead_user=lead_user_in(D1), centre_name="重庆市丙创新中心"
    )
    application_in("draft", lead_user=lead_user_in(D1), centre_name="重庆市草稿创新中心")
    return first, second, third


def test_the_applications_export_with_the_workbench_filter_applied(
    client, staff, applications, django_capture_on_commit_callbacks
):
    first, second, _third = applications
    job = run_export(client, django_capture_on_commit_callbacks, staff, "applications", "status=submitted")
    assert job.params == {"query": "status=submitted"}  # commission staff: no district

    job.refresh_from_db()
    assert (job.state, job.done_rows, job.total_rows, job.percent) == (ExportJob.State.DONE, 2, 2, 100)
    assert job.finished_at is not None and not job.error

    sheet = download(client, job)
    assert sheet.title == "申报清单"
    assert_header(sheet, APPLICATION_HEADERS)
    assert sheet.max_row == 3  # the header and the two submitted applications, latest submission first
    investment = Policy.current().min_total_investment + Decimal("100.00")  # complete_application's figures
    for row, application in zip(sheet.iter_rows(min_row=2), [second, first], strict=True):
        assert [cell.value for cell in row[:8]] == [
            application.number,
            application.centre_name,
            application.lead_unit.name,
            application.lead_unit.credit_code,
            application.field.name,
            application.district.name,
            "已提交",
            "符合",
        ]
        assert_number(row[8], investment, "#,##0.00")
        assert_same_time(row[9], application.submitted_at)
    assert [sheet["F2"].value, sheet["F3"].value] == ["渝中区", "渝北区"]


def test_the_applications_export_without_filters_lists_every_submitted_application(
    client, staff, applications, django_capture_on_commit_callbacks
):
    job = run_export(client, django_capture_on_commit_callbacks, staff, "applications")
    sheet = download(client, job)
    names = {row[1] for row in values(sheet)[1:]}
    assert names == {"重庆市甲创新中心", "重庆市乙创新中心", "重庆市丙创新中心"}  # never the draft
    assert {row[6] for row in values(sheet)[1:]} == {"已提交", "材料初审"}


def test_the_applications_export_takes_the_search_and_district_filters(
    client, staff, applications, django_capture_on_commit_callbacks
):
    d2 = District.objects.get(code=D2)
    job = run_export(client, django_capture_on_commit_callbacks, staff, "applications", f"district={d2.pk}")
    assert [row[1] for row in values(download(client, job))[1:]] == ["重庆市乙创新中心"]
    job = run_export(client, django_capture_on_commit_callbacks, staff, "applications", "q=丙")
    assert [row[1] for row in values(download(client, job))[1:]] == ["重庆市丙创新中心"]


def test_a_district_users_applications_export_holds_only_their_district(
    client, applications, django_capture_on_commit_callbacks
):
    user = district_staff_in(D1)
    job = run_export(client, django_capture_on_commit_callbacks, user, "applications")
    assert job.params["district"] == user.district_id
    rows = values(download(client, job))[1:]
    assert sorted(row[1] for row in rows) == ["重庆市丙创新中心", "重庆市甲创新中心"]
    assert {row[5] for row in rows} == {"渝北区"}

    # Asking for another district's applications in the query gives nothing, not their rows.
    d2 = District.objects.get(code=D2)
    job = run_export(client, django_capture_on_commit_callbacks, user, "applications", f"district={d2.pk}")
    job.refresh_from_db()
    assert (job.state, job.total_rows) == (ExportJob.State.DONE, 0)
    sheet = download(client, job)
    assert_header(sheet, APPLICATION_HEADERS)
    assert sheet.max_row == 1
    # Nor does a district smuggled into the form.
    job = run_export(client, django_capture_on_commit_callbacks, user, "applications", district=str(d2.pk))
    assert job.params["district"] == user.district_id
    assert {row[5] for row in values(download(client, job))[1:]} == {"渝北区"}


# --- annual summaries and assessment results ----------------------------------------------------------------


@pytest.fixture
def centres(staff):
    return {
        "A": awarded_centre(lead_user=lead_user_in(D1), name="重庆市A创新中心"),
        "B": awarded_centre(lead_user=lead_user_in(D2), name="重庆市B创新中心"),
        "C": awarded_centre(lead_user=lead_user_in(D1), name="重庆市C创新中心"),
    }


SUMMARY_FIGURES = {
    "revenue_transfer": Decimal("120.50"),
    "revenue_incubation": Decimal("30"),
    "revenue_contract_rd": Decimal("1234.56"),
    "revenue_testing": Decimal("45.5"),
    "revenue_public_service": Decimal("4"),
    "total_cost": Decimal("800"),
    "rd_expense": Decimal("200.25"),
    "employees": 120,
    "rd_staff": 30,
    "projects_national": 2,
    "projects_municipal": 5,
    "patents_filed": 18,
    "patents_granted": 7,
    "standards_led": 1,
    "standards_joined": 3,
    "technologies_transferred": 4,
    "firms_incubated": 2,
    "talents_recruited": 6,
    "members": 23,
    "platforms": 4,
}


def test_the_summaries_export_of_a_year(client, staff, centres, django_capture_on_commit_callbacks):
    year = ReportingYear.objects.create(year=2024, due_date=datetime.date(2025, 3, 31), opened_by=staff)
    other_year = ReportingYear.objects.create(year=2023, due_date=datetime.date(2024, 3, 31), opened_by=staff)
    submitted_at = datetime.datetime(2025, 3, 20, 15, 30, tzinfo=SHANGHAI)
    annual_summary(
        centres["A"], year, AnnualSummary.State.ACCEPTED, submitted_at=submitted_at, **SUMMARY_FIGURES
    )
    annual_summary(centres["B"], year, AnnualSummary.State.DRAFT, revenue_transfer=Decimal("5.00"))
    annual_summary(centres["C"], other_year, AnnualSummary.State.SUBMITTED)
    late_at = datetime.datetime(2025, 4, 2, 9, 0, tzinfo=SHANGHAI)
    annual_summary(centres["C"], year, AnnualSummary.State.SUBMITTED, submitted_at=late_at)

    client.force_login(staff)
    page = client.get(reverse("reports:export_new", args=["summaries"]) + "?year=2024").content.decode()
    assert 'name="year" value="2024"' in page
    job = run_export(client, django_capture_on_commit_callbacks, staff, "summaries", "year=2024")
    assert job.params["year"] == 2024
    sheet = download(client, job)
    assert sheet.title == "2024年度工作总结"
    opts = AnnualSummary._meta
    assert_header(
        sheet,
        [
            "创新中心",
            "牵头单位",
            "状态",
            *[str(opts.get_field(name).verbose_name) for name in exports.SUMMARY_FIELDS],
            "报送时间",
            "逾期报送",
        ],
    )
    assert sheet["D1"].value == "技术转让和成果转化收入（万元）"
    assert sheet["J1"].value == "研发经费支出（万元）"
    assert sheet["K1"].value == "职工总数"
    # Ordered by centre name: A (accepted, figures), B (draft: blank, not zeros), C (filed late); 2023 is
    # left out.
    assert [row[:3] for row in values(sheet)[1:]] == [
        ["重庆市A创新中心", centres["A"].lead_unit.name, "已受理"],
        ["重庆市B创新中心", centres["B"].lead_unit.name, "草稿"],
        ["重庆市C创新中心", centres["C"].lead_unit.name, "已报送"],
    ]
    assert all(cell.value is None for cell in sheet[3][3:])  # the draft's figures are not filed
    assert [sheet[n][-1].value for n in (2, 3, 4)] == [None, None, "是"]  # only C was filed late
    row = sheet[2]
    for cell, name in zip(row[3:-2], exports.SUMMARY_FIELDS, strict=True):
        money = name.startswith("revenue") or name in ("total_cost", "rd_expense")
        assert_number(cell, SUMMARY_FIGURES[name], "#,##0.00" if money else "0")
    assert sheet["J2"].value == pytest.approx(200.25)
    assert isinstance(sheet["K2"].value, int) and sheet["K2"].value == 120
    assert_same_time(row[-2], submitted_at)
    assert sheet.cell(row=3, column=len(row) - 1).value is None  # a draft has no submission time


def test_the_assessments_export(client, staff, centres, django_capture_on_commit_callbacks):
    confirmed_at = datetime.datetime(2024, 7, 1, 10, 0, tzinfo=SHANGHAI)
    graded_assessment(
        centres["A"],
        1,
        Decimal("92.50"),
        Assessment.Grade.EXCELLENT,
        confirmed_by=staff,
        due_on=datetime.date(2024, 6, 1),
        confirmed_at=confirmed_at,
    )
    Assessment.objects.create(centre=centres["B"], cycle=1, due_on=datetime.date(2025, 5, 20))  # open
    job = run_export(client, django_capture_on_commit_callbacks, staff, "assessments")
    sheet = download(client, job)
    assert sheet.title == "考核评估结果"
    assert_header(sheet, ["创新中心", "牵头单位", "轮次", "应考核日期", "考核得分", "考核等级", "确认时间"])
    assert sheet.max_row == 3
    # Latest due date first: B (open, no score), then A.
    assert [sheet["A2"].value, sheet["A3"].value] == ["重庆市B创新中心", "重庆市A创新中心"]
    assert_number(sheet["C3"], 1, "0")
    assert sheet["D3"].is_date and sheet["D3"].value.date() == datetime.date(2024, 6, 1)
    assert sheet["D3"].number_format == "yyyy-mm-dd"
    assert_number(sheet["E3"], Decimal("92.5"), "0.00")
    assert sheet["F3"].value == "优秀"
    assert_same_time(sheet["G3"], confirmed_at)
    assert (sheet["E2"].value, sheet["F2"].value, sheet["G2"].value) == (None, None, None)


def test_a_district_users_summaries_and_assessments_hold_only_their_district(
    client, staff, centres, django_capture_on_commit_callbacks
):
    year = ReportingYear.objects.create(year=2024, due_date=datetime.date(2025, 3, 31), opened_by=staff)
    for key, centre in centres.items():
        annual_summary(centre, year, AnnualSummary.State.SUBMITTED, rd_expense=Decimal(len(key)))
        graded_assessment(centre, 1, 85, Assessment.Grade.GOOD, confirmed_by=staff)
    for code, expected in ((D1, ["重庆市A创新中心", "重庆市C创新中心"]), (D2, ["重庆市B创新中心"])):
        user = district_staff_in(code)
        lead_units = {c.lead_unit.name for c in centres.values() if c.name in expected}
        for kind, query in (("summaries", "year=2024"), ("assessments", "")):
            job = run_export(client, django_capture_on_commit_callbacks, user, kind, query)
            assert job.params["district"] == user.district_id
            rows = values(download(client, job))[1:]
            assert sorted(row[0] for row in rows) == expected, (code, kind)
            assert {row[1] for row in rows} == lead_units, (code, kind)


# --- a panel's scores ---------------------------------------------------------------------------------------


def test_the_panel_scores_export_per_expert_and_criterion(client, staff, django_capture_on_commit_callbacks):
    application = application_in("expert_review", staff=staff, centre_name="重庆市评分创新中心")
    panel, assignments = panel_with_experts(application, staff, size=3)
    submit_sheet(assignments[0], scores=[18, 22.5, 17, 16, 12])  # 85.5
    submit_sheet(assignments[1], scores=[15, 20, 16.5, 15, 10])  # 76.5
    # The third expert declares a conflict and withdraws: not in the export.
    conflict = dict.fromkeys(Assignment.CONFLICT_QUESTIONS, False) | {"advised": True}
    panels.declare(assignments[2], assignments[2].expert, conflict)

    client.force_login(staff)
    panel_page = client.get(reverse("evaluation:panel", args=[application.pk])).content.decode()
    assert reverse("reports:export_new", args=["panel_scores"]) + f"?panel={panel.pk}" in panel_page
    job = run_export(client, django_capture_on_commit_callbacks, staff, "panel_scores", f"panel={panel.pk}")
    assert job.params["panel"] == panel.pk
    sheet = download(client, job)
    assert sheet.title == "重庆市评分创新中心"
    headers = [cell.value for cell in sheet[1]]
    assert headers[0] == "专家" and headers[-2:] == ["总分", "提交时间"]
    assert [re.sub(r"（(\d+)(\.0)?）$", r"（\1）", h) for h in headers[1:-2]] == [
        "建设基础与条件（20）",
        "技术方向与目标（25）",
        "运营模式与机制（20）",
        "预期成果与效益（20）",
        "牵头单位能力（15）",
    ]
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == 3
    for row, assignment, scores, total in zip(
        sheet.iter_rows(min_row=2),
        assignments[:2],
        [[18, 22.5, 17, 16, 12], [15, 20, 16.5, 15, 10]],
        ["85.5", "76.5"],
        strict=True,
    ):
        assert row[0].value == str(assignment.expert)
        for cell, points in zip(row[1:6], scores, strict=True):
            assert_number(cell, points, "0.0")
        assert_number(row[6], total, "0.0")
        assignment.sheet.refresh_from_db()
        assert_same_time(row[7], assignment.sheet.submitted_at)


def test_district_staff_may_not_export_a_panels_scores(client):
    client.force_login(district_staff_in(D1))
    url = reverse("reports:export_new", args=["panel_scores"])
    assert client.get(url).status_code == 403
    assert client.post(url, {"query": "", "panel": "1"}).status_code == 403
    assert not ExportJob.objects.exists()


# --- jobs: progress, the owner only -------------------------------------------------------------------------


def test_only_the_owner_sees_and_downloads_a_job(
    client, staff, applications, django_capture_on_commit_callbacks
):
    job = run_export(client, django_capture_on_commit_callbacks, staff, "applications")
    page = client.get(reverse("reports:export_job", args=[job.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "已完成" in body and "3 / 3" in body
    assert reverse("reports:export_download", args=[job.pk]) in body
    assert 'http-equiv="refresh"' not in body  # done: the page stops refreshing itself

    for other in (
        user_with_role(Role.COMMISSION_STAFF),
        district_staff_in(D1),
        user_with_role(Role.LEAD_UNIT),
        user_with_role(Role.EXPERT),
    ):
        client.force_login(other)
        for name in ("reports:export_job", "reports:export_download"):
            assert client.get(reverse(name, args=[job.pk])).status_code == 403, (other, name)
    client.logout()
    response = client.get(reverse("reports:export_download", args=[job.pk]))
    assert response.status_code == 302 and reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("role", [Role.LEAD_UNIT, Role.EXPERT, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN])
def test_other_roles_start_no_export(client, role):
    client.force_login(user_with_role(role))
    url = reverse("reports:export_new", args=["applications"])
    assert client.get(url).status_code == 403
    assert client.post(url, {"query": ""}).status_code == 403
    assert not ExportJob.objects.exists()


def test_a_job_not_done_refreshes_itself_and_has_nothing_to_download(client, staff):
    job = ExportJob.objects.create(owner=staff, kind="applications", params={"query": ""})
    client.force_login(staff)
    body = client.get(reverse("reports:export_job", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh" content="2"' in body
    assert "排队中" in body and "本页每2秒自动刷新" in body
    assert reverse("reports:export_download", args=[job.pk]) not in body
    assert client.get(reverse("reports:export_download", args=[job.pk])).status_code == 404


def test_an_unknown_kind_is_not_found(client, staff):
    client.force_login(staff)
    assert client.get(reverse("reports:export_new", args=["passwords"])).status_code == 404


def test_a_large_export_records_its_progress_every_chunk(staff, applications, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK", 2)
    for _ in range(2):
        application_in("submitted", staff=staff, lead_user=lead_user_in(D1))
    job = ExportJob.objects.create(owner=staff, kind="applications", params={"query": ""})
    with CaptureQueriesContext(connection) as queries:
        build_export.apply(args=[job.pk])
    progress = [
        int(m.group(1))
        for q in queries.captured_queries
        if (m := re.search(r'SET "done_rows" = (\d+)', q["sql"]))
    ]
    assert progress == [2, 4]  # 5 rows: after the 2nd and the 4th
    job.refresh_from_db()
    assert (job.state, job.done_rows, job.total_rows) == (ExportJob.State.DONE, 5, 5)
    # A second delivery of the same task (late acknowledgement) does not build it again.
    assert build_export.apply(args=[job.pk]).get() == ExportJob.State.DONE


def test_a_failed_export_says_so(client, staff):
    job = ExportJob.objects.create(owner=staff, kind="panel_scores", params={"query": "", "panel": 999999})
    with pytest.raises(Panel.DoesNotExist):  # eager tasks propagate; a worker would log it
        build_export.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.state == ExportJob.State.FAILED and job.error
    client.force_login(staff)
    body = client.get(reverse("reports:export_job", args=[job.pk])).content.decode()
    assert "导出失败" in body and 'http-equiv="refresh"' not in body


def test_text_that_looks_like_a_formula_is_exported_as_text(
    client, staff, django_capture_on_commit_callbacks
):
    name = '=HYPERLINK("http://example.com","点击查看")'
    application_in("submitted", staff=staff, lead_user=lead_user_in(D1), centre_name=name)
    sheet = download(client, run_export(client, django_capture_on_commit_callbacks, staff, "applications"))
    assert sheet["B2"].data_type == "s"
    assert sheet["B2"].value == name


def test_a_panel_of_a_centre_named_with_a_slash_exports(client, staff, django_capture_on_commit_callbacks):
    application = application_in(
        "expert_review", staff=staff, centre_name="重庆市车规级芯片/功率半导体创新中心"
    )
    panel, assignments = panel_with_experts(application, staff, size=1)
    submit_sheet(assignments[0], total=80)
    job = run_export(client, django_capture_on_commit_callbacks, staff, "panel_scores", f"panel={panel.pk}")
    job.refresh_from_db()
    assert job.state == ExportJob.State.DONE
    assert download(client, job).max_row == 2


def test_a_malformed_year_is_refused_not_a_server_error(client, staff):
    client.force_login(staff)
    url = reverse("reports:export_new", args=["summaries"])
    response = client.post(url, {"query": "", "year": "2024年"})
    assert response.status_code in (200, 400)
    assert not ExportJob.objects.exists()


# --- PDFs ---------------------------------------------------------------------------------------------------


def pdf_text(response) -> str:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline; filename*=UTF-8''")
    assert response.content.startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=response.content, capture_output=True, check=True
    ).stdout.decode("utf-8")
    return re.sub(r"\s+", "", text)  # letter-spaced titles come out with spaces between the characters


def test_the_evaluation_summary_pdf_holds_the_chinese_text(client, staff):
    application = application_in("comprehensive", staff=staff, centre_name="重庆市汇总创新中心")
    client.force_login(staff)
    response = client.get(reverse("evaluation:summary", args=[application.pk]) + "?format=pdf")
    text = pdf_text(response)
    assert (
        "%E8%AF%84%E5%AE%A1%E6%83%85%E5%86%B5%E6%B1%87%E6%80%BB%E8%A1%A8" in response["Content-Disposition"]
    )
    assert "重庆市制造业创新中心评审情况汇总表" in text
    assert "重庆市汇总创新中心" in text
    assert application.number in text
    assert application.lead_unit.name in text
    assert "专家论证" in text and "现场考核" in text


def test_the_approval_notice_pdf_reads_as_an_official_document(client, staff):
    application = application_approved(staff=staff, centre_name="重庆市批复创新中心")
    publicity.record_approval(
        application, staff, document_number="渝经信发〔2026〕88号", document_date=datetime.date(2026, 11, 20)
    )
    client.force_login(staff)
    text = pdf_text(client.get(reverse("evaluation:approval_notice", args=[application.pk]) + "?format=pdf"))
    assert "重庆市经济和信息化委员会关于认定重庆市批复创新中心的批复" in text
    assert "批复" in text and "此复" in text
    assert "渝经信发〔2026〕88号" in text
    assert f"{application.lead_unit.name}：" in text
    assert "同意将重庆市批复创新中心认定为重庆市制造业创新中心" in text
    assert "2026年11月20日" in text


def test_the_annual_summary_pdf_holds_the_chinese_text(client, staff):
    lead = lead_user_in(D1)
    centre = awarded_centre(lead_user=lead, name="重庆市总结创新中心")
    year = ReportingYear.objects.create(year=2024, due_date=datetime.date(2025, 3, 31), opened_by=staff)
    summary = annual_summary(
        centre,
        year,
        AnnualSummary.State.SUBMITTED,
        work_summary="建成中试线一条，完成共性技术攻关三项。",
        patents_filed=18,
        rd_expense=Decimal("200.25"),
    )
    url = reverse("reports:summary", args=[summary.pk]) + "?format=pdf"
    for reader in (lead, staff, district_staff_in(D1)):
        client.force_login(reader)
        text = pdf_text(client.get(url))
        assert "重庆市总结创新中心" in text
        assert "2024年度工作总结" in text
        assert "建成中试线一条，完成共性技术攻关三项。" in text
        assert "发明专利申请" in text and "200.25" in text
    # Nobody else gets the PDF.
    for outsider in (lead_user_in(D1), district_staff_in(D2)):
        client.force_login(outsider)
        assert client.get(url).status_code == 403


def test_the_annual_summary_pdf_holds_the_facts_figures_and_comparison(client, staff):
    """25 minor: lead unit, status, submission and due dates, totals, ratios and the year-on-year table."""
    lead = lead_user_in(D1)
    centre = awarded_centre(lead_user=lead, name="重庆市对比创新中心")
    before = ReportingYear.objects.create(year=2023, due_date=datetime.date(2024, 3, 31), opened_by=staff)
    year = ReportingYear.objects.create(year=2024, due_date=datetime.date(2025, 3, 31), opened_by=staff)
    annual_summary(centre, before, AnnualSummary.State.ACCEPTED, patents_filed=10, total_cost=Decimal("500"))
    summary = annual_summary(
        centre,
        year,
        AnnualSummary.State.SUBMITTED,
        submitted_at=datetime.datetime(2025, 3, 20, 15, 30, tzinfo=SHANGHAI),
        patents_filed=18,
        revenue_transfer=Decimal("300"),
        revenue_testing=Decimal("100"),
        total_cost=Decimal("800"),
        rd_expense=Decimal("200"),
        employees=120,
        rd_staff=30,
    )
    client.force_login(staff)
    text = pdf_text(client.get(reverse("reports:summary", args=[summary.pk]) + "?format=pdf"))
    assert centre.lead_unit.name in text
    assert "已报送" in text
    assert "2025年3月20日" in text and "2025年3月31日" in text
    assert "400.00" in text  # revenue total
    assert "25.0%" in text  # both ratios
    assert "主要指标年度对比" in text and "2023年" in text and "+8" in text  # patents 10 -> 18


def test_the_pdfs_are_for_staff_only_where_the_page_is(client, staff):
    application = application_in("submitted", staff=staff)
    client.force_login(application.created_by)
    url = reverse("evaluation:summary", args=[application.pk]) + "?format=pdf"
    assert client.get(url).status_code == 403
    assert Application.objects.get(pk=application.pk).status == "submitted"

"""Issue 19, special support (专项支持): the ledger (planned → granted → disbursed, each step dated with who),
the lead unit's innovation-project requests decided by staff, and the refusals in words: excluded, withdrawn
title, construction support outside the support years, innovation support without a passed assessment."""

import datetime
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from applications.services import ActionRefused
from centres.models import Centre
from reports import support
from reports.models import Assessment, ExportJob, SupportEvent, SupportGrant, SupportKind, SupportRequest
from tests.factories import PDF_BYTES, awarded_centre, graded_assessment, user_with_role

pytestmark = pytest.mark.django_db

D = datetime.date
C, INNO = SupportKind.CONSTRUCTION, SupportKind.INNOVATION


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


@pytest.fixture
def lead(db):
    return user_with_role(Role.LEAD_UNIT, full_name="李明")


def today():
    return timezone.localdate()


@pytest.fixture
def centre(lead):
    """In its second support year."""
    return awarded_centre(
        lead_user=lead, award_date=today() - datetime.timedelta(days=400), name="重庆市甲中心"
    )


@pytest.fixture
def assessed(lead, staff):
    """Past its support years, with a passed assessment confirmed a month ago."""
    centre = awarded_centre(lead_user=lead, award_date=today().replace(year=today().year - 4), name="乙中心")
    graded_assessment(
        centre,
        1,
        "85",
        Assessment.Grade.GOOD,
        confirmed_by=staff,
        confirmed_at=timezone.now() - datetime.timedelta(days=30),
    )
    return centre


def pdf(name="资金文件.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def test_construction_support_goes_planned_granted_disbursed_each_step_dated_with_who(staff, lead, centre):
    line = support.plan(
        centre, staff, kind=C, year=today().year, project_name="建设支持", amount="500", attachments=[pdf()]
    )
    assert (line.status, line.support_year, line.amount) == ("planned", 2, Decimal("500.00"))
    assert (line.planned_on, line.planned_by) == (today(), staff)
    assert line.attachments.get().content_type == "application/pdf"
    line = support.grant(line, staff, document_number="渝经信发〔2026〕12号", document_date=today())
    assert (line.status, line.granted_on, line.granted_by) == ("granted", today(), staff)
    line = support.disburse(line, staff, disbursed_on=today())
    assert (line.status, line.disbursed_on, line.disbursed_by) == ("disbursed", today(), staff)
    assert list(
        SupportEvent.objects.filter(grant=line).values_list("action", "from_status", "to_status")
    ) == [
        ("planned", "", "planned"),
        ("grant", "planned", "granted"),
        ("disburse", "granted", "disbursed"),
    ]
    subjects = list(Notification.objects.filter(recipient=lead).values_list("subject", flat=True))
    assert any("已下达" in s for s in subjects) and any("已拨付" in s for s in subjects)
    with pytest.raises(ActionRefused, match="已拨付"):
        support.disburse(line, staff, disbursed_on=today())
    event = SupportEvent.objects.filter(grant=line).first()
    with pytest.raises(ValueError):
        event.save()


def test_an_attachment_that_is_not_what_it_claims_is_refused_and_nothing_is_recorded(staff, centre):
    fake = SimpleUploadedFile("资金文件.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    with pytest.raises(ActionRefused, match="实际内容不是允许的类型"):
        support.plan(centre, staff, kind=C, year=2026, project_name="建设支持", amount=1, attachments=[fake])
    assert not SupportGrant.objects.exists()


def test_an_excluded_centre_is_refused_with_the_date_in_words(staff, centre):
    until = today() + datetime.timedelta(days=700)
    Centre.objects.filter(pk=centre.pk).update(status=Centre.Status.EXCLUDED, excluded_until=until)
    centre.refresh_from_db()
    expected = f"因考核评估不合格，至{until.year}年{until.month}月{until.day}日前不纳入支持范围"
    with pytest.raises(ActionRefused, match=expected):
        support.plan(centre, staff, kind=C, year=2026, project_name="建设支持", amount=100)


def test_a_planned_line_is_not_granted_or_paid_once_the_centre_is_excluded(staff, centre):
    line = support.plan(centre, staff, kind=C, year=2026, project_name="建设支持", amount=100)
    Centre.objects.filter(pk=centre.pk).update(excluded_until=today() + datetime.timedelta(days=30))
    with pytest.raises(ActionRefused, match="不纳入支持范围"):
        support.grant(line, staff, document_number="X", document_date=today())
    assert SupportGrant.objects.get(pk=line.pk).status == "planned"


def test_a_withdrawn_title_ends_support(staff, centre):
    Centre.objects.filter(pk=centre.pk).update(status=Centre.Status.WITHDRAWN, withdrawn_on=D(2026, 3, 2))
    centre.refresh_from_db()
    with pytest.raises(ActionRefused, match="已于2026年3月2日撤销称号，不再给予专项支持"):
        support.plan(centre, staff, kind=C, year=2026, project_name="建设支持", amount=100)


def test_construction_support_outside_the_support_years_is_refused(staff, assessed):
    with pytest.raises(ActionRefused, match="建设支持仅在授牌后连续3年内给予"):
        support.plan(assessed, staff, kind=C, year=2026, project_name="建设支持", amount=100)


def test_innovation_support_needs_a_passed_assessment_in_force(staff, centre, assessed):
    with pytest.raises(ActionRefused, match="考核评估合格（含）以上"):
        support.plan(centre, staff, kind=INNO, year=2026, project_name="项目", amount=100)
    line = support.plan(assessed, staff, kind=INNO, year=2026, project_name="项目", amount=100)
    assert line.support_year is None
    # A failed later assessment replaces the passed one.
    graded_assessment(assessed, 2, "50", Assessment.Grade.FAIL, confirmed_by=staff)
    with pytest.raises(ActionRefused, match="考核评估合格（含）以上"):
        support.plan(assessed, staff, kind=INNO, year=2026, project_name="项目二", amount=100)


def test_a_passed_assessment_older_than_the_interval_is_no_longer_in_force(staff, lead):
    centre = awarded_centre(lead_user=lead, award_date=D(2015, 6, 1))
    graded_assessment(
        centre,
        1,
        "95",
        "excellent",
        confirmed_by=staff,
        confirmed_at=timezone.now() - datetime.timedelta(days=1200),
    )
    assert support.refusal(centre, INNO) is not None


def test_only_staff_record_support(lead, centre):
    with pytest.raises(ActionRefused, match="只有市经济信息委工作人员"):
        support.plan(centre, lead, kind=C, year=2026, project_name="建设支持", amount=100)


def test_a_request_granted_by_staff_becomes_a_ledger_line_and_the_lead_unit_is_told(staff, lead, assessed):
    req = support.request_support(
        assessed,
        lead,
        project_name="高精度传感器研发",
        goals="突破关键工艺",
        budget="设备300万元，材料200万元",
        amount_requested="500",
        attachments=[pdf("项目方案.pdf")],
    )
    assert Notification.objects.filter(recipient=staff, subject__contains="创新项目支持申请").exists()
    line = support.approve_request(req, staff, amount="300")
    req = SupportRequest.objects.get(pk=req.pk)
    assert (req.status, req.decided_by) == ("granted", staff)
    assert (line.kind, line.amount, line.request_id) == (INNO, Decimal("300.00"), req.pk)
    assert line.status == "planned"
    assert Notification.objects.filter(recipient=lead, body__contains="同意支持300.00万元").exists()
    with pytest.raises(ActionRefused, match="同意支持"):
        support.refuse_request(req, staff, reason="重复")


def test_a_refusal_needs_a_reason_and_tells_the_lead_unit_why(staff, lead, assessed):
    req = support.request_support(
        assessed, lead, project_name="项目", goals="目标", budget="预算", amount_requested=100
    )
    with pytest.raises(ActionRefused, match="须写明理由"):
        support.refuse_request(req, staff, reason=" ")
    support.refuse_request(req, staff, reason="与已支持项目重复。")
    assert SupportRequest.objects.get(pk=req.pk).status == "refused"
    assert Notification.objects.filter(recipient=lead, body__contains="与已支持项目重复").exists()


def test_a_lead_unit_may_not_request_for_another_centre_nor_without_a_passed_assessment(
    staff, lead, centre, assessed
):
    other = user_with_role(Role.LEAD_UNIT)
    with pytest.raises(ActionRefused, match="只有该创新中心的牵头单位"):
        support.request_support(assessed, other, project_name="P", goals="G", budget="B", amount_requested=1)
    with pytest.raises(ActionRefused, match="考核评估合格"):
        support.request_support(centre, lead, project_name="P", goals="G", budget="B", amount_requested=1)
    with pytest.raises(ActionRefused, match="项目目标"):
        support.request_support(assessed, lead, project_name="P", goals="", budget="B", amount_requested=1)


def test_the_decision_is_refused_for_a_request_of_a_centre_excluded_meanwhile(staff, lead, assessed):
    req = support.request_support(assessed, lead, project_name="P", goals="G", budget="B", amount_requested=1)
    Centre.objects.filter(pk=assessed.pk).update(excluded_until=today() + datetime.timedelta(days=10))
    with pytest.raises(ActionRefused, match="不纳入支持范围"):
        support.approve_request(req, staff, amount=1)
    assert SupportRequest.objects.get(pk=req.pk).status == "submitted"


# --- the pages ---------------------------------------------------------------------------------------------


def test_staff_record_grant_and_disburse_on_the_centre_support_page(client, staff, lead, centre):
    client.force_login(staff)
    url = reverse("reports:centre_support", args=[centre.pk])
    page = client.get(url).content.decode()
    assert "当前为第2个支持年度" in page
    bad = client.post(
        url, {"plan": "1", "kind": C, "year": "2026", "project_name": "建设支持", "amount": "-5"}
    )
    assert bad.status_code == 200 and 'value="建设支持"' in bad.content.decode()
    assert not SupportGrant.objects.exists()
    response = client.post(
        url,
        {
            "plan": "1",
            "kind": C,
            "year": "2026",
            "project_name": "第二年建设支持",
            "amount": "500",
            "attachment": pdf(),
        },
    )
    assert response.status_code == 302
    line = SupportGrant.objects.get()
    response = client.post(
        url,
        {
            f"grant-{line.pk}-line": line.pk,
            f"grant-{line.pk}-document_number": "渝经信发〔2026〕12号",
            f"grant-{line.pk}-document_date": today().isoformat(),
        },
    )
    assert response.status_code == 302
    response = client.post(
        url, {f"disburse-{line.pk}-line": line.pk, f"disburse-{line.pk}-disbursed_on": today().isoformat()}
    )
    assert response.status_code == 302
    assert SupportGrant.objects.get().status == "disbursed"

    # The lead unit reads its own support (with the file), cannot record any; the public sees none of it.
    client.force_login(lead)
    page = client.get(url).content.decode()
    assert "第二年建设支持" in page and "渝经信发〔2026〕12号" in page and "已拨付" in page
    assert 'name="plan"' not in page
    attachment = line.attachments.get()
    assert client.get(reverse("reports:support_attachment", args=[attachment.pk])).status_code == 200
    assert (
        client.post(
            url, {"plan": "1", "kind": C, "year": "2026", "project_name": "x", "amount": "1"}
        ).status_code
        == 403
    )
    other = user_with_role(Role.LEAD_UNIT)
    client.force_login(other)
    assert client.get(url).status_code == 403
    assert client.get(reverse("reports:support_attachment", args=[attachment.pk])).status_code == 403
    client.logout()
    public = client.get(reverse("centres:detail", args=[centre.pk])).content.decode()
    assert "第二年建设支持" not in public and "500.00" not in public


def test_the_page_says_why_support_is_refused(client, staff, centre):
    until = today() + datetime.timedelta(days=100)
    Centre.objects.filter(pk=centre.pk).update(status=Centre.Status.EXCLUDED, excluded_until=until)
    client.force_login(staff)
    url = reverse("reports:centre_support", args=[centre.pk])
    response = client.post(
        url, {"plan": "1", "kind": C, "year": "2026", "project_name": "建设支持", "amount": "5"}
    )
    body = response.content.decode()
    assert f"因考核评估不合格，至{until.year}年{until.month}月{until.day}日前不纳入支持范围" in body
    assert not SupportGrant.objects.exists()


def test_the_lead_unit_requests_and_the_file_is_kept_across_a_failed_submission(
    client, staff, lead, assessed
):
    client.force_login(lead)
    url = reverse("reports:support_request_new", args=[assessed.pk])
    failed = client.post(
        url,
        {
            "project_name": "传感器",
            "goals": "",
            "budget": "300万元",
            "amount_requested": "200",
            "attachment": pdf("方案.pdf"),
        },
    )
    body = failed.content.decode()
    assert failed.status_code == 200 and 'value="传感器"' in body and "方案.pdf" in body
    token = re.search(r'name="stash" value="([0-9a-f]{32})"', body).group(1)
    response = client.post(
        url,
        {
            "project_name": "传感器",
            "goals": "国产化",
            "budget": "300万元",
            "amount_requested": "200",
            "stash": token,
        },
    )
    assert response.status_code == 302
    req = SupportRequest.objects.get()
    assert req.attachments.get().original_name == "方案.pdf"

    client.force_login(staff)
    page = reverse("reports:support_request", args=[req.pk])
    assert "传感器" in client.get(reverse("reports:support_ledger")).content.decode()
    missing = client.post(page, {"decision": "refuse", "reason": ""})
    assert missing.status_code == 200 and "不予支持须写明理由" in missing.content.decode()
    assert client.post(page, {"decision": "approve", "amount": "150", "year": "2026"}).status_code == 302
    assert SupportGrant.objects.get(request=req).amount == Decimal("150.00")
    client.force_login(lead)
    assert "同意支持" in client.get(page).content.decode()
    assert client.post(page, {"decision": "refuse", "reason": "x"}).status_code == 403


def test_a_lead_unit_without_a_passed_assessment_is_told_why_on_the_request_form(client, lead, centre):
    client.force_login(lead)
    page = client.get(reverse("reports:support_request_new", args=[centre.pk])).content.decode()
    assert "创新项目支持须有考核评估合格（含）以上" in page


def ledger_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("reports:support_ledger"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_ledger_keeps_a_fixed_number_of_queries(client, staff, lead):
    client.force_login(staff)
    ledger_queries(client)

    def add(n):
        for i in range(n):
            made = awarded_centre(lead_user=user_with_role(Role.LEAD_UNIT), award_date=today())
            support.plan(made, staff, kind=C, year=2026, project_name=f"项目{i}", amount=10)

    add(1)
    few = ledger_queries(client)
    add(8)
    assert ledger_queries(client) == few
    assert few <= 16


def test_the_ledger_export_holds_the_filtered_lines(
    client, staff, centre, django_capture_on_commit_callbacks
):
    line = support.plan(centre, staff, kind=C, year=2026, project_name="=HYPERLINK(1)", amount="500.5")
    support.grant(line, staff, document_number="渝经信发〔2026〕12号", document_date=today())
    other = awarded_centre(lead_user=user_with_role(Role.LEAD_UNIT), award_date=today())
    support.plan(other, staff, kind=C, year=2025, project_name="另一年", amount=1)
    client.force_login(staff)
    url = reverse("reports:export_new", args=["support"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"query": "year=2026"})
    job = ExportJob.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    assert job.state == ExportJob.State.DONE
    download = client.get(reverse("reports:export_download", args=[job.pk]))
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:3] == ["年度", "创新中心", "牵头单位"] and len(rows) == 2
    assert rows[1][7] == "=HYPERLINK(1)" and rows[1][9] == "已下达" and rows[1][10] == "渝经信发〔2026〕12号"
    assert (
        Decimal(str(rows[1][8])) == Decimal("500.5")
        and sheet.cell(row=2, column=9).number_format == "#,##0.00"
    )


def test_a_funding_document_is_kept_across_a_failed_plan_form(client, staff, centre):
    client.force_login(staff)
    url = reverse("reports:centre_support", args=[centre.pk])
    data = {"plan": "1", "kind": C, "year": "2026", "project_name": "建设支持", "amount": ""}
    failed = client.post(url, {**data, "attachment": pdf("资金文件.pdf")})
    body = failed.content.decode()
    assert failed.status_code == 200 and "资金文件.pdf" in body and 'id="stashed-files"' in body
    token = re.search(r'name="stash" value="([0-9a-f]{32})"', body).group(1)
    assert client.post(url, {**data, "amount": "80", "stash": token}).status_code == 302
    assert SupportGrant.objects.get().attachments.get().original_name == "资金文件.pdf"

"""The API (api/): public endpoints, tokens with scopes, revocation, expiry, rate limits, the audit of calls;
open data; verifiable documents (evaluation.verification)."""

import datetime
import hashlib
import json

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.roles import Role
from api import tokens
from api.models import ApiToken, Scope, SystemAccount
from applications.services import ActionRefused
from centres.models import Centre
from evaluation import verification
from evaluation.models import Approval, VerificationCode
from reports.models import ReportingYear
from tests.factories import (
    annual_summary,
    application_in_publicity,
    awarded_centre,
    graded_assessment,
    user_with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return user_with_role(Role.SYSTEM_ADMIN, is_staff=True)


@pytest.fixture
def account():
    return SystemAccount.objects.create(name="市政务数据共享平台", operator="市大数据局")


def issue(account, by, scopes=(Scope.APPLICATIONS, Scope.CENTRES), **kwargs):
    return tokens.issue(account, scopes=scopes, by=by, **kwargs)


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


# --- public endpoints -------------------------------------------------------------------------------------


def test_the_directory_is_public_filterable_and_paginated_like_the_page(client):
    first = awarded_centre(name="甲中心")
    awarded_centre(name="乙中心", kind=Centre.Kind.PILOT)
    awarded_centre(name="丙中心", status=Centre.Status.WITHDRAWN)
    response = client.get(reverse("api:centres"))
    assert response.status_code == 200
    names = [c["name"] for c in response.json()["results"]]
    assert sorted(names) == ["乙中心", "甲中心"]  # a withdrawn title is not in the directory
    only_pilots = client.get(reverse("api:centres"), {"kind": "pilot"}).json()
    assert [c["name"] for c in only_pilots["results"]] == ["乙中心"]
    by_field = client.get(reverse("api:centres"), {"field": first.field_id}).json()
    assert "甲中心" in [c["name"] for c in by_field["results"]]
    assert client.get(reverse("api:centres"), {"page_size": 1}).json()["next"]


@pytest.mark.parametrize(
    "params",
    [
        {"year": "abc"},
        {"year": "-1"},
        {"year": "99999999999"},
        {"field": "x"},
        {"kind": "nope"},
        {"page": "0"},
        {"page": "abc"},
        {"page": "999"},
        {"page_size": "-3"},
    ],
)
def test_bad_parameters_are_a_400_with_json(client, params):
    response = client.get(reverse("api:centres"), params)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert set(response.json()) <= {"year", "field", "kind", "page", "page_size"}


def test_the_current_status_with_the_end_of_an_exclusion_and_a_withdrawn_centre(client):
    until = timezone.localdate() + datetime.timedelta(days=400)
    excluded = awarded_centre(status=Centre.Status.EXCLUDED, excluded_until=until)
    withdrawn = awarded_centre(status=Centre.Status.WITHDRAWN, withdrawn_on=datetime.date(2025, 9, 1))
    data = client.get(reverse("api:centre", args=[excluded.pk])).json()
    assert (data["status"], data["excluded_until"]) == ("excluded", until.isoformat())
    data = client.get(reverse("api:centre", args=[withdrawn.pk])).json()
    assert (data["status"], data["withdrawn_on"]) == ("withdrawn", "2025-09-01")
    assert client.get(reverse("api:centre", args=[10**9])).status_code == 404


def test_public_endpoints_are_cached_like_the_pages_and_follow_changes(client):
    centre = awarded_centre(name="甲中心")
    assert client.get(reverse("api:centres"))["X-Cache"] == "miss"
    assert client.get(reverse("api:centres"))["X-Cache"] == "hit"
    Centre.objects.filter(pk=centre.pk).first().save()  # any change of the scope's models
    response = client.get(reverse("api:centres"))
    assert response["X-Cache"] == "miss"


def test_announcements_with_their_entries_and_period(client):
    application, announcement = application_in_publicity()
    data = client.get(reverse("api:announcements")).json()
    (item,) = data["results"]
    assert item["id"] == announcement.pk and item["is_open"] is True
    assert item["entries"][0]["centre_name"] == application.centre_name
    assert item["starts_at"] and item["ends_at"] and item["working_days"]
    assert client.get(reverse("api:announcements"), {"is_open": "false"}).json()["count"] == 0
    assert (
        client.get(reverse("api:announcement", args=[announcement.pk])).json()["title"] == announcement.title
    )
    # objectors are never in the API: the objection contact is the office's, not a person who objected
    assert "objections" not in json.dumps(item)


def test_the_docs_and_the_schema_are_served_from_our_own_static_files(client):
    schema = client.get(reverse("api:schema"))
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    docs = client.get(reverse("api:docs")).content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
    script = client.get(reverse("api:docs") + "?script=")
    assert script.status_code == 200  # the init script is a file, not inline (the CSP forbids inline scripts)


# --- tokens -----------------------------------------------------------------------------------------------


def test_a_token_is_stored_hashed_and_shown_once(account, admin_user):
    token, raw = issue(account, admin_user)
    assert raw.startswith(f"cqmic_{token.prefix}_")
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in json.dumps(list(ApiToken.objects.values()), default=str)
    assert AuditEvent.objects.filter(action="api.token_issued", actor=admin_user).exists()


def test_issuing_refuses_no_scope_and_expiries_in_the_past_or_too_far(account, admin_user):
    with pytest.raises(ActionRefused):
        issue(account, admin_user, scopes=[])
    with pytest.raises(ActionRefused):
        issue(account, admin_user, scopes=["everything"])
    with pytest.raises(ActionRefused):
        issue(account, admin_user, expires_at=timezone.now() - datetime.timedelta(seconds=1))
    with pytest.raises(ActionRefused):
        issue(account, admin_user, expires_at=timezone.now() + datetime.timedelta(days=400))


def test_scopes_are_enforced_per_endpoint_and_every_call_is_audited(client, account, admin_user):
    application, _announcement = application_in_publicity()
    _token, raw = issue(account, admin_user, scopes=[Scope.CENTRES])
    assert client.get(reverse("api:applications")).status_code == 401  # no token
    response = client.get(reverse("api:applications"), **bearer(raw))
    assert response.status_code == 403 and "applications:read" in response.json()["detail"]
    assert client.get(reverse("api:summaries"), **bearer(raw)).status_code == 200
    _token2, raw2 = issue(account, admin_user, scopes=[Scope.APPLICATIONS])
    data = client.get(reverse("api:applications"), **bearer(raw2)).json()
    (row,) = data["results"]
    assert (row["number"], row["status"]) == (application.number, "publicity")
    assert row["total_investment"] is not None and row["eligible"] is True
    calls = AuditEvent.objects.filter(action="api.call").order_by("pk")
    assert [(c.username, c.success) for c in calls] == [
        ("api:市政务数据共享平台", False),
        ("api:市政务数据共享平台", True),
        ("api:市政务数据共享平台", True),
    ]
    assert "-> 403" in calls[0].detail and calls[0].target == reverse("api:applications")


def test_revoked_expired_and_wrong_tokens_get_401_and_are_audited(client, account, admin_user):
    token, raw = issue(account, admin_user)
    assert client.get(reverse("api:assessments"), **bearer(raw)).status_code == 200
    tokens.revoke(token, by=admin_user)
    response = client.get(reverse("api:assessments"), **bearer(raw))
    assert response.status_code == 401 and "吊销" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Bearer"
    with pytest.raises(ActionRefused):
        tokens.revoke(token, by=admin_user)
    expired, raw_expired = issue(account, admin_user)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert "过期" in client.get(reverse("api:assessments"), **bearer(raw_expired)).json()["detail"]
    for wrong in (raw[:-1] + ("A" if raw[-1] != "A" else "B"), "cqmic_nosuch_x", "garbage", ""):
        assert client.get(reverse("api:assessments"), HTTP_AUTHORIZATION=f"Bearer {wrong}").status_code == 401
    assert client.get(reverse("api:assessments"), HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401
    refused = AuditEvent.objects.filter(action="api.call", success=False)
    assert refused.count() == 7
    assert AuditEvent.objects.filter(action="api.token_revoked", actor=admin_user).exists()


def test_a_public_endpoint_called_with_a_token_is_audited_and_not_served_from_the_cache(
    client, account, admin_user
):
    _token, raw = issue(account, admin_user)
    client.get(reverse("api:centres"))
    response = client.get(reverse("api:centres"), **bearer(raw))
    assert response.status_code == 200 and "X-Cache" not in response
    assert response["Cache-Control"] == "private, no-store"
    assert AuditEvent.objects.filter(action="api.call", success=True).count() == 1


@override_settings(API_TOKEN_RATE="3/h", API_ANONYMOUS_RATE="4/h")
def test_rate_limits_per_token_and_per_address(client, account, admin_user):
    _token, raw = issue(account, admin_user)
    codes = [client.get(reverse("api:summaries"), **bearer(raw)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    _other, raw_other = issue(account, admin_user)  # another token has its own count
    assert client.get(reverse("api:summaries"), **bearer(raw_other)).status_code == 200
    codes = [client.get(reverse("api:centres"), {"q": str(i)}).status_code for i in range(5)]
    assert codes == [200, 200, 200, 200, 429]


def test_summaries_and_assessments_show_figures_never_experts(client, account, admin_user):
    staff = user_with_role(Role.COMMISSION_STAFF)
    centre = awarded_centre()
    year = ReportingYear.objects.create(year=2025, due_date=datetime.date(2026, 3, 31), opened_by=staff)
    annual_summary(centre, year, state="accepted", patents_granted=7)
    annual_summary(awarded_centre(), year, state="draft")  # a draft is the centre's own work
    graded_assessment(centre, 1, 91, "excellent", confirmed_by=staff)
    _token, raw = issue(account, admin_user, scopes=[Scope.CENTRES])
    summaries = client.get(reverse("api:summaries"), {"centre": centre.pk}, **bearer(raw)).json()
    assert [(s["year"], s["patents_granted"]) for s in summaries["results"]] == [(2025, 7)]
    assert client.get(reverse("api:summaries"), **bearer(raw)).json()["count"] == 1
    assessment = client.get(reverse("api:assessments"), **bearer(raw)).json()["results"][0]
    assert (assessment["grade"], assessment["total"]) == ("excellent", "91.00")
    text = json.dumps(assessment, ensure_ascii=False)
    assert staff.username not in text and "panel" not in text and "confirmed_by" not in text


def test_the_system_administrator_issues_a_token_in_the_back_office(client, account, admin_user):
    client.force_login(admin_user)
    expires = timezone.localtime() + datetime.timedelta(days=30)
    response = client.post(
        reverse("admin:api_apitoken_add"),
        {
            "account": account.pk,
            "label": "数据共享",
            "scopes": [Scope.CENTRES],
            "expires_at_0": expires.strftime("%Y-%m-%d"),
            "expires_at_1": expires.strftime("%H:%M:%S"),
        },
        follow=True,
    )
    token = ApiToken.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    assert any(f"cqmic_{token.prefix}_" in m for m in shown)
    raw = next(m for m in shown if "cqmic_" in m).split("：", 1)[1]
    assert client.get(reverse("api:summaries"), **bearer(raw)).status_code == 200
    assert client.get(reverse("admin:api_apitoken_change", args=[token.pk])).status_code == 200
    too_far = timezone.localtime() + datetime.timedelta(days=400)
    refused = client.post(
        reverse("admin:api_apitoken_add"),
        {
            "account": account.pk,
            "scopes": [Scope.CENTRES],
            "expires_at_0": too_far.strftime("%Y-%m-%d"),
            "expires_at_1": too_far.strftime("%H:%M:%S"),
        },
    )
    assert refused.status_code == 200 and "有效期最长" in refused.content.decode()
    assert ApiToken.objects.count() == 1
    client.post(
        reverse("admin:api_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )
    assert client.get(reverse("api:summaries"), **bearer(raw)).status_code == 401
    client.force_login(user_with_role(Role.COMMISSION_STAFF, is_staff=True))
    assert client.get(reverse("admin:api_apitoken_add")).status_code == 403


# --- open data --------------------------------------------------------------------------------------------


def test_open_data_as_csv_and_json_with_the_date_produced_linked_from_the_pages(client):
    awarded_centre(name="甲中心")
    application, _announcement = application_in_publicity()
    data = client.get(reverse("open_data:centres", args=["json"])).json()
    assert data["dataset"] == "centres" and data["records"][0]["name"] == "甲中心"
    assert data["produced_at"].startswith(timezone.localdate().isoformat())
    csv_text = client.get(reverse("open_data:centres", args=["csv"])).content.decode("utf-8-sig")
    header, row = csv_text.splitlines()[:2]
    assert header.startswith("编号,创新中心名称") and header.endswith("数据生成时间") and "甲中心" in row
    announcements = client.get(reverse("open_data:announcements", args=["csv"])).content.decode("utf-8-sig")
    assert application.centre_name in announcements
    assert client.get(reverse("open_data:announcements", args=["json"])).json()["count"] == 1
    assert client.get(reverse("open_data:centres", args=["xml"])).status_code == 404
    index = reverse("open_data:index")
    assert index in client.get(reverse("centres:directory")).content.decode()
    assert index in client.get(reverse("announcements:list")).content.decode()
    assert reverse("open_data:centres", args=["csv"]) in client.get(index).content.decode()


# --- verifiable documents ---------------------------------------------------------------------------------


def _approved_centre(**overrides):
    centre = awarded_centre(**overrides)
    Approval.objects.create(
        application=centre.application,
        document_number="渝经信发〔2024〕12号",
        document_date=datetime.date(2024, 5, 20),
        recorded_by=centre.created_by,
    )
    return centre


def test_the_notice_carries_a_qr_code_to_a_page_with_the_current_status(client):
    centre = _approved_centre()
    staff = user_with_role(Role.COMMISSION_STAFF)
    client.force_login(staff)
    page = client.get(reverse("evaluation:approval_notice", args=[centre.application_id])).content.decode()
    code = VerificationCode.objects.get(application=centre.application, kind="approval_notice")
    assert 'id="verify-qr"' in page and f"/verify/{code.token}/" in page
    assert len(code.token) >= 43  # 32 random bytes
    pdf = client.get(reverse("evaluation:approval_notice", args=[centre.application_id]) + "?format=pdf")
    assert b"/Subtype /Image" in pdf.content  # the QR code is printed in the PDF as well
    client.get(reverse("evaluation:approval_notice", args=[centre.application_id]))
    assert VerificationCode.objects.filter(application=centre.application).count() == 1  # same code again
    client.logout()
    url = reverse("verify:document", args=[code.token])
    page = client.get(url).content.decode()
    assert centre.name in page and "渝经信发〔2024〕12号" in page and 'data-status="active"' in page
    until = timezone.localdate() + datetime.timedelta(days=30)
    Centre.objects.filter(pk=centre.pk).update(status=Centre.Status.EXCLUDED, excluded_until=until)
    assert 'data-status="excluded"' in client.get(url).content.decode()
    Centre.objects.filter(pk=centre.pk).update(status=Centre.Status.WITHDRAWN, withdrawn_on=until)
    assert 'data-status="withdrawn"' in client.get(url).content.decode()


def test_the_plaque_sheet_has_its_own_code(client):
    centre = _approved_centre()
    client.force_login(user_with_role(Role.COMMISSION_STAFF))
    page = client.get(reverse("evaluation:plaque_sheet", args=[centre.application_id])).content.decode()
    code = VerificationCode.objects.get(kind="plaque")
    assert f"/verify/{code.token}/" in page
    client.logout()
    assert centre.plaque_number in client.get(reverse("verify:document", args=[code.token])).content.decode()


def test_a_wrong_or_revoked_token_is_a_plain_not_found(client):
    centre = _approved_centre()
    staff = user_with_role(Role.COMMISSION_STAFF)
    code = verification.code_for(centre.application, VerificationCode.Kind.APPROVAL_NOTICE)
    assert client.get(reverse("verify:document", args=["x" * 43])).status_code == 404
    assert client.get("/verify/" + "y" * 500 + "/").status_code == 404
    with pytest.raises(ActionRefused):
        verification.revoke(code, by=staff, reason=" ")
    verification.revoke(code, by=staff, reason="文件遗失，已重新印发")
    response = client.get(reverse("verify:document", args=[code.token]))
    assert response.status_code == 404 and centre.name not in response.content.decode()
    assert AuditEvent.objects.filter(action="verification.revoked", actor=staff).exists()
    fresh = verification.code_for(centre.application, VerificationCode.Kind.APPROVAL_NOTICE)
    assert fresh.token != code.token


def test_staff_revoke_a_code_in_the_back_office_with_a_reason(client):
    centre = _approved_centre()
    code = verification.code_for(centre.application, VerificationCode.Kind.APPROVAL_NOTICE)
    client.force_login(user_with_role(Role.COMMISSION_STAFF, is_staff=True))
    changelist = reverse("admin:evaluation_verificationcode_changelist")
    asked = client.post(changelist, {"action": "revoke", "_selected_action": [code.pk]})
    assert "吊销理由" in asked.content.decode()
    client.post(changelist, {"action": "revoke", "_selected_action": [code.pk], "reason": "伪造风险"})
    code.refresh_from_db()
    assert code.revoked_at is not None and code.revoke_reason == "伪造风险"


def test_a_notice_approved_before_the_award_says_so(client):
    from applications.models import Application
    from tests.factories import complete_application

    application = complete_application()
    Application.objects.filter(pk=application.pk).update(status="approved")
    Approval.objects.create(
        application=application,
        document_number="渝经信发〔2026〕3号",
        document_date=datetime.date(2026, 11, 20),
        recorded_by=application.created_by,
    )
    code = verification.code_for(application, VerificationCode.Kind.APPROVAL_NOTICE)
    page = client.get(reverse("verify:document", args=[code.token])).content.decode()
    assert application.centre_name in page and "渝经信发〔2026〕3号" in page
    assert 'data-status="approved"' in page

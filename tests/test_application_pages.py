"""The lead unit's and the district's pages: access, drafts that survive errors, uploads, query counts."""

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from applications import services
from applications.models import Application, Attachment, Status
from tests.factories import PDF_BYTES, ApplicationFactory, complete_application, user_with_role

EDIT_STEPS = ["basics", "plan", "outcomes", "figures", "committee", "members", "declarations", "attachments"]


@pytest.fixture
def lead(db):
    return user_with_role(Role.LEAD_UNIT)


@pytest.fixture
def draft(lead):
    return ApplicationFactory(lead_unit=lead.organisation, created_by=lead)


@pytest.fixture
def submitted(lead):
    application = complete_application(lead_user=lead)
    services.submit(application, lead)
    return Application.objects.get(pk=application.pk)


def test_lead_unit_creates_a_draft_and_every_step_renders(client, lead):
    client.force_login(lead)
    response = client.post(reverse("applications:create"))
    application = Application.objects.get(lead_unit=lead.organisation)
    assert response["Location"] == reverse("applications:edit", args=[application.pk, "basics"])
    for step in EDIT_STEPS:
        page = client.get(reverse("applications:edit", args=[application.pk, step]))
        assert page.status_code == 200, step
        assert "基本条件核验" in page.content.decode()
    assert client.get(reverse("applications:submit", args=[application.pk])).status_code == 200


def test_unknown_step_is_404(client, lead, draft):
    client.force_login(lead)
    assert client.get(reverse("applications:edit", args=[draft.pk, "nonsense"])).status_code == 404


def test_saving_a_step_keeps_it_and_moves_on(client, lead, draft):
    client.force_login(lead)
    url = reverse("applications:edit", args=[draft.pk, "plan"])
    response = client.post(url, {"plan-basis": "已有中试线。", "plan-roadmap": "三步走。", "save_next": "1"})
    assert response["Location"] == reverse("applications:edit", args=[draft.pk, "outcomes"])
    draft.refresh_from_db()
    assert (draft.basis, draft.roadmap) == ("已有中试线。", "三步走。")


def test_a_failed_step_keeps_every_typed_value_and_saves_nothing(client, lead, draft):
    client.force_login(lead)
    url = reverse("applications:edit", args=[draft.pk, "figures"])
    data = {
        "figures-investment_capital": "800",
        "figures-investment_ip": "250.5",
        "figures-employees": "100",
        "figures-rd_staff": "150",  # more R&D staff than employees: refused
        "figures-total_cost": "abc",  # not a number
        "figures-rd_expense": "90",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="error-summary"' in body
    assert "研发及相关人员数不能超过职工总数" in body or "请输入一个数字" in body
    for name in ("800", "250.5", "100", "150", "abc", "90"):
        assert f'value="{name}"' in body
    draft.refresh_from_db()
    assert draft.investment_capital is None and draft.employees is None


def test_rd_staff_above_employees_is_refused_with_the_reason(client, lead, draft):
    client.force_login(lead)
    url = reverse("applications:edit", args=[draft.pk, "figures"])
    response = client.post(url, {"figures-employees": "100", "figures-rd_staff": "150"})
    assert "研发及相关人员数不能超过职工总数" in response.content.decode()


def test_a_forged_upload_is_refused_and_the_good_file_in_the_same_form_is_kept(client, lead, draft):
    client.force_login(lead)
    url = reverse("applications:edit", args=[draft.pk, "attachments"])
    forged = SimpleUploadedFile("营业执照.pdf", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf")
    good = SimpleUploadedFile("建设方案.pdf", PDF_BYTES, content_type="application/pdf")
    response = client.post(url, {"attachments-licence": forged, "attachments-plan": good}, follow=True)
    body = response.content.decode()
    assert "实际内容不是允许的类型" in body
    assert "营业执照.pdf" in body
    kinds = set(Attachment.objects.filter(application=draft).values_list("kind", flat=True))
    assert kinds == {Attachment.Kind.PLAN}
    assert "已上传：建设方案.pdf" in body


def test_attachments_are_served_only_to_those_who_may_see_the_application(client, lead, submitted):
    attachment = submitted.attachments.first()
    url = reverse("applications:attachment", args=[submitted.pk, attachment.pk])

    client.force_login(lead)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == attachment.file.open("rb").read()
    assert response["X-Content-Type-Options"] == "nosniff"

    client.force_login(user_with_role(Role.LEAD_UNIT))  # another organisation
    assert client.get(url).status_code == 403
    client.force_login(user_with_role(Role.EXPERT))
    assert client.get(url).status_code == 403
    client.force_login(user_with_role(Role.COMMISSION_STAFF))
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 302


def test_an_attachment_id_of_another_application_is_not_found(client, lead, submitted):
    other = complete_application()
    foreign = other.attachments.first()
    client.force_login(lead)
    assert client.get(reverse("applications:attachment", args=[submitted.pk, foreign.pk])).status_code == 404


@pytest.mark.parametrize(
    "name,method",
    [
        ("applications:detail", "get"),
        ("applications:print", "get"),
        ("applications:versions", "get"),
        ("applications:submit", "get"),
        ("applications:submit", "post"),
        ("applications:withdraw", "get"),
        ("applications:withdraw", "post"),
    ],
)
def test_another_organisation_cannot_reach_an_application_by_guessing_its_id(client, draft, name, method):
    client.force_login(user_with_role(Role.LEAD_UNIT))
    url = reverse(name, args=[draft.pk])
    response = getattr(client, method)(url, {"confirm": "on"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


@pytest.mark.parametrize("step", EDIT_STEPS)
def test_another_organisation_cannot_open_or_post_any_editor_step(client, draft, step):
    client.force_login(user_with_role(Role.LEAD_UNIT))
    url = reverse("applications:edit", args=[draft.pk, step])
    assert client.get(url).status_code == 403
    assert client.post(url, {"basics-centre_name": "被篡改"}).status_code == 403
    draft.refresh_from_db()
    assert draft.centre_name == ""


def test_a_submitted_application_cannot_be_edited(client, lead, submitted):
    client.force_login(lead)
    before = submitted.centre_name
    response = client.post(
        reverse("applications:edit", args=[submitted.pk, "basics"]),
        {"basics-centre_name": "改名"},
        follow=True,
    )
    assert "内容已锁定" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.centre_name == before


def test_submit_page_lists_what_is_missing_and_refuses(client, lead, draft):
    client.force_login(lead)
    response = client.post(reverse("applications:submit", args=[draft.pk]), {"confirm": "on"}, follow=True)
    body = response.content.decode()
    assert "尚未填写完整" in body
    draft.refresh_from_db()
    assert draft.status == Status.DRAFT


def test_submit_through_the_page(client, lead):
    application = complete_application(lead_user=lead)
    client.force_login(lead)
    response = client.post(
        reverse("applications:submit", args=[application.pk]), {"confirm": "on"}, follow=True
    )
    assert "建设方案已提交" in response.content.decode()
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    assert application.number in response.content.decode()


def test_submit_needs_the_confirmation_box(client, lead):
    application = complete_application(lead_user=lead)
    client.force_login(lead)
    response = client.post(reverse("applications:submit", args=[application.pk]), {})
    assert response.status_code == 200
    application.refresh_from_db()
    assert application.status == Status.DRAFT


def test_withdraw_asks_for_confirmation_first(client, lead, submitted):
    client.force_login(lead)
    url = reverse("applications:withdraw", args=[submitted.pk])
    client.post(url, {"reason": "暂缓申报"})
    submitted.refresh_from_db()
    assert submitted.status == Status.SUBMITTED
    client.post(url, {"reason": "暂缓申报", "confirm": "on"})
    submitted.refresh_from_db()
    assert submitted.status == Status.WITHDRAWN


def test_district_staff_see_their_district_only_and_never_drafts(client, submitted, draft):
    own = user_with_role(Role.DISTRICT_STAFF, district=submitted.district)
    client.force_login(own)
    body = client.get(reverse("applications:district_home")).content.decode()
    assert submitted.number in body
    assert reverse("applications:detail", args=[draft.pk]) not in body
    assert client.get(reverse("applications:detail", args=[draft.pk])).status_code == 403

    from accounts.models import District

    elsewhere = District.objects.exclude(pk=submitted.district_id).first()
    client.force_login(user_with_role(Role.DISTRICT_STAFF, district=elsewhere))
    assert submitted.number not in client.get(reverse("applications:district_home")).content.decode()
    assert client.get(reverse("applications:detail", args=[submitted.pk])).status_code == 403
    assert client.get(reverse("applications:recommend", args=[submitted.pk])).status_code == 403


def test_district_records_a_recommendation_opinion(
    client, submitted, mailoutbox, django_capture_on_commit_callbacks
):
    staff = user_with_role(Role.COMMISSION_STAFF)
    district_user = user_with_role(Role.DISTRICT_STAFF, district=submitted.district)
    client.force_login(district_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("applications:recommend", args=[submitted.pk]),
            {"recommend": "on", "opinion": "同意推荐，该单位基础扎实。", "opinion_date": "2026-11-20"},
            follow=True,
        )
    assert "推荐意见已保存" in response.content.decode()
    assert submitted.district_opinion.opinion == "同意推荐，该单位基础扎实。"
    assert submitted.events.filter(action="district_opinion").count() == 1
    assert any(staff.email in m.to for m in mailoutbox)


def test_district_filters_and_search(client, lead):
    district_user = user_with_role(Role.DISTRICT_STAFF, district=lead.organisation.district)
    a = complete_application(lead_user=lead, centre_name="重庆市甲创新中心")
    b = complete_application(lead_user=lead, centre_name="重庆市乙创新中心")
    services.submit(a, lead)
    services.submit(b, lead)
    services.withdraw(b, lead)
    client.force_login(district_user)
    body = client.get(reverse("applications:district_home"), {"q": "甲"}).content.decode()
    assert "重庆市甲创新中心" in body and "重庆市乙创新中心" not in body
    body = client.get(reverse("applications:district_home"), {"status": "withdrawn"}).content.decode()
    assert "重庆市乙创新中心" in body and "重庆市甲创新中心" not in body


def test_versions_page_shows_what_changed_between_submissions(client, lead, submitted):
    # A second version, as after a return and resubmission (the review workflow makes the return).
    Application.objects.filter(pk=submitted.pk).update(status=Status.RETURNED, basis="补充了中试线情况。")
    services.submit(submitted, lead)
    client.force_login(lead)
    body = client.get(reverse("applications:versions", args=[submitted.pk])).content.decode()
    assert "补充了中试线情况。" in body
    assert "建设基础条件" in body


# --- query counts: constant whatever the number of rows ---------------------------------------------------


def _count_queries(client, url):
    cache.clear()  # the uncached path: the page renders in full
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("rows", [1, 30])
def test_my_applications_query_count_is_flat(client, lead, rows, django_assert_max_num_queries):
    for _ in range(rows):
        ApplicationFactory(lead_unit=lead.organisation, created_by=lead)
    client.force_login(lead)
    with django_assert_max_num_queries(
        12
    ):  # session, user, roles, exclusion, count, rows, header, unread; refresh
        assert client.get(reverse("applications:lead_home")).status_code == 200


def test_my_applications_queries_do_not_grow_with_rows(client, lead):
    client.force_login(lead)
    ApplicationFactory(lead_unit=lead.organisation, created_by=lead)
    one = _count_queries(client, reverse("applications:lead_home"))
    for _ in range(29):
        ApplicationFactory(lead_unit=lead.organisation, created_by=lead)
    assert _count_queries(client, reverse("applications:lead_home")) == one


def test_district_list_queries_do_not_grow_with_rows(client, lead):
    district_user = user_with_role(Role.DISTRICT_STAFF, district=lead.organisation.district)
    client.force_login(district_user)

    def add():
        application = complete_application(lead_user=lead)
        services.submit(application, lead)

    add()
    one = _count_queries(client, reverse("applications:district_home"))
    for _ in range(29):
        add()
    assert _count_queries(client, reverse("applications:district_home")) == one


def test_a_new_draft_does_not_show_the_declarations_as_done(client, lead):
    client.force_login(lead)
    client.post(reverse("applications:create"))
    application = Application.objects.get(lead_unit=lead.organisation)
    body = client.get(reverse("applications:edit", args=[application.pk, "basics"])).content.decode()
    assert "已完成 0/8 步" in body
    # the progress label stands above the bar, not inside it (where a short bar cut it to "已完成")
    assert '<div class="progress-bar" style="width: 0%"></div>' in body
    client.post(
        reverse("applications:edit", args=[application.pk, "declarations"]),
        {"declarations-declares_enterprise_legal_person": "on", "save": "1"},
    )
    body = client.get(reverse("applications:edit", args=[application.pk, "basics"])).content.decode()
    assert "已完成 1/8 步" in body

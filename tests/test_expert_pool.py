"""The expert pool (issue 17): applying to join, staff's verification, the profile with past employers (the
conflict rules look back three years), suspension and retirement."""

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, Notification, Organisation, User
from accounts.roles import Role
from applications.models import Field
from applications.services import ActionRefused
from evaluation import panels, pool
from evaluation.models import ExpertApplication, ExpertProfile, PastEmployer
from tests.factories import (
    PDF_BYTES,
    OrganisationFactory,
    application_in_expert_review,
    expert_user,
    make_credit_code,
    user_with_role,
    valid_id_number,
)
from tests.test_security import solved_captcha

pytestmark = pytest.mark.django_db
APPLY = "/experts/apply/"
PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf(name="简历.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def application_data(employer=None, **overrides):
    employer = employer or OrganisationFactory()
    data = {
        "full_name": "钱专家",
        "id_number": valid_id_number(),
        "username": "qian_expert",
        "employer_credit_code": employer.credit_code,
        "employer_name": "",
        "employer_since": "2015-03-01",
        "title": "教授",
        "fields": [Field.objects.order_by("pk").first().pk],
        "category": "technical",
        "mobile": "13700137000",
        "email": "qian@example.cn",
        "declaration": "on",
        **solved_captcha(),
    }
    data.update(overrides)
    return data


def post_application(client, data, files=True):
    if files:
        data = {**data, "cv": pdf(), "certificate": pdf("证书.pdf")}
    return client.post(APPLY, data, REMOTE_ADDR="198.51.100.30")


def test_sign_in_and_home_link_to_the_application_page(client):
    assert APPLY in client.get("/accounts/login/").content.decode()
    assert APPLY in client.get("/").content.decode()
    assert client.get(APPLY).status_code == 200


def test_an_application_is_stored_with_the_id_number_encrypted_and_staff_are_told(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    response = post_application(client, application_data())
    assert "入库申请已提交" in response.content.decode(), response.content.decode()
    application = ExpertApplication.objects.get()
    assert application.id_number == valid_id_number() and application.status == "pending"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_number, mobile FROM evaluation_expertapplication WHERE id = %s", [application.pk]
        )
        stored_id, stored_mobile = cursor.fetchone()
    assert valid_id_number() not in stored_id and "13700137000" not in stored_mobile
    assert Notification.objects.filter(recipient=staff, subject__contains="钱专家").exists()


def test_a_new_employer_by_name_is_recorded_and_needs_a_name(client):
    code = make_credit_code(66_000_001)
    data = application_data(employer_credit_code=code)
    body = post_application(client, data).content.decode()
    assert "请填写工作单位名称" in body
    post_application(client, {**data, "employer_name": "重庆新单位研究院", **solved_captcha()})
    employer = Organisation.objects.get(credit_code=code)
    assert employer.name == "重庆新单位研究院" and employer.verification == Organisation.Verification.LISTED


def test_bad_input_is_refused_and_files_kept(client):
    data = application_data(id_number=valid_id_number()[:17] + ("0" if valid_id_number()[17] != "0" else "1"))
    response = post_application(client, data)
    body = response.content.decode()
    assert "身份证号码校验位不正确" in body
    assert "简历.pdf" in body and 'value="钱专家"' in body
    token = re.search(r'name="stash" value="([0-9a-f]{32})"', body).group(1)
    response = client.post(APPLY, {**application_data(), "stash": token}, REMOTE_ADDR="198.51.100.30")
    assert "入库申请已提交" in response.content.decode()
    assert ExpertApplication.objects.get().cv_name == "简历.pdf"


def test_a_cv_that_is_not_a_pdf_is_refused(client):
    data = {
        **application_data(),
        "cv": SimpleUploadedFile("简历.pdf", PNG_HEAD),
        "certificate": pdf("证书.pdf"),
    }
    body = client.post(APPLY, data, REMOTE_ADDR="198.51.100.30").content.decode()
    assert "个人简历只接受PDF" in body
    assert not ExpertApplication.objects.exists()


def test_the_declaration_is_required_and_a_username_in_use_refused(client):
    user_with_role(Role.EXPERT, username="qian_expert")
    data = application_data()
    del data["declaration"]
    body = post_application(client, data).content.decode()
    assert "请阅读并勾选承诺" in body and "已被使用" in body


def test_a_second_application_for_the_same_id_number_is_refused(client):
    post_application(client, application_data())
    body = post_application(client, application_data(username="qian2", **solved_captcha())).content.decode()
    assert "已有一份待审核的入库申请" in body
    assert ExpertApplication.objects.count() == 1


def approved_expert(client=None):
    staff = user_with_role(Role.COMMISSION_STAFF)
    data = application_data()
    application = pool.apply(
        {**data, "employer_since": date(2015, 3, 1), "fields": Field.objects.filter(pk__in=data["fields"])},
        {"cv": (pdf(), {"original_name": "简历.pdf"}), "certificate": (pdf(), {"original_name": "证书.pdf"})},
    )
    return staff, application, pool.approve(application, staff)


def test_staff_approve_an_application_and_the_expert_activates_the_account(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    post_application(client, application_data())
    application = ExpertApplication.objects.get()
    client.force_login(staff)
    page = client.get(reverse("pool:application", args=[application.pk])).content.decode()
    assert reverse("pool:application_file", args=[application.pk, "cv"]) in page
    assert valid_id_number() not in page  # shown masked
    assert client.get(reverse("pool:application_file", args=[application.pk, "cv"])).status_code == 200
    client.post(reverse("pool:application", args=[application.pk]), {"action": "approve"})
    application.refresh_from_db()
    assert application.status == "approved"
    expert = User.objects.get(username="qian_expert")
    assert expert.has_role(Role.EXPERT) and expert.expert_profile.employer == application.employer
    assert expert.expert_profile.id_number == valid_id_number()
    assert expert.phone == "13700137000" and not expert.has_usable_password()
    assert "/accounts/activate/" in mail.outbox[-1].body and mail.outbox[-1].to == ["qian@example.cn"]
    assert AuditEvent.objects.filter(action="expert_application.approved", actor=staff).exists()


def test_staff_reject_with_a_reason_and_the_applicant_is_emailed(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    post_application(client, application_data())
    application = ExpertApplication.objects.get()
    with pytest.raises(ActionRefused, match="原因"):
        pool.reject(application, staff, "")
    client.force_login(staff)
    client.post(
        reverse("pool:application", args=[application.pk]), {"action": "reject", "reason": "职称证书不清晰"}
    )
    application.refresh_from_db()
    assert application.status == "rejected" and "职称证书不清晰" in mail.outbox[-1].body
    assert not User.objects.filter(username="qian_expert").exists()
    with pytest.raises(ActionRefused, match="已经审核过"):
        pool.approve(application, staff)


def test_only_staff_verify(client):
    post_application(client, application_data())
    application = ExpertApplication.objects.get()
    lead = user_with_role(Role.LEAD_UNIT)
    with pytest.raises(ActionRefused):
        pool.approve(application, lead)
    client.force_login(lead)
    assert client.get(reverse("pool:application", args=[application.pk])).status_code == 403


def test_an_approved_expert_is_suggested_and_assignable():
    staff, _application, profile = approved_expert()
    application = application_in_expert_review(staff=staff)
    assert profile in panels.suggest_experts(application)
    panel = panels.create_panel(application, staff, deadline=timezone.now() + timedelta(days=7))
    panels.assign(panel, staff, [profile.user])
    assert panel.assignments.filter(expert=profile.user).exists()


def test_a_suspended_expert_is_neither_suggested_nor_assignable_and_a_retired_one_stays_out():
    staff, _application, profile = approved_expert()
    with pytest.raises(ActionRefused, match="原因"):
        pool.set_status(profile, staff, "suspended", "")
    pool.set_status(profile, staff, "suspended", "本年度出国访学")
    profile.refresh_from_db()
    assert not profile.is_active and profile.status_reason == "本年度出国访学"
    assert Notification.objects.filter(recipient=profile.user, body__contains="出国访学").exists()
    application = application_in_expert_review(staff=staff)
    assert profile not in panels.suggest_experts(application)
    panel = panels.create_panel(application, staff, deadline=timezone.now() + timedelta(days=7))
    with pytest.raises(ActionRefused):
        panels.assign(panel, staff, [User.objects.get(pk=profile.user_id)])
    pool.set_status(profile, staff, "active", "访学结束")
    assert ExpertProfile.objects.get(pk=profile.pk).is_active
    pool.set_status(profile, staff, "retired", "年龄原因退出")
    with pytest.raises(ActionRefused, match="不能再变更"):
        pool.set_status(profile, staff, "active", "误操作")


def test_staff_suspend_through_the_page(client):
    staff, _application, profile = approved_expert()
    client.force_login(staff)
    client.post(reverse("pool:expert", args=[profile.pk]), {"status": "suspended", "reason": "违反评审纪律"})
    assert ExpertProfile.objects.get(pk=profile.pk).status == "suspended"
    assert AuditEvent.objects.filter(action="expert.suspended", actor=staff).exists()


def test_a_change_of_employer_keeps_the_old_one_and_the_conflict_rules_look_back_three_years(client):
    staff, _application, profile = approved_expert()
    old_employer = profile.employer
    expert = User.objects.get(pk=profile.user_id)
    client.force_login(expert)
    new = OrganisationFactory()
    data = {
        "title": "研究员",
        "employer_credit_code": new.credit_code,
        "employer_name": "",
        "employer_since": (timezone.localdate() - timedelta(days=400)).isoformat(),
        "fields": [Field.objects.order_by("pk").first().pk],
        "category": "technical",
        "mobile": "13700137001",
    }
    client.post(reverse("pool:my_profile"), data)
    profile.refresh_from_db()
    assert profile.employer == new and profile.title == "研究员"
    past = PastEmployer.objects.get(profile=profile)
    assert past.organisation == old_employer and past.started_on == date(2015, 3, 1)
    assert past.ended_on == timezone.localdate() - timedelta(days=400)
    assert old_employer.name in client.get(reverse("pool:my_profile")).content.decode()
    # An application led by the old employer: a conflict within three years.
    led_by_old = application_in_expert_review(staff=staff)
    led_by_old.lead_unit = old_employer
    led_by_old.save()
    reasons = panels.conflict_reasons(User.objects.get(pk=profile.user_id), led_by_old)
    assert reasons and "三年内" in reasons[0]
    assert profile not in panels.suggest_experts(led_by_old)
    # Left more than three years ago: no conflict any more.
    PastEmployer.objects.filter(pk=past.pk).update(ended_on=timezone.localdate() - timedelta(days=3 * 366))
    assert panels.conflict_reasons(User.objects.get(pk=profile.user_id), led_by_old) == []
    assert profile in panels.suggest_experts(led_by_old)


def test_a_new_employer_must_start_after_the_old_one():
    _staff, _application, profile = approved_expert()
    data = {
        "title": "研究员",
        "employer_credit_code": OrganisationFactory().credit_code,
        "employer_since": date(2010, 1, 1),
        "fields": [],
        "category": "technical",
    }
    with pytest.raises(ActionRefused, match="晚于"):
        pool.update_profile(profile, profile.user, data)


def test_an_expert_of_the_factories_keeps_working():
    expert = expert_user()
    assert expert.expert_profile.status == "active"

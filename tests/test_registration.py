"""Joining the programme (issue 17): an organisation registers itself, confirms its e-mail, waits for its
district (or the commission) to verify it, and its administrator manages its people."""

import io
import os
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEvent, District, Notification, Organisation, OrganisationEvent, User
from accounts.roles import Role
from applications import registration, services
from applications.services import ActionRefused
from tests.factories import (
    PDF_BYTES,
    OrganisationFactory,
    complete_application,
    make_credit_code,
    user_with_role,
)
from tests.test_security import solved_captcha

pytestmark = pytest.mark.django_db
V = Organisation.Verification
REGISTER = "/accounts/register/"
PASSWORD = "Chongqing-2026-reg"


def licence(name="营业执照.pdf", content=PDF_BYTES):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def form_data(**overrides):
    data = {
        "name": "重庆注册测试科技有限公司",
        "credit_code": make_credit_code(55_000_001),
        "kind": "enterprise",
        "district": District.objects.get(code="500112").pk,
        "address": "重庆市渝北区注册路1号",
        "legal_representative": "李法人",
        "contact_name": "王联系",
        "contact_phone": "13800138000",
        "contact_email": "contact@example.cn",
        "username": "reg_admin",
        "full_name": "王联系",
        "phone": "13900139000",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **solved_captcha(),
    }
    data.update(overrides)
    return data


def post_registration(client, files=True, ip="198.51.100.7", **overrides):
    data = form_data(**overrides)
    if files:
        data["licence"] = licence()
    return client.post(REGISTER, data, REMOTE_ADDR=ip)


def confirmation_path() -> str:
    body = mail.outbox[-1].body
    return re.search(r"https?://[^/\s]+(/accounts/register/confirm/\S+/)", body).group(1)


def register_and_confirm(client, **overrides) -> Organisation:
    response = post_registration(client, **overrides)
    assert response.status_code == 200 and "确认邮件已发送" in response.content.decode(), response.content
    client.post(confirmation_path())
    return Organisation.objects.get(credit_code=overrides.get("credit_code", form_data()["credit_code"]))


# --- the pages are reachable ------------------------------------------------------------------------


def test_home_and_sign_in_link_to_the_registration_page(client):
    assert REGISTER in client.get("/").content.decode()
    assert REGISTER in client.get("/accounts/login/").content.decode()
    assert client.get(REGISTER).status_code == 200


# --- registering and confirming -----------------------------------------------------------------------


def test_registration_creates_an_unconfirmed_organisation_and_an_inactive_administrator(client):
    response = post_registration(client)
    assert response.status_code == 200
    organisation = Organisation.objects.get(credit_code=form_data()["credit_code"])
    assert organisation.verification == V.UNCONFIRMED
    assert organisation.licence and organisation.licence_type == "application/pdf"
    person = User.objects.get(username="reg_admin")
    assert not person.is_active and person.is_organisation_admin and person.has_role(Role.LEAD_UNIT)
    assert person.check_password(PASSWORD) and person.organisation == organisation
    assert mail.outbox[-1].to == ["contact@example.cn"]
    assert "/accounts/register/confirm/" in mail.outbox[-1].body


def test_confirming_the_email_makes_it_pending_and_tells_the_district(client):
    district_staff = user_with_role(Role.DISTRICT_STAFF, district=District.objects.get(code="500112"))
    other_district = user_with_role(
        Role.DISTRICT_STAFF, district=District.objects.exclude(code="500112").first()
    )
    organisation = register_and_confirm(client)
    assert organisation.verification == V.PENDING
    assert User.objects.get(username="reg_admin").is_active
    assert Notification.objects.filter(recipient=district_staff, subject__contains=organisation.name).exists()
    assert not Notification.objects.filter(recipient=other_district).exists()
    assert list(registration.queue_for(district_staff)) == [organisation]
    assert list(registration.queue_for(other_district)) == []


def test_the_confirmation_page_confirms_only_on_post(client):
    post_registration(client)
    path = confirmation_path()
    assert "确认邮箱" in client.get(path).content.decode()
    assert Organisation.objects.get().verification == V.UNCONFIRMED


def test_a_reused_confirmation_link_is_refused_clearly(client):
    post_registration(client)
    path = confirmation_path()
    client.post(path)
    body = client.post(path).content.decode()
    assert "该确认链接已经使用过" in body


def test_an_expired_confirmation_link_is_refused_clearly(client, time_machine):
    post_registration(client)
    path = confirmation_path()
    time_machine.move_to(timezone.now() + timedelta(days=8))
    body = client.post(path).content.decode()
    assert "确认链接已过期" in body
    assert Organisation.objects.get().verification == V.UNCONFIRMED


def test_a_tampered_confirmation_link_is_refused(client):
    post_registration(client)
    body = client.post(confirmation_path()[:-3] + "xx/").content.decode()
    assert "确认链接无效" in body


# --- bad input --------------------------------------------------------------------------------------


def test_a_wrong_check_character_is_refused_and_the_licence_is_kept(client):
    good = form_data()["credit_code"]
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    response = post_registration(client, credit_code=wrong)
    body = response.content.decode()
    assert "统一社会信用代码校验位不正确" in body
    assert "营业执照.pdf" in body  # kept in the stash, no need to choose it again
    assert 'value="重庆注册测试科技有限公司"' in body  # what was typed stays
    token = re.search(r'name="stash" value="([0-9a-f]{32})"', body).group(1)
    # The second try sends no file: the kept one is used.
    response = client.post(REGISTER, {**form_data(), "stash": token}, REMOTE_ADDR="198.51.100.7")
    assert "确认邮件已发送" in response.content.decode()
    assert Organisation.objects.get(credit_code=good).licence_name == "营业执照.pdf"


def test_a_licence_that_is_not_a_pdf_or_image_is_refused(client):
    data = form_data()
    data["licence"] = SimpleUploadedFile("执照.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    body = client.post(REGISTER, data, REMOTE_ADDR="198.51.100.7").content.decode()
    assert "实际内容不是允许的类型" in body
    assert not Organisation.objects.filter(credit_code=data["credit_code"]).exists()


def test_a_duplicate_username_is_refused(client):
    user_with_role(Role.LEAD_UNIT, username="reg_admin")
    body = post_registration(client).content.decode()
    assert "用户名“reg_admin”已被使用" in body
    assert not Organisation.objects.filter(credit_code=form_data()["credit_code"]).exists()


def test_a_password_against_the_policy_is_refused(client):
    body = post_registration(client, password1="12345678", password2="12345678").content.decode()
    assert "密码" in body and not Organisation.objects.filter(credit_code=form_data()["credit_code"]).exists()


def test_a_wrong_captcha_is_refused(client):
    body = post_registration(client, captcha_1="WRONG").content.decode()
    assert "图形验证码不正确" in body
    assert not Organisation.objects.filter(name="重庆注册测试科技有限公司").exists()


def test_a_registered_credit_code_is_refused_without_naming_the_holder_and_its_admin_is_told(client):
    holder = OrganisationFactory(name="重庆已注册保密单位有限公司", credit_code=make_credit_code(55_000_009))
    admin = user_with_role(Role.LEAD_UNIT, organisation=holder, is_organisation_admin=True)
    colleague = user_with_role(Role.LEAD_UNIT, organisation=holder)
    body = post_registration(client, credit_code=holder.credit_code).content.decode()
    assert "该统一社会信用代码已注册，请联系本单位的单位管理员" in body
    assert "重庆已注册保密单位有限公司" not in body
    assert Notification.objects.filter(recipient=admin, subject__contains="统一社会信用代码").exists()
    assert not Notification.objects.filter(recipient=colleague).exists()
    assert AuditEvent.objects.filter(action="registration.duplicate_code", success=False).exists()


def test_registration_is_rate_limited_per_address(client, settings):
    settings.REGISTRATION_RATE_ADDRESS = "2/h"
    for _ in range(2):
        assert post_registration(client, ip="203.0.113.9", name="").status_code == 200
    response = post_registration(client, ip="203.0.113.9")
    assert response.status_code == 429 and "过于频繁" in response.content.decode()
    assert post_registration(client, ip="203.0.113.10").status_code == 200  # another address


# --- pending: drafts yes, submission no --------------------------------------------------------------


def test_a_pending_organisation_writes_drafts_but_submit_is_refused_in_the_service(client):
    organisation = register_and_confirm(client)
    person = User.objects.get(username="reg_admin")
    draft = services.create_draft(person)
    assert draft.lead_unit == organisation
    complete = complete_application(lead_user=person)
    with pytest.raises(ActionRefused, match="待审核"):
        services.submit(complete, person)
    # ... and through the page
    client.force_login(person)
    response = client.post(reverse("applications:submit", args=[complete.pk]), {"confirm": "on"}, follow=True)
    assert "审核通过后才能提交申报" in response.content.decode()
    complete.refresh_from_db()
    assert complete.status == "draft"


def test_after_verification_the_submission_is_accepted(client):
    organisation = register_and_confirm(client)
    person = User.objects.get(username="reg_admin")
    staff = user_with_role(Role.DISTRICT_STAFF, district=organisation.district)
    registration.verify(organisation, staff)
    application = complete_application(lead_user=User.objects.get(pk=person.pk))
    services.submit(application, User.objects.get(pk=person.pk))
    application.refresh_from_db()
    assert application.status == "submitted"


# --- verification ------------------------------------------------------------------------------------


def test_district_staff_verify_with_the_licence_shown_and_the_applicant_is_told(client):
    organisation = register_and_confirm(client)
    staff = user_with_role(Role.DISTRICT_STAFF, district=organisation.district)
    client.force_login(staff)
    page = client.get(reverse("registration:verify", args=[organisation.pk])).content.decode()
    licence_url = reverse("registration:licence", args=[organisation.pk])
    assert licence_url in page
    shown = client.get(licence_url)
    assert shown.status_code == 200 and shown["X-Content-Type-Options"] == "nosniff"
    assert b"".join(shown.streaming_content).startswith(b"%PDF")
    client.post(reverse("registration:verify", args=[organisation.pk]), {"action": "approve"})
    organisation.refresh_from_db()
    assert organisation.verification == V.VERIFIED and organisation.verified_by == staff
    person = User.objects.get(username="reg_admin")
    assert Notification.objects.filter(recipient=person, subject__contains="审核通过").exists()
    assert OrganisationEvent.objects.filter(
        organisation=organisation, action="verified", actor=staff
    ).exists()


def test_rejection_needs_a_reason_the_applicant_corrects_and_resubmits(client):
    organisation = register_and_confirm(client)
    staff = user_with_role(Role.DISTRICT_STAFF, district=organisation.district)
    with pytest.raises(ActionRefused, match="原因"):
        registration.reject(organisation, staff, "  ")
    client.force_login(staff)
    client.post(
        reverse("registration:verify", args=[organisation.pk]),
        {"action": "reject", "reason": "营业执照不清晰"},
    )
    organisation.refresh_from_db()
    assert organisation.verification == V.REJECTED and organisation.verification_note == "营业执照不清晰"
    person = User.objects.get(username="reg_admin")
    note = Notification.objects.get(recipient=person, subject__contains="未通过")
    assert "营业执照不清晰" in note.body
    # The administrator corrects it (a new licence) and it goes back to the district.
    client.force_login(person)
    page = client.get(reverse("registration:organisation")).content.decode()
    assert "营业执照不清晰" in page
    data = {
        "name": organisation.name,
        "kind": "enterprise",
        "district": organisation.district_id,
        "address": organisation.address,
        "legal_representative": organisation.legal_representative,
        "contact_name": organisation.contact_name,
        "contact_phone": "13800138000",
        "contact_email": organisation.contact_email,
        "licence": licence("清晰的营业执照.pdf"),
    }
    client.post(reverse("registration:organisation_edit"), data)
    organisation.refresh_from_db()
    assert organisation.verification == V.PENDING and organisation.licence_name == "清晰的营业执照.pdf"
    assert OrganisationEvent.objects.filter(organisation=organisation, action="resubmitted").exists()
    assert Notification.objects.filter(recipient=staff, body__contains="重新提交审核").exists()


def test_only_the_organisations_district_verifies_and_the_commission_those_without_a_district(client):
    organisation = OrganisationFactory(verification=V.PENDING)
    outsider = user_with_role(
        Role.DISTRICT_STAFF, district=District.objects.exclude(pk=organisation.district_id)[0]
    )
    commission = user_with_role(Role.COMMISSION_STAFF)
    with pytest.raises(ActionRefused):
        registration.verify(organisation, outsider)
    with pytest.raises(ActionRefused):
        registration.verify(organisation, commission)
    client.force_login(outsider)
    assert client.get(reverse("registration:verify", args=[organisation.pk])).status_code == 403
    assert client.get(reverse("registration:licence", args=[organisation.pk])).status_code == 403
    without = OrganisationFactory(verification=V.PENDING, district=None)
    assert list(registration.queue_for(commission)) == [without]
    registration.verify(without, commission)
    assert Organisation.objects.get(pk=without.pk).is_verified


def test_an_organisation_without_a_district_can_write_a_draft():
    organisation = OrganisationFactory(verification=V.PENDING, district=None)
    person = user_with_role(Role.LEAD_UNIT, organisation=organisation)
    draft = services.create_draft(person)
    assert draft.district_id is None


def test_a_verified_organisation_changing_its_name_goes_back_to_verification_with_history():
    organisation = OrganisationFactory(name="重庆旧名称有限公司")
    admin = user_with_role(Role.LEAD_UNIT, organisation=organisation, is_organisation_admin=True)
    data = {"name": "重庆新名称有限公司", "address": "重庆市渝北区新地址2号"}
    registration.update_details(organisation, admin, data)
    organisation.refresh_from_db()
    assert organisation.verification == V.PENDING
    event = OrganisationEvent.objects.get(organisation=organisation, action="changed")
    assert event.changes["单位名称"] == ["重庆旧名称有限公司", "重庆新名称有限公司"]
    assert event.comment == "需重新审核"
    application = complete_application(lead_user=admin)
    with pytest.raises(ActionRefused, match="待审核"):
        services.submit(application, admin)


def test_a_change_of_address_only_keeps_the_verification():
    organisation = OrganisationFactory()
    admin = user_with_role(Role.LEAD_UNIT, organisation=organisation, is_organisation_admin=True)
    registration.update_details(organisation, admin, {"address": "重庆市渝北区新地址3号"})
    organisation.refresh_from_db()
    assert organisation.is_verified and organisation.address == "重庆市渝北区新地址3号"
    assert OrganisationEvent.objects.filter(organisation=organisation, action="changed").exists()


def test_only_the_administrator_changes_the_details_and_the_credit_code_never_changes(client):
    organisation = OrganisationFactory()
    colleague = user_with_role(Role.LEAD_UNIT, organisation=organisation)
    with pytest.raises(ActionRefused):
        registration.update_details(organisation, colleague, {"name": "别的名字"})
    client.force_login(colleague)
    assert client.get(reverse("registration:organisation_edit")).status_code == 403
    admin = user_with_role(Role.LEAD_UNIT, organisation=organisation, is_organisation_admin=True)
    registration.update_details(organisation, admin, {"name": "改名有限公司", "credit_code": "X"})
    assert Organisation.objects.get(pk=organisation.pk).credit_code == organisation.credit_code


# --- the administrator and colleagues ----------------------------------------------------------------


def test_the_administrator_invites_a_colleague_by_activation_link(client):
    organisation = OrganisationFactory()
    admin = user_with_role(Role.LEAD_UNIT, organisation=organisation, is_organisation_admin=True)
    client.force_login(admin)
    data = {"username": "colleague1", "full_name": "赵同事", "email": "zhao@example.cn", "phone": ""}
    client.post(reverse("registration:invite"), data)
    colleague = User.objects.get(username="colleague1")
    assert colleague.organisation == organisation and colleague.has_role(Role.LEAD_UNIT)
    assert not colleague.has_usable_password() and not colleague.is_organisation_admin
    assert mail.outbox[-1].to == ["zhao@example.cn"] and "/accounts/activate/" in mail.outbox[-1].body
    assert AuditEvent.objects.filter(action="organisation.invite", actor=admin).exists()
    # A duplicate username is refused.
    body = client.post(reverse("registration:invite"), data).content.decode()
    assert "已被使用" in body


def test_the_administrator_deactivates_a_colleague_after_confirming(client):
    organisation = OrganisationFactory()
    admin = user_with_role(Role.LEAD_UNIT, organisation=organisation, is_organisation_admin=True)
    colleague = user_with_role(Role.LEAD_UNIT, organisation=organisation)
    client.force_login(admin)
    url = reverse("registration:deactivate", args=[colleague.pk])
    assert "确定停用吗" in client.get(url).content.decode()
    assert User.objects.get(pk=colleague.pk).is_active
    client.post(url)
    assert not User.objects.get(pk=colleague.pk).is_active
    assert AuditEvent.objects.filter(action="organisation.deactivate", actor=admin).exists()
    with pytest.raises(ActionRefused, match="不能停用自己"):
        registration.deactivate(admin, admin)


def test_the_administrator_role_is_handed_over(client):
    organisation = OrganisationFactory()
    admin = user_with_role(Role.LEAD_UNIT, organisation=organisation, is_organisation_admin=True)
    colleague = user_with_role(Role.LEAD_UNIT, organisation=organisation)
    client.force_login(admin)
    client.post(reverse("registration:hand_over", args=[colleague.pk]))
    assert User.objects.get(pk=colleague.pk).is_organisation_admin
    assert not User.objects.get(pk=admin.pk).is_organisation_admin
    assert AuditEvent.objects.filter(action="organisation.hand_over", actor=admin).exists()
    assert client.get(reverse("registration:invite")).status_code == 403  # no longer the administrator


def test_an_administrator_cannot_touch_another_organisations_people(client):
    admin = user_with_role(Role.LEAD_UNIT, is_organisation_admin=True)
    stranger = user_with_role(Role.LEAD_UNIT)
    with pytest.raises(ActionRefused):
        registration.deactivate(admin, stranger)
    with pytest.raises(ActionRefused):
        registration.hand_over(admin, stranger)
    client.force_login(admin)
    assert client.post(reverse("registration:deactivate", args=[stranger.pk])).status_code == 403
    assert User.objects.get(pk=stranger.pk).is_active


# --- the beat's clean-up ------------------------------------------------------------------------------


def test_registrations_unconfirmed_for_seven_days_are_deleted_with_their_files(
    client, time_machine, django_capture_on_commit_callbacks
):
    post_registration(client)
    organisation = Organisation.objects.get()
    path = organisation.licence.path
    assert organisation.licence.storage.exists(organisation.licence.name)
    confirmed = register_and_confirm(client, credit_code=make_credit_code(55_000_002), username="other_admin")
    time_machine.move_to(timezone.now() + timedelta(days=6))
    assert registration.purge_stale() == 0
    time_machine.move_to(timezone.now() + timedelta(days=2))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_unconfirmed_registrations", stdout=out)
    assert "deleted 1" in out.getvalue()
    assert not Organisation.objects.filter(pk=organisation.pk).exists()
    assert not User.objects.filter(username="reg_admin").exists()
    assert not os.path.exists(path)
    assert Organisation.objects.filter(pk=confirmed.pk).exists()


def test_an_expired_unconfirmed_registration_does_not_block_registering_again(client, time_machine):
    post_registration(client)
    time_machine.move_to(timezone.now() + timedelta(days=8))
    response = post_registration(client)
    assert "确认邮件已发送" in response.content.decode()
    assert Organisation.objects.filter(credit_code=form_data()["credit_code"]).count() == 1


def test_the_demo_has_a_pending_organisation_for_district_demo_and_an_expert_application_for_staff_demo(
    client,
):
    from evaluation.models import ExpertApplication

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent
    district_demo = User.objects.get(username="district_demo")
    (pending,) = registration.queue_for(district_demo)
    assert pending.licence and pending.verification == V.PENDING
    client.force_login(district_demo)
    assert pending.name in client.get(reverse("registration:queue")).content.decode()
    assert client.get(reverse("registration:licence", args=[pending.pk])).status_code == 200
    assert ExpertApplication.objects.filter(status="pending").count() == 1
    client.force_login(User.objects.get(username="staff_demo"))
    assert "冯申请" in client.get(reverse("pool:home")).content.decode()


def test_the_district_must_be_chosen_and_no_district_is_a_choice_of_its_own(client):
    body = post_registration(client, district="").content.decode()
    assert "所在区县" in body and not Organisation.objects.exists()
    post_registration(client, district="none", **solved_captcha())
    assert Organisation.objects.get().district is None

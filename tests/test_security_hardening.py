"""Issue 16 (an attack on a production-settings instance): the findings closed in accounts and config.

三员 separation and activation links (1), the second-factor gate (2), re-authentication failures (5),
lockout abuse and the CAPTCHA (6), the password-reset throttle (8), /healthz and the proxy header (11),
the Chinese texts and the CSRF page (12), the record of business roles granted (also). The same gate,
takeover and lockout abuse over HTTP against gunicorn with production settings: tests/test_security_http.py.
"""

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent
from accounts.roles import Role
from tests.factories import TEST_PASSWORD, user_with_role

TWO_FACTOR_ROLES = ["commission_staff", "expert", "system_admin", "security_admin", "audit_admin"]
NEW_PASSWORD = "Neu-Passw0rd#2026"


@pytest.fixture
def two_factor_on(settings):
    settings.TWO_FACTOR_ROLES = TWO_FACTOR_ROLES


def current_token(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


# --- 2: until the second factor is passed, only that page and sign-out ------------------------------------


@pytest.mark.django_db
def test_a_password_alone_does_not_reach_the_password_change_of_a_two_factor_account(client, two_factor_on):
    staff = user_with_role(Role.COMMISSION_STAFF)
    TOTPDevice.objects.create(user=staff, name="authenticator", confirmed=True)
    client.post(reverse("accounts:login"), {"username": staff.username, "password": TEST_PASSWORD})
    change = reverse("accounts:password_change")
    response = client.get(change)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    response = client.post(
        change, {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    staff.refresh_from_db()
    assert staff.check_password(TEST_PASSWORD)
    assert client.get(reverse("accounts:password_change_done")).status_code == 302
    # The second-factor page and sign-out stay reachable.
    assert client.get("/accounts/2fa/").status_code == 200
    # After the second factor the password can be changed.
    device = TOTPDevice.objects.get(user=staff)
    client.post("/accounts/2fa/", {"token": current_token(device)})
    response = client.post(
        change, {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:password_change_done")
    staff.refresh_from_db()
    assert staff.check_password(NEW_PASSWORD)
    assert client.post(reverse("accounts:logout")).status_code == 302


# --- 12: the texts a person meets are in the catalogue; the portal's own page for an expired form -----------


def has_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "password",
    ["aB1!", "password", "12345678901234", "Zhang.San#2026"],  # short, common, numeric, like the name
)
def test_every_password_rule_speaks_chinese(password):
    from django.contrib.auth.password_validation import password_validators_help_texts, validate_password
    from django.core.exceptions import ValidationError

    user = user_with_role(Role.LEAD_UNIT, username="zhang.san2026", full_name="Zhang San")
    with pytest.raises(ValidationError) as raised:
        validate_password(password, user)
    assert raised.value.messages
    for message in raised.value.messages:
        assert has_chinese(message) and "password" not in message.lower(), message
    assert all(has_chinese(text) for text in password_validators_help_texts())


@pytest.mark.django_db
def test_the_length_rule_reads_as_english_in_english():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as raised:
        validate_password("aB1!x")
    assert "at least 10 characters" in " ".join(raised.value.messages)


@pytest.mark.django_db
def test_an_expired_form_gets_the_portals_own_page_saying_what_to_do():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.get(reverse("accounts:login"))  # the cookie, but the form is sent without its token
    response = client.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "页面已过期" in page and "刷新页面后重新填写并提交" in page
    assert "CSRF" not in page and "Forbidden" not in page
    assert '<html lang="zh-hans"' in page or 'lang="zh-Hans"' in page or 'lang="zh' in page
    client.cookies["portal_language"] = "en"
    page = client.post(reverse("accounts:login"), {"username": "x", "password": "y"}).content.decode()
    assert "expired" in page.lower() and "页面已过期" not in page


# --- 11: /healthz tells the public the status only; X-Forwarded-Proto only behind a known proxy -----------


@pytest.mark.django_db
def test_healthz_tells_the_public_the_status_alone(client, settings):
    settings.HEALTHZ_DETAIL_ADDRESSES = ["10.0.0.0/24"]
    settings.HEALTHZ_TOKEN = "probe-token-0123456789"
    url = reverse("healthz")
    public = client.get(url, REMOTE_ADDR="203.0.113.5")
    assert (public.status_code, public.json()) == (200, {"status": "ok"})
    # A forged X-Forwarded-For is not believed without a trusted proxy.
    assert client.get(url, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="10.0.0.7").json() == {
        "status": "ok"
    }
    assert client.get(url, REMOTE_ADDR="203.0.113.5", HTTP_X_HEALTH_TOKEN="wrong").json() == {"status": "ok"}
    detailed = {"status": "ok", "database": "ok", "redis": "ok", "worker": "disabled"}
    assert client.get(url, REMOTE_ADDR="10.0.0.7").json() == detailed  # the load balancer
    assert client.get(url, REMOTE_ADDR="203.0.113.5", HTTP_X_HEALTH_TOKEN=settings.HEALTHZ_TOKEN).json() == (
        detailed
    )
    settings.HEALTHZ_TOKEN = ""  # no token configured: an empty header opens nothing
    assert client.get(url, REMOTE_ADDR="203.0.113.5", HTTP_X_HEALTH_TOKEN="").json() == {"status": "ok"}


def production_setting(name: str, **env) -> str:
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = f"import django; django.setup(); from django.conf import settings; print(repr(settings.{name}))"
    environment = {
        **{k: v for k, v in os.environ.items() if k != "TRUSTED_PROXY_COUNT"},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k3y-for-the-settings-test-" + "x9Q!" * 12,
        "ALLOWED_HOSTS": "portal.example.gov.cn",
        "FIELD_ENCRYPTION_KEYS": "c2V0dGluZ3MtdGVzdC1maWVsZC1rZXktMDAwMDAwMDA=",
        "FIELD_HASH_KEY": "settings-test-hash-key",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_x_forwarded_proto_is_trusted_only_behind_a_declared_proxy():
    assert production_setting("SECURE_PROXY_SSL_HEADER") == "None"
    assert production_setting("SECURE_PROXY_SSL_HEADER", TRUSTED_PROXY_COUNT="1") == (
        "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


# --- 5 and 6: re-authentication failures count; lockout that cannot be turned against the owner -----------

LOGIN = "/accounts/login/"


def captcha_in(page: str) -> str | None:
    """The key of the CAPTCHA a sign-in page shows (None without one)."""
    import re

    found = re.search(r'name="captcha_0" value="([0-9a-f]+)"', page)
    return found.group(1) if found else None


def answer(key: str) -> str:
    from captcha.models import CaptchaStore

    return CaptchaStore.objects.get(hashkey=key).response


def sign_in(client, username, password, ip, captcha=None):
    data = {"username": username, "password": password}
    if captcha:
        data.update(captcha_0=captcha[0], captcha_1=captcha[1])
    return client.post(LOGIN, data, REMOTE_ADDR=ip)


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("accounts:home")


@pytest.mark.django_db
def test_wrong_passwords_on_the_reauthentication_page_count_and_end_the_session_at_the_limit(
    client, settings
):
    from evaluation.models import Announcement  # noqa: F401 - the objections page is the sensitive one
    from tests.factories import application_in_publicity

    staff = user_with_role(Role.COMMISSION_STAFF)
    _application, announcement = application_in_publicity(staff=staff)
    url = reverse("evaluation:objections", args=[announcement.pk])
    client.force_login(staff)
    reauth = f"/accounts/reauth/?next={url}"
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reauth, {"password": f"wrong-{n}"}, REMOTE_ADDR="192.0.2.44")
        assert response.status_code == 200 and "密码不正确" in response.content.decode(), n
    response = client.post(reauth, {"password": "wrong-last"}, REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 429 and "账号已暂时锁定" in response.content.decode()
    # The session has ended: the right password now is a sign-in, and that is locked from this address.
    response = client.get(url, REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    response = client.post(reauth, {"password": TEST_PASSWORD}, REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    key = captcha_in(sign_in(client, staff.username, "wrong", "192.0.2.44").content.decode()) or ""
    locked = sign_in(client, staff.username, TEST_PASSWORD, "192.0.2.44", (key, answer(key)) if key else None)
    assert locked.status_code == 429
    assert AuditEvent.objects.filter(action="reauth", actor=staff, success=False).count() == (
        settings.AXES_FAILURE_LIMIT
    )
    assert AuditEvent.objects.filter(action="reauth.locked_out", actor=staff).exists()


@pytest.mark.django_db
def test_after_the_first_failures_on_an_account_the_sign_in_asks_for_a_captcha_first(client, settings):
    from axes.models import AccessAttempt

    user = user_with_role(Role.LEAD_UNIT)
    assert captcha_in(client.get(LOGIN).content.decode()) is None
    for n in range(settings.LOGIN_CAPTCHA_AFTER_FAILURES):
        page = sign_in(client, user.username, "wrong", f"198.51.100.{n + 1}").content.decode()
    key = captcha_in(page)  # shown with the form sent back after the last failure
    assert key and 'src="/captcha/image/' in page and "图形验证码" in page
    image = client.get(f"/captcha/image/{key}/")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    failures = sum(AccessAttempt.objects.values_list("failures_since_start", flat=True))
    # Without the picture's characters, even the right password is not tried (and nothing is counted).
    response = sign_in(client, user.username, TEST_PASSWORD, "198.51.100.50")
    assert response.status_code == 200 and "captcha" in response.context["form"].errors
    new_key = captcha_in(response.content.decode())
    new_answer = answer(new_key)
    response = sign_in(client, user.username, TEST_PASSWORD, "198.51.100.50", (new_key, "XXXXX"))
    assert response.status_code == 200 and "图形验证码不正确" in response.content.decode()
    assert sum(AccessAttempt.objects.values_list("failures_since_start", flat=True)) == failures
    # A CAPTCHA once tried cannot be tried again, even with the right characters; an unused one with its
    # characters lets the owner in.
    replay = (new_key, new_answer)
    assert not signed_in(sign_in(client, user.username, TEST_PASSWORD, "198.51.100.50", replay))
    assert signed_in(sign_in(client, user.username, TEST_PASSWORD, "198.51.100.50", (key, answer(key))))


@pytest.mark.django_db
def test_the_security_administrator_sees_both_kinds_of_lock_and_lifts_them(client, settings):
    from django.test import Client

    settings.AXES_ACCOUNT_FAILURE_LIMIT = 8
    victim = user_with_role(Role.LEAD_UNIT)
    for n in range(8):  # 5 from one address (that pair is locked), then 3 more from others: the account
        ip = "198.51.100.1" if n < 5 else f"198.51.100.{n + 10}"
        key = captcha_in(client.get(LOGIN).content.decode())  # none on a fresh form ...
        page = sign_in(client, victim.username, "wrong", ip).content.decode()
        key = captcha_in(page) or key
        if key:  # ... then answer it as the person would
            sign_in(client, victim.username, "wrong", ip, (key, answer(key)))
    admin = Client()
    admin.force_login(user_with_role(Role.SECURITY_ADMIN))
    page = admin.get(reverse("accounts:security_admin_home")).content.decode()
    assert "该账号在该地址" in page and "该账号（任意地址）" in page and "198.51.100.1" in page
    response = admin.post(
        reverse("accounts:security_admin_home"), {"unlock": "", "username": victim.username}
    )
    assert response.status_code == 302
    page = admin.get(reverse("accounts:security_admin_home")).content.decode()
    assert "目前没有被锁定的账号" in page


# --- 1: 三员 — nobody takes over an administrator; nobody knows another person's password -----------------


def system_admin_client():
    from django.test import Client

    client = Client()
    admin = user_with_role(Role.SYSTEM_ADMIN, is_staff=True)
    client.force_login(admin)
    client.post("/accounts/reauth/", {"password": TEST_PASSWORD})
    return client, admin


def change_data(target, **changes) -> dict:
    data = {
        "username": target.username,
        "full_name": target.full_name,
        "email": target.email,
        "phone": target.phone,
        "groups": list(target.groups.values_list("pk", flat=True)),
        "organisation": target.organisation_id or "",
        "district": target.district_id or "",
        "is_active": "on",
        "_save": "保存",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def link_in(message) -> str:
    import re

    return "/" + re.search(r"https?://\S+", message.body).group(0).split("://", 1)[1].split("/", 1)[1]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.AUDIT_ADMIN, Role.SECURITY_ADMIN, Role.COMMISSION_STAFF])
def test_nobody_sets_another_persons_password_in_the_admin(role):
    client, _admin = system_admin_client()
    target = user_with_role(role)
    url = reverse("admin:auth_user_password_change", args=[target.pk])
    assert client.get(url).status_code == 403
    response = client.post(
        url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )
    assert response.status_code == 403
    target.refresh_from_db()
    assert target.check_password(TEST_PASSWORD) and not target.check_password(NEW_PASSWORD)
    page = client.get(reverse("admin:accounts_user_change", args=[target.pk])).content.decode()
    assert "/password/" not in page  # no link to a password form


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.AUDIT_ADMIN, Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN])
def test_the_system_administrator_cannot_change_an_administrators_email_or_active_flag(role):
    client, _admin = system_admin_client()
    target = user_with_role(role, email="owner@example.gov.cn")
    url = reverse("admin:accounts_user_change", args=[target.pk])
    response = client.post(url, change_data(target, email="attacker@example.com", is_active=None))
    assert response.status_code == 302
    target.refresh_from_db()
    assert (target.email, target.is_active) == ("owner@example.gov.cn", True)


@pytest.mark.django_db
def test_the_system_administrator_still_changes_a_business_accounts_email():
    client, _admin = system_admin_client()
    target = user_with_role(Role.EXPERT, email="old@example.com")
    url = reverse("admin:accounts_user_change", args=[target.pk])
    assert client.post(url, change_data(target, email="new@example.com")).status_code == 302
    target.refresh_from_db()
    assert target.email == "new@example.com"


@pytest.mark.django_db
def test_a_password_link_for_an_administrator_is_sent_by_a_superuser_only():
    from django.core import mail
    from django.test import Client

    client, _admin = system_admin_client()
    audit_admin = user_with_role(Role.AUDIT_ADMIN, email="audit@example.gov.cn")
    changelist = reverse("admin:accounts_user_changelist")
    action = {"action": "send_password_link", "_selected_action": [audit_admin.pk]}
    response = client.post(changelist, action, follow=True)
    assert "管理员账号只能由超级管理员重设" in response.content.decode()
    assert mail.outbox == []
    superuser = user_with_role(Role.SYSTEM_ADMIN, is_staff=True, is_superuser=True)
    root = Client()
    root.force_login(superuser)
    root.post("/accounts/reauth/", {"password": TEST_PASSWORD})
    root.post(changelist, action)
    assert [m.to for m in mail.outbox] == [["audit@example.gov.cn"]]
    event = AuditEvent.objects.get(action="password.link_sent")
    assert (event.actor, event.target) == (superuser, f"accounts.User:{audit_admin.pk}")


@pytest.mark.django_db
def test_the_security_administrator_cannot_reset_an_administrators_second_factor(client):
    audit_admin = user_with_role(Role.AUDIT_ADMIN)
    TOTPDevice.objects.create(user=audit_admin, name="authenticator", confirmed=True)
    client.force_login(user_with_role(Role.SECURITY_ADMIN))
    response = client.post(
        reverse("accounts:security_admin_home"), {"reset_2fa": "", "username": audit_admin.username}
    )
    assert response.status_code == 200 and "只能由超级管理员重置" in response.content.decode()
    assert TOTPDevice.objects.filter(user=audit_admin).exists()


@pytest.mark.django_db
def test_second_factors_in_the_admin_are_the_superusers_alone():
    client, _admin = system_admin_client()
    audit_admin = user_with_role(Role.AUDIT_ADMIN)
    device = TOTPDevice.objects.create(user=audit_admin, name="authenticator", confirmed=True)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 403
    assert client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").status_code in (302, 403)
    assert client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code in (
        302,
        403,
    )
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


@pytest.mark.django_db
def test_a_new_account_gets_an_activation_link_and_its_owner_sets_the_password(client):
    from django.core import mail
    from django.test import Client

    from accounts.models import User

    admin_client, admin = system_admin_client()
    page = admin_client.get(reverse("admin:accounts_user_add")).content.decode()
    assert 'name="password1"' not in page and 'name="email"' in page
    assert "由账号本人自行设置密码" in page and "After you" not in page
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {"username": "wang.staff", "full_name": "王工作人员", "email": "wang@example.gov.cn", "phone": ""},
        REMOTE_ADDR="192.0.2.77",
    )
    assert response.status_code == 302
    new = User.objects.get(username="wang.staff")
    assert not new.has_usable_password()  # nobody, the administrator included, can sign in as it yet
    (message,) = mail.outbox
    assert message.to == ["wang@example.gov.cn"] and "激活" in message.subject
    event = AuditEvent.objects.get(action="password.link_sent")
    assert (event.actor, event.ip_address) == (admin, "192.0.2.77")
    # The owner opens the link and sets the password.
    owner = Client()
    form_page = owner.get(link_in(message), follow=True, REMOTE_ADDR="198.51.100.23")
    assert form_page.status_code == 200 and 'name="new_password1"' in form_page.content.decode()
    response = owner.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        REMOTE_ADDR="198.51.100.23",
    )
    assert response.status_code == 302
    new.refresh_from_db()
    assert new.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(action="password.reset")
    assert (event.actor, event.target, event.ip_address) == (new, f"accounts.User:{new.pk}", "198.51.100.23")
    # The link was for one use.
    assert "链接无效" in owner.get(link_in(message), follow=True).content.decode()


@pytest.mark.django_db
def test_every_password_change_is_its_own_audit_event(client):
    user = user_with_role(Role.LEAD_UNIT)
    client.force_login(user)
    client.post(
        reverse("accounts:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        REMOTE_ADDR="192.0.2.61",
    )
    event = AuditEvent.objects.get(action="password.change")
    assert (event.actor, event.target, event.ip_address) == (user, f"accounts.User:{user.pk}", "192.0.2.61")


# --- also: granting a business role is recorded and shown to the security administrator -------------------


@pytest.mark.django_db
def test_a_business_role_granted_is_shown_to_the_security_administrator():
    from django.contrib.auth.models import Group
    from django.test import Client

    client, admin = system_admin_client()
    target = user_with_role(Role.EXPERT)
    staff = Group.objects.get(name=Role.COMMISSION_STAFF)
    client.post(
        reverse("admin:accounts_user_change", args=[target.pk]),
        change_data(target, groups=[staff.pk]),
        REMOTE_ADDR="192.0.2.88",
    )
    security = Client()
    security.force_login(user_with_role(Role.SECURITY_ADMIN))
    page = security.get(reverse("accounts:security_admin_home")).content.decode()
    assert "角色变更" in page and f"授予 {Role.COMMISSION_STAFF.label} → {target.username}" in page
    assert admin.username in page and "192.0.2.88" in page


# --- 8: 找回密码 throttled per address and per account, the same answer whether the account exists --------

RESET = "/accounts/password/reset/"


@pytest.mark.django_db
def test_reset_e_mails_to_one_account_are_throttled_and_the_answer_never_changes(client, settings):
    from django.core import mail

    user = user_with_role(Role.LEAD_UNIT, email="owner@example.com")
    answers = set()
    for n in range(10):
        response = client.post(RESET, {"email": "owner@example.com"}, REMOTE_ADDR=f"198.51.100.{n + 1}")
        answers.add((response.status_code, response["Location"]))
        missing = client.post(RESET, {"email": f"nobody{n}@example.com"}, REMOTE_ADDR=f"198.51.100.{n + 1}")
        answers.add((missing.status_code, missing["Location"]))
    assert answers == {(302, reverse("accounts:password_reset_done"))}
    limit = int(settings.PASSWORD_RESET_RATE_ACCOUNT.split("/")[0])
    assert len([m for m in mail.outbox if m.to == [user.email]]) == limit
    assert AuditEvent.objects.filter(action="password.reset_throttled").exists()


@pytest.mark.django_db
def test_reset_requests_from_one_address_are_throttled(client, settings):
    settings.PASSWORD_RESET_RATE_ADDRESS = "5/h"
    for n in range(5):
        assert (
            client.post(RESET, {"email": f"x{n}@example.com"}, REMOTE_ADDR="203.0.113.3").status_code == 302
        )
    response = client.post(RESET, {"email": "x9@example.com"}, REMOTE_ADDR="203.0.113.3")
    assert response.status_code == 429 and "过于频繁" in response.content.decode()
    assert 'value="x9@example.com"' in response.content.decode()  # what was typed is kept
    assert client.post(RESET, {"email": "x9@example.com"}, REMOTE_ADDR="203.0.113.4").status_code == 302


@pytest.mark.django_db
def test_an_email_changed_by_an_administrator_is_told_to_the_old_address_and_shown_to_security():
    from django.core import mail
    from django.test import Client

    client, admin = system_admin_client()
    target = user_with_role(Role.COMMISSION_STAFF, email="owner@example.gov.cn")
    client.post(
        reverse("admin:accounts_user_change", args=[target.pk]), change_data(target, email="new@example.com")
    )
    (notice,) = mail.outbox
    assert notice.to == ["owner@example.gov.cn"] and "new@example.com" in notice.body
    event = AuditEvent.objects.get(action="user.email_change")
    assert event.actor == admin and "owner@example.gov.cn → new@example.com" in event.detail
    security = Client()
    security.force_login(user_with_role(Role.SECURITY_ADMIN))
    page = security.get(reverse("accounts:security_admin_home")).content.decode()
    assert "邮箱变更" in page and "new@example.com" in page


@pytest.mark.django_db
def test_the_admin_site_has_no_sign_in_of_its_own_that_would_skip_the_captcha(client):
    user = user_with_role(Role.LEAD_UNIT)
    response = client.post("/admin/login/?next=/admin/", {"username": user.username, "password": "wrong"})
    assert (response.status_code, response["Location"]) == (302, "/accounts/login/?next=/admin/")
    from axes.models import AccessAttempt

    assert not AccessAttempt.objects.exists()  # nothing was tried there
    client.force_login(user)
    assert client.get("/admin/login/?next=/admin/").status_code == 403
    assert client.get("/admin/").status_code in (302, 403)

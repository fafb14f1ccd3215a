"""Security controls (MLPS 2.0 level 3, the parts the portal owns), on real PostgreSQL:

lockout per account and per address and its unlock; password rules and expiry; the idle session timeout;
two-factor sign-in per role (TOTP, real tokens); re-authentication before sensitive pages; the audit log
(what writes it, that nobody can change or delete it, the retention cleanup, who may read it); masking of
personal data; security headers; upload abuse.
"""

import datetime
import io
import re
import runpy
from pathlib import Path

import pytest
import redis
from axes.models import AccessAttempt
from django.apps import apps
from django.conf import settings as django_settings
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Group
from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import DatabaseError, connection, models, transaction
from django.db.utils import InternalError
from django.urls import reverse
from django.utils import timezone, translation
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, User
from accounts.roles import HOME_URL_NAMES, Role
from accounts.security import (
    CharacterClassValidator,
    mask_id_number,
    mask_phone,
    needs_two_factor,
    password_expired,
)
from accounts.tasks import purge_audit_log
from applications.models import ApplicationEvent, ApplicationVersion, Policy
from applications.uploads import inspect, safe_name
from evaluation import publicity
from evaluation.models import Objection
from tests.factories import (
    PDF_BYTES,
    TEST_PASSWORD,
    ApplicationFactory,
    application_in,
    application_in_leadership_approved,
    application_in_publicity,
    awarded_centre,
    objection_evidence,
    policy_version,
    user_with_role,
    valid_id_number,
)

ARCHITECTURE = Path(__file__).resolve().parent.parent / "docs" / "ARCHITECTURE.md"
LOGIN = "/accounts/login/"
LOCKED_TEXT = "账号已暂时锁定"
TWO_FACTOR_ROLES = ["commission_staff", "expert", "system_admin", "security_admin", "audit_admin"]


def solved_captcha() -> dict:
    """The graphic CAPTCHA the sign-in form asks for after the first failures, answered as a person reading
    the picture would (the answer is read from django-simple-captcha's store)."""
    from captcha.models import CaptchaStore

    key = CaptchaStore.generate_key()
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}


def sign_in(client, username, password, ip="192.0.2.1", **extra):
    data = {"username": username, "password": password, **solved_captcha()}
    return client.post(LOGIN, data, REMOTE_ADDR=ip, **extra)


def is_locked_out(response) -> bool:
    return response.status_code in (403, 429) and LOCKED_TEXT in response.content.decode()


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == reverse("accounts:home")


# --- lockout (django-axes) ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_account_is_locked_for_the_address_its_failures_came_from(client):
    victim = user_with_role(Role.LEAD_UNIT)
    limit = django_settings.AXES_FAILURE_LIMIT
    for n in range(1, limit):
        response = sign_in(client, victim.username, "wrong-password", ip="198.51.100.1")
        assert response.status_code == 200 and not is_locked_out(response), n  # the form with its error
    assert is_locked_out(sign_in(client, victim.username, "wrong-password", ip="198.51.100.1"))
    # Locked for that address: the right password from there is refused too ...
    assert is_locked_out(sign_in(client, victim.username, TEST_PASSWORD, ip="198.51.100.1"))
    # ... but the owner elsewhere signs in (nobody locks a colleague out by typing wrong passwords).
    assert signed_in(sign_in(client, victim.username, TEST_PASSWORD, ip="198.51.100.200"))
    # And the address is not locked for someone else.
    other = user_with_role(Role.LEAD_UNIT)
    assert signed_in(sign_in(client, other.username, TEST_PASSWORD, ip="198.51.100.1"))


@pytest.mark.django_db
def test_an_account_is_locked_from_everywhere_after_the_much_higher_account_limit(client, settings):
    settings.AXES_ACCOUNT_FAILURE_LIMIT = 12
    assert settings.AXES_ACCOUNT_FAILURE_LIMIT > 2 * settings.AXES_FAILURE_LIMIT
    victim = user_with_role(Role.LEAD_UNIT)
    for n in range(settings.AXES_ACCOUNT_FAILURE_LIMIT - 1):
        response = sign_in(client, victim.username, "wrong-password", ip=f"198.51.100.{n + 1}")
        assert not is_locked_out(response), n
    assert is_locked_out(sign_in(client, victim.username, "wrong-password", ip="198.51.100.99"))
    assert is_locked_out(sign_in(client, victim.username, TEST_PASSWORD, ip="198.51.100.200"))


@pytest.mark.django_db
def test_an_address_is_locked_after_failures_with_different_usernames(client, settings):
    settings.AXES_ADDRESS_FAILURE_LIMIT = 9
    for n in range(settings.AXES_ADDRESS_FAILURE_LIMIT):
        response = sign_in(client, f"guess{n}", "wrong-password", ip="203.0.113.9")
    assert is_locked_out(response)
    user = user_with_role(Role.DISTRICT_STAFF)
    assert is_locked_out(sign_in(client, user.username, TEST_PASSWORD, ip="203.0.113.9"))
    assert signed_in(sign_in(client, user.username, TEST_PASSWORD, ip="203.0.113.10"))


def lock_out(client, user, ip="198.51.100.7"):
    for _n in range(django_settings.AXES_FAILURE_LIMIT):
        response = sign_in(client, user.username, "wrong-password", ip=ip)
    assert is_locked_out(response)


@pytest.mark.django_db
def test_the_lock_lasts_the_whole_cool_off_period(client):
    user = user_with_role(Role.LEAD_UNIT)
    lock_out(client, user)
    cool_off = datetime.timedelta(hours=django_settings.AXES_COOLOFF_TIME)
    assert cool_off >= datetime.timedelta(minutes=30)
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off + datetime.timedelta(minutes=1))
    assert is_locked_out(sign_in(client, user.username, TEST_PASSWORD, ip="198.51.100.7"))
    AccessAttempt.objects.update(attempt_time=timezone.now() - cool_off - datetime.timedelta(minutes=1))
    assert signed_in(sign_in(client, user.username, TEST_PASSWORD, ip="198.51.100.7"))


@pytest.mark.django_db
def test_the_security_administrator_unlocks_an_account_and_the_audit_log_records_it(client):
    user = user_with_role(Role.LEAD_UNIT)
    lock_out(client, user)
    admin_client = type(client)()
    security_admin = user_with_role(Role.SECURITY_ADMIN)
    admin_client.force_login(security_admin)
    page = admin_client.get(reverse("accounts:security_admin_home"))
    assert f"<td>{user.username}</td>" in page.content.decode()  # listed among the locked accounts
    response = admin_client.post(
        reverse("accounts:security_admin_home"),
        {"unlock": "", "username": user.username},
        REMOTE_ADDR="192.0.2.50",
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="lockout.reset")
    assert (event.actor, event.target, event.ip_address) == (security_admin, user.username, "192.0.2.50")
    assert signed_in(sign_in(client, user.username, TEST_PASSWORD, ip="198.51.100.7"))


@pytest.mark.django_db
def test_nobody_but_the_security_administrator_unlocks(client):
    user = user_with_role(Role.LEAD_UNIT)
    lock_out(client, user)
    for role in (Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN, Role.COMMISSION_STAFF):
        other = type(client)()
        other.force_login(user_with_role(role))
        response = other.post(
            reverse("accounts:security_admin_home"), {"unlock": "", "username": user.username}
        )
        assert response.status_code == 403, role
    # From the address it was locked from.
    assert is_locked_out(sign_in(client, user.username, TEST_PASSWORD, ip="198.51.100.7"))
    assert not AuditEvent.objects.filter(action="lockout.reset").exists()


@pytest.mark.django_db
def test_an_account_locked_from_several_addresses_is_listed_for_unlocking(client, settings):
    settings.AXES_ACCOUNT_FAILURE_LIMIT = 8
    victim = user_with_role(Role.LEAD_UNIT)
    for n in range(settings.AXES_ACCOUNT_FAILURE_LIMIT):
        response = sign_in(client, victim.username, "wrong-password", ip=f"198.51.100.{n + 1}")
    assert is_locked_out(response)
    admin_client = type(client)()
    admin_client.force_login(user_with_role(Role.SECURITY_ADMIN))
    page = admin_client.get(reverse("accounts:security_admin_home")).content.decode()
    assert f"<td>{victim.username}</td>" in page


@pytest.mark.django_db
def test_behind_a_proxy_one_attackers_failures_do_not_lock_out_everybody(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.AXES_IPWARE_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for n in range(django_settings.AXES_FAILURE_LIMIT):
        sign_in(client, f"guess{n}", "wrong-password", ip=proxy, HTTP_X_FORWARDED_FOR="203.0.113.66")
    innocent = user_with_role(Role.LEAD_UNIT)
    response = sign_in(
        client, innocent.username, TEST_PASSWORD, ip=proxy, HTTP_X_FORWARDED_FOR="198.51.100.5"
    )
    assert signed_in(response)


# --- passwords ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("abcdefghijkl", False),  # lower only
        ("abcdefgh1234", False),  # lower, digits
        ("ABCDEFGH!!!!", False),  # upper, symbols
        ("Abcdefgh1234", True),
        ("abcdefgh-123", True),
        ("ABCD-1234-xyz", True),
        # Chinese characters are letters (str.isalnum), neither cases nor symbols: two classes here.
        ("密码密码密码密码密码1a", False),
        ("密码密码密码密码密码1a!", True),
    ],
)
def test_passwords_need_three_character_classes(password, ok):
    validator = CharacterClassValidator(classes=3)
    if ok:
        validator.validate(password)
    else:
        with pytest.raises(ValidationError) as caught:
            validator.validate(password)
        assert caught.value.code == "password_character_classes"


def test_the_character_class_validator_is_configured():
    names = [v["NAME"] for v in django_settings.AUTH_PASSWORD_VALIDATORS]
    assert "accounts.security.CharacterClassValidator" in names
    assert "django.contrib.auth.password_validation.CommonPasswordValidator" in names


def change_password(client, new, old=TEST_PASSWORD):
    return client.post(
        reverse("accounts:password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("abcdefgh1234", "至少3类"),  # two classes
        ("Password123", "这个密码太常见了"),  # three classes, long enough, but on the common list
        ("Qwerty123456", "这个密码太常见了"),
        ("Ab1!", "太短|too short"),  # Django's zh-hans catalogue lacks this message (shown in English)
    ],
)
def test_the_change_form_refuses_weak_passwords(client, password, message):
    user = user_with_role(Role.LEAD_UNIT)
    client.force_login(user)
    response = change_password(client, password)
    assert response.status_code == 200
    assert re.search(message, response.content.decode())
    user.refresh_from_db()
    assert user.check_password(TEST_PASSWORD)


@pytest.mark.django_db
def test_the_change_form_accepts_a_strong_password(client):
    user = user_with_role(Role.LEAD_UNIT)
    client.force_login(user)
    response = change_password(client, "Kx7#mQ2!vR9p-渝")
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Kx7#mQ2!vR9p-渝")


def test_password_expiry_boundary():
    user = User(date_joined=timezone.now())
    now = timezone.now()
    max_age = datetime.timedelta(days=django_settings.PASSWORD_MAX_AGE_DAYS)
    user.password_changed_at = now - max_age + datetime.timedelta(minutes=1)
    assert not password_expired(user, now)
    user.password_changed_at = now - max_age - datetime.timedelta(minutes=1)
    assert password_expired(user, now)
    user.password_changed_at = None  # never changed: counted from the account's creation
    user.date_joined = now - max_age - datetime.timedelta(days=1)
    assert password_expired(user, now)


def expired_user():
    user = user_with_role(Role.LEAD_UNIT)
    old = timezone.now() - datetime.timedelta(days=django_settings.PASSWORD_MAX_AGE_DAYS + 1)
    User.objects.filter(pk=user.pk).update(password_changed_at=old)
    return User.objects.get(pk=user.pk)


@pytest.mark.django_db
def test_an_expired_password_sends_every_page_to_the_change_form(client):
    client.force_login(expired_user())
    change_url = reverse("accounts:password_change")
    for url in (
        reverse("applications:lead_home"),
        reverse("accounts:notifications"),
        reverse("accounts:home"),
        reverse("reports:my_centres"),
        "/",
    ):
        response = client.get(url)
        assert (response.status_code, response.get("Location")) == (302, change_url), url


@pytest.mark.django_db
def test_after_changing_an_expired_password_the_portal_can_be_used(client):
    user = expired_user()
    assert password_expired(user)
    client.force_login(user)
    assert client.get(reverse("accounts:password_change")).status_code == 200  # exempt from the check
    response = change_password(client, "Kx7#mQ2!vR9p")
    assert (response.status_code, response["Location"]) == (302, reverse("accounts:password_change_done"))
    assert client.get(reverse("applications:lead_home")).status_code == 200
    user.refresh_from_db()
    assert not password_expired(user)


@pytest.mark.django_db
def test_a_password_within_its_age_is_not_asked_for(client):
    user = user_with_role(Role.LEAD_UNIT)
    recent = timezone.now() - datetime.timedelta(days=django_settings.PASSWORD_MAX_AGE_DAYS - 1)
    User.objects.filter(pk=user.pk).update(password_changed_at=recent)
    client.force_login(user)
    assert client.get(reverse("applications:lead_home")).status_code == 200


# --- idle session timeout ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_idle_session_ends_and_each_request_extends_it(client):
    assert django_settings.SESSION_COOKIE_AGE <= 30 * 60
    user = user_with_role(Role.LEAD_UNIT)
    client.force_login(user)
    key = client.session.session_key
    soon = timezone.now() + datetime.timedelta(seconds=60)
    Session.objects.filter(session_key=key).update(expire_date=soon)
    assert client.get(reverse("applications:lead_home")).status_code == 200
    extended = Session.objects.get(session_key=key).expire_date
    assert extended > soon + datetime.timedelta(minutes=20)  # saved on every request: an idle timeout
    # The session is read through Redis, where its copy lives exactly as long as the row: an idle period
    # ends both (here the row is moved back in time and the copy expires as its own timeout would).
    cached = cache.make_key(cached_db.KEY_PREFIX + key)
    ttl = redis.Redis.from_url(django_settings.REDIS_URL).ttl(cached)
    assert django_settings.SESSION_COOKIE_AGE - 60 < ttl <= django_settings.SESSION_COOKIE_AGE
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    cache.delete(cached_db.KEY_PREFIX + key)
    response = client.get(reverse("applications:lead_home"))
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)


# --- two-factor sign-in ------------------------------------------------------------------------------------


@pytest.fixture
def two_factor_on(settings):
    settings.TWO_FACTOR_ROLES = TWO_FACTOR_ROLES


def current_token(device) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role(code) for code in TWO_FACTOR_ROLES])
def test_staff_experts_and_administrators_must_use_the_second_factor(client, two_factor_on, role):
    user = user_with_role(role)
    assert needs_two_factor(user)
    client.force_login(user)
    home = reverse(HOME_URL_NAMES[role])
    response = client.get(home)
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/2fa/?next={home}"
    assert client.get(reverse("accounts:notifications")).status_code == 302


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.LEAD_UNIT, Role.DISTRICT_STAFF])
def test_lead_units_and_district_staff_do_not_need_the_second_factor(client, two_factor_on, role):
    user = user_with_role(role)
    assert not needs_two_factor(user)
    client.force_login(user)
    assert client.get(reverse(HOME_URL_NAMES[role])).status_code == 200


@pytest.mark.django_db
def test_setting_up_totp_with_a_real_token(client, two_factor_on):
    staff = user_with_role(Role.COMMISSION_STAFF)
    client.force_login(staff)
    home = reverse("evaluation:staff_home")
    page = client.get(f"/accounts/2fa/?next={home}")
    assert page.status_code == 200
    assert "data:image/svg+xml;base64," in page.content.decode()  # the QR code to scan
    device = TOTPDevice.objects.get(user=staff)
    assert not device.confirmed
    response = client.post(f"/accounts/2fa/?next={home}", {"token": current_token(device)})
    assert (response.status_code, response["Location"]) == (302, home)
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(home).status_code == 200
    assert AuditEvent.objects.filter(action="two_factor.setup", actor=staff, success=True).exists()
    assert AuditEvent.objects.filter(action="two_factor.verify", actor=staff, success=True).exists()

    # The next sign-in asks for a code again (no new QR code: the device is set up).
    other = type(client)()
    other.force_login(staff)
    assert other.get(home).status_code == 302
    page = other.get("/accounts/2fa/").content.decode()
    assert "data:image/svg+xml" not in page
    assert TOTPDevice.objects.filter(user=staff).count() == 1


@pytest.mark.django_db
def test_a_wrong_token_is_refused(client, two_factor_on):
    expert = user_with_role(Role.EXPERT)
    client.force_login(expert)
    client.get("/accounts/2fa/")
    device = TOTPDevice.objects.get(user=expert)
    right = current_token(device)
    wrong = f"{(int(right) + 1) % 10**device.digits:0{device.digits}d}"
    response = client.post("/accounts/2fa/", {"token": wrong})
    assert response.status_code == 200
    assert "验证码不正确或已过期" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get(reverse("evaluation:expert_home")).status_code == 302
    assert AuditEvent.objects.filter(action="two_factor.verify", actor=expert, success=False).exists()
    for bad in ("abcdef", "12345", "1234567"):
        assert client.post("/accounts/2fa/", {"token": bad}).status_code == 200


@pytest.mark.django_db
def test_the_security_administrator_resets_a_second_factor(client, two_factor_on):
    staff = user_with_role(Role.COMMISSION_STAFF)
    TOTPDevice.objects.create(user=staff, name="authenticator", confirmed=True)
    security_admin = user_with_role(Role.SECURITY_ADMIN)
    client.force_login(security_admin)
    device = TOTPDevice.objects.create(user=security_admin, name="authenticator", confirmed=True)
    client.post("/accounts/2fa/", {"token": current_token(device)})
    response = client.post(
        reverse("accounts:security_admin_home"), {"reset_2fa": "", "username": staff.username}
    )
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=staff).exists()
    event = AuditEvent.objects.get(action="two_factor.reset")
    assert (event.actor, event.target) == (security_admin, f"accounts.User:{staff.pk}")


# --- re-authentication -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_objections_page_asks_for_the_password_again(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    _application, announcement = application_in_publicity(staff=staff)
    url = reverse("evaluation:objections", args=[announcement.pk])
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 302
    reauth = response["Location"]
    assert reauth.startswith("/accounts/reauth/?next=")
    response = client.post(reauth, {"password": "not-my-password"})
    assert response.status_code == 200 and "密码不正确" in response.content.decode()
    assert client.get(url).status_code == 302
    response = client.post(reauth, {"password": TEST_PASSWORD})
    assert (response.status_code, response["Location"]) == (302, url)
    assert client.get(url).status_code == 200
    assert AuditEvent.objects.filter(action="reauth", actor=staff, success=False).count() == 1
    assert AuditEvent.objects.filter(action="reauth", actor=staff, success=True).count() == 1


@pytest.mark.django_db
def test_reauthentication_expires(client, settings):
    staff = user_with_role(Role.COMMISSION_STAFF)
    _application, announcement = application_in_publicity(staff=staff)
    url = reverse("evaluation:objections", args=[announcement.pk])
    client.force_login(staff)
    client.post(f"/accounts/reauth/?next={url}", {"password": TEST_PASSWORD})
    assert client.get(url).status_code == 200
    session = client.session
    session["reauth_at"] = session["reauth_at"] - settings.REAUTH_MINUTES * 60 - 1
    session.save()
    assert client.get(url).status_code == 302


def admin_user_change_data(target, **changes) -> dict:
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
    return data


@pytest.mark.django_db
def test_changing_a_user_in_the_admin_needs_the_password_again(client):
    system_admin = user_with_role(Role.SYSTEM_ADMIN, is_staff=True)
    target = user_with_role(Role.EXPERT)
    url = reverse("admin:accounts_user_change", args=[target.pk])
    client.force_login(system_admin)
    assert client.get(url).status_code == 200
    response = client.post(url, admin_user_change_data(target, full_name="改过的名字"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/reauth/?next=")
    target.refresh_from_db()
    assert target.full_name != "改过的名字"
    client.post(response["Location"], {"password": TEST_PASSWORD})
    response = client.post(url, admin_user_change_data(target, full_name="改过的名字"))
    assert response.status_code == 302 and response["Location"] == reverse("admin:accounts_user_changelist")
    target.refresh_from_db()
    assert target.full_name == "改过的名字"
    assert AuditEvent.objects.filter(action="user.change", target=f"accounts.User:{target.pk}").exists()


@pytest.mark.django_db
def test_a_role_change_in_the_admin_is_audited_with_who_and_from_where(client):
    system_admin = user_with_role(Role.SYSTEM_ADMIN, is_staff=True)
    target = user_with_role(Role.EXPERT)
    url = reverse("admin:accounts_user_change", args=[target.pk])
    client.force_login(system_admin)
    client.post("/accounts/reauth/", {"password": TEST_PASSWORD})
    staff_group = target.groups.model.objects.get(name=Role.COMMISSION_STAFF)
    response = client.post(
        url, admin_user_change_data(target, groups=[staff_group.pk]), REMOTE_ADDR="192.0.2.9"
    )
    assert response.status_code == 302
    assert Role.COMMISSION_STAFF in User.objects.get(pk=target.pk).role_codes
    for action in ("user.change", "roles.change"):
        event = AuditEvent.objects.filter(action=action, target=f"accounts.User:{target.pk}").latest("pk")
        assert (event.actor, event.ip_address) == (system_admin, "192.0.2.9"), action


@pytest.mark.django_db
def test_the_system_administrator_cannot_make_themselves_audit_administrator(client):
    system_admin = user_with_role(Role.SYSTEM_ADMIN, is_staff=True)
    client.force_login(system_admin)
    client.post("/accounts/reauth/", {"password": TEST_PASSWORD})
    groups = system_admin.groups.model.objects.filter(name__in=[Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN])
    client.post(
        reverse("admin:accounts_user_change", args=[system_admin.pk]),
        admin_user_change_data(system_admin, groups=[g.pk for g in groups]),
    )
    assert Role.AUDIT_ADMIN not in User.objects.get(pk=system_admin.pk).role_codes
    assert client.get(reverse("accounts:audit_admin_home")).status_code == 403


# --- what writes the audit log -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_sign_in_success_and_failure_are_audited_with_the_address(client):
    user = user_with_role(Role.LEAD_UNIT)
    sign_in(client, user.username, "wrong-password", ip="198.51.100.31")
    assert signed_in(sign_in(client, user.username, TEST_PASSWORD, ip="198.51.100.32"))
    failure = AuditEvent.objects.get(action="sign_in", success=False)
    assert (failure.username, failure.ip_address, failure.actor) == (user.username, "198.51.100.31", None)
    success = AuditEvent.objects.get(action="sign_in", success=True)
    assert (success.actor, success.username, success.ip_address) == (user, user.username, "198.51.100.32")
    sign_in(type(client)(), "no-such-user", "whatever", ip="198.51.100.33")
    assert AuditEvent.objects.filter(action="sign_in", success=False, username="no-such-user").exists()


@pytest.mark.django_db
def test_a_move_writes_the_history_and_the_audit_log_with_actor_and_address(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    application = application_in("submitted", staff=staff)
    client.force_login(staff)
    response = client.post(
        reverse("evaluation:move", args=[application.pk, "start_preliminary"]),
        {"start_preliminary-comment": "开始材料初审", "start_preliminary-confirm": "on"},
        REMOTE_ADDR="192.0.2.44",
    )
    assert response.status_code == 302
    event = ApplicationEvent.objects.filter(application=application).latest("pk")
    assert (event.actor, event.ip_address, event.to_status) == (staff, "192.0.2.44", "preliminary")
    audit = AuditEvent.objects.filter(target=f"applications.Application:{application.pk}").latest("pk")
    assert audit.action == f"application.{event.action}"
    assert (audit.actor, audit.ip_address, audit.success) == (staff, "192.0.2.44", True)
    assert "submitted→preliminary" in audit.detail


@pytest.mark.django_db
def test_an_export_is_audited_with_actor_and_address(client):
    district = user_with_role(Role.DISTRICT_STAFF)
    client.force_login(district)
    response = client.post(
        reverse("reports:export_new", args=["applications"]), {"query": ""}, REMOTE_ADDR="192.0.2.45"
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="export")
    assert (event.actor, event.ip_address) == (district, "192.0.2.45")
    assert event.target.startswith("reports.ExportJob:") and "applications" in event.detail


# --- nobody changes or deletes the audit log ---------------------------------------------------------------


@pytest.fixture
def audit_event(db):
    return AuditEvent.objects.create(action="test.event", username="someone", ip_address="192.0.2.1")


def insert_audit_event(action: str, age: datetime.timedelta) -> int:
    """A record written ``age`` ago (raw SQL: the model stamps created_at itself)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_auditevent (created_at, username, action, target, detail, success) "
            "VALUES (%s, '', %s, '', '', true) RETURNING id",
            [timezone.now() - age, action],
        )
        return cursor.fetchone()[0]


def test_audit_records_cannot_be_changed_or_deleted_through_the_orm(audit_event):
    audit_event.detail = "rewritten"
    with pytest.raises(PermissionError):
        audit_event.save()
    with pytest.raises(PermissionError):
        audit_event.delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=audit_event.pk).update(detail="rewritten")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=audit_event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()
    with pytest.raises(PermissionError), transaction.atomic():
        AuditEvent.objects.bulk_update([audit_event], ["detail"])
    stored = AuditEvent.objects.get(pk=audit_event.pk)
    assert stored.detail == ""


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE accounts_auditevent SET detail = 'rewritten' WHERE id = %s",
        "UPDATE accounts_auditevent SET success = false WHERE id = %s",
        "DELETE FROM accounts_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_sql_changes_to_the_audit_log(audit_event, sql):
    with (
        pytest.raises(DatabaseError, match="audit records"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [audit_event.pk])
    assert AuditEvent.objects.get(pk=audit_event.pk).detail == ""


@pytest.mark.django_db
def test_the_database_refuses_changes_even_below_the_model_guards():
    """The ORM's own delete/update (bypassing AuditQuerySet's overrides) reach the trigger and fail."""
    pk = insert_audit_event("test.old", datetime.timedelta(days=10))
    with pytest.raises(DatabaseError, match="younger than 180 days"), transaction.atomic():
        models.QuerySet.delete(AuditEvent.objects.filter(pk=pk))
    with pytest.raises(DatabaseError, match="cannot be changed"), transaction.atomic():
        models.QuerySet.update(AuditEvent.objects.filter(pk=pk), detail="x")
    assert AuditEvent.objects.filter(pk=pk).exists()


@pytest.mark.django_db
def test_an_old_audit_record_can_be_deleted_but_never_changed_in_sql():
    pk = insert_audit_event("test.ancient", datetime.timedelta(days=400))
    with (
        pytest.raises(DatabaseError, match="cannot be changed"),
        transaction.atomic(),
        connection.cursor() as c,
    ):
        c.execute("UPDATE accounts_auditevent SET detail = 'x' WHERE id = %s", [pk])
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM accounts_auditevent WHERE id = %s", [pk])
        assert cursor.rowcount == 1


def _history_rows() -> dict:
    """One row of each append-only table, written through the real steps: {model: pk}."""
    from centres import services as centre_services
    from centres.models import CentreEvent
    from evaluation.models import LeadershipDecision, LeadershipMeeting

    application = application_in_leadership_approved()
    centre = awarded_centre()
    return {
        ApplicationEvent: ApplicationEvent.objects.filter(application=application).latest("pk").pk,
        ApplicationVersion: ApplicationVersion.objects.get(application=application).pk,
        CentreEvent: centre_services.add_event(centre, "excluded", None, "考核不合格（至2029-12-04）").pk,
        LeadershipMeeting: LeadershipMeeting.objects.get().pk,
        LeadershipDecision: LeadershipDecision.objects.get(application=application).pk,
    }


def _row(model, pk) -> dict:
    return model.objects.filter(pk=pk).values().get()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET id = -id WHERE id = %s", "DELETE FROM {table} WHERE id = %s"]
)
def test_the_database_refuses_raw_sql_changes_to_every_history_table(statement):
    for model, pk in _history_rows().items():
        before = _row(model, pk)
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement.format(table=model._meta.db_table), [pk])
        assert _row(model, pk) == before, model


@pytest.mark.django_db
def test_queryset_update_and_delete_of_the_centre_history_are_refused_by_the_database():
    from centres.models import CentreEvent

    pk = _history_rows()[CentreEvent]
    before = _row(CentreEvent, pk)
    with pytest.raises(DatabaseError, match="the centre history is append-only"), transaction.atomic():
        CentreEvent.objects.filter(pk=pk).update(comment="改写：未被排除")
    with pytest.raises(DatabaseError, match="the centre history is append-only"), transaction.atomic():
        CentreEvent.objects.filter(pk=pk).delete()
    assert _row(CentreEvent, pk) == before


@pytest.mark.django_db
def test_the_protected_tables_are_the_ones_the_architecture_notes_list():
    documented = set(re.findall(r"^\| ((?:`\w+`(?:, )?)+)", ARCHITECTURE.read_text(), flags=re.M))
    documented = {name for cell in documented for name in re.findall(r"`(\w+)`", cell)}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tgrelid::regclass::text FROM pg_trigger "
            "WHERE NOT tgisinternal AND tgname LIKE 'pgtrigger_%%'"
        )
        protected = {row[0] for row in cursor.fetchall()}
    assert protected == documented
    assert {"accounts_auditevent", "applications_applicationevent", "centres_centreevent"} <= protected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE applications_applicationevent SET comment = 'rewritten' WHERE id = %s",
        "UPDATE applications_applicationevent SET created_at = created_at - interval '1 day' WHERE id = %s",
        "DELETE FROM applications_applicationevent WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_sql_changes_to_the_application_history(sql):
    application = application_in("submitted")
    event = ApplicationEvent.objects.filter(application=application).latest("pk")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [event.pk])
    assert ApplicationEvent.objects.get(pk=event.pk).comment == event.comment
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


@pytest.mark.django_db
def test_the_admin_offers_no_change_or_delete_of_audit_records_even_to_a_superuser(client, audit_event):
    superuser = User.objects.create_superuser("root", "root@example.com", TEST_PASSWORD)
    client.force_login(superuser)
    change = reverse("admin:accounts_auditevent_change", args=[audit_event.pk])
    page = client.get(change)
    assert page.status_code == 200  # view only
    body = page.content.decode()
    assert 'name="_save"' not in body and 'name="_continue"' not in body
    assert reverse("admin:accounts_auditevent_delete", args=[audit_event.pk]) not in body
    response = client.post(change, {"action": "x", "detail": "rewritten", "success": "", "_save": "1"})
    assert response.status_code == 403
    assert client.get(reverse("admin:accounts_auditevent_delete", args=[audit_event.pk])).status_code == 403
    assert (
        client.post(
            reverse("admin:accounts_auditevent_delete", args=[audit_event.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert client.get(reverse("admin:accounts_auditevent_add")).status_code == 403
    changelist = reverse("admin:accounts_auditevent_changelist")
    assert "delete_selected" not in client.get(changelist).content.decode()
    client.post(
        changelist, {"action": "delete_selected", "_selected_action": [audit_event.pk], "post": "yes"}
    )
    stored = AuditEvent.objects.get(pk=audit_event.pk)
    assert (stored.action, stored.detail) == ("test.event", "")


# --- retention ---------------------------------------------------------------------------------------------

# The retention period of the audit log (settings.AUDIT_RETENTION_DAYS, never below 180 days) and its cleanup:
# the purge_audit_log command and the daily beat task, both through AuditEvent.objects.purge_before().


def audit_event_exists(pk: int) -> bool:
    return AuditEvent.objects.filter(pk=pk).exists()


@pytest.mark.django_db
def test_the_purge_command_deletes_records_past_the_retention_period_and_keeps_younger_ones(settings):
    settings.AUDIT_RETENTION_DAYS = 365
    ancient = [insert_audit_event("test.ancient", datetime.timedelta(days=400)) for _ in range(2)]
    past_the_minimum = insert_audit_event("test.old", datetime.timedelta(days=200))  # within 365 days
    recent = insert_audit_event("test.recent", datetime.timedelta(days=10))
    out = io.StringIO()
    call_command("purge_audit_log", stdout=out)
    assert out.getvalue().startswith("deleted 2 audit record(s) older than ")
    assert not any(audit_event_exists(pk) for pk in ancient)
    assert audit_event_exists(past_the_minimum) and audit_event_exists(recent)


@pytest.mark.django_db
def test_purge_before_deletes_only_records_older_than_the_moment():
    ancient = insert_audit_event("test.ancient", datetime.timedelta(days=400))
    old = insert_audit_event("test.old", datetime.timedelta(days=200))
    deleted, per_model = AuditEvent.objects.purge_before(timezone.now() - datetime.timedelta(days=300))
    assert (deleted, per_model) == (1, {"accounts.AuditEvent": 1})
    assert not audit_event_exists(ancient)
    assert audit_event_exists(old)
    # Nothing is older than this: nothing to delete, no error.
    assert AuditEvent.objects.purge_before(timezone.now() - datetime.timedelta(days=1000))[0] == 0


@pytest.mark.django_db
def test_the_database_refuses_to_purge_a_young_record_even_through_purge_before():
    young = insert_audit_event("test.young", datetime.timedelta(days=10))
    ancient = insert_audit_event("test.ancient", datetime.timedelta(days=400))
    with pytest.raises(InternalError, match="younger than 180 days"), transaction.atomic():
        AuditEvent.objects.purge_before(timezone.now() + datetime.timedelta(minutes=1))
    # The whole statement was refused: not even the old record went.
    assert audit_event_exists(young) and audit_event_exists(ancient)


@pytest.mark.django_db
def test_the_daily_beat_task_purges_and_returns_how_many_records_it_deleted(settings):
    settings.AUDIT_RETENTION_DAYS = 365
    assert django_settings.CELERY_BEAT_SCHEDULE["purge-audit-log"]["task"] == "accounts.tasks.purge_audit_log"
    ancient = [insert_audit_event("test.ancient", datetime.timedelta(days=400)) for _ in range(3)]
    kept = insert_audit_event("test.old", datetime.timedelta(days=300))
    assert purge_audit_log.apply().get() == 3
    assert not any(audit_event_exists(pk) for pk in ancient)
    assert audit_event_exists(kept)
    assert purge_audit_log.apply().get() == 0  # the next day: nothing left to do


@pytest.mark.django_db
def test_a_retention_period_below_180_days_is_raised_to_180(settings, monkeypatch):
    monkeypatch.setenv("AUDIT_RETENTION_DAYS", "30")
    base = runpy.run_path(str(django_settings.BASE_DIR / "config" / "settings" / "base.py"))
    assert base["AUDIT_RETENTION_DAYS"] == 180
    # Even if the setting were lowered after start-up, the cleanup keeps 180 days.
    settings.AUDIT_RETENTION_DAYS = 30
    younger_than_180 = insert_audit_event("test.old", datetime.timedelta(days=100))
    older_than_180 = [insert_audit_event("test.ancient", datetime.timedelta(days=200)) for _ in range(2)]
    assert purge_audit_log.apply().get() == 2
    older_than_180.append(insert_audit_event("test.ancient", datetime.timedelta(days=181)))
    out = io.StringIO()
    call_command("purge_audit_log", stdout=out)
    assert out.getvalue().startswith("deleted 1 audit record(s) older than ")
    assert audit_event_exists(younger_than_180)
    assert not any(audit_event_exists(pk) for pk in older_than_180)


# --- separated administrators (三员) -----------------------------------------------------------------------

AUDIT_LOG = "/accounts/audit-admin/"
SECURITY_ADMIN_PAGE = "/accounts/security-admin/"


def group(role: Role) -> Group:
    return Group.objects.get(name=role)


@pytest.mark.django_db
def test_the_system_administrator_cannot_read_the_audit_log_nor_see_it_in_the_admin(client, audit_event):
    system_admin = user_with_role(Role.SYSTEM_ADMIN, is_staff=True)
    client.force_login(system_admin)
    assert client.get(AUDIT_LOG).status_code == 403
    assert client.get(f"{AUDIT_LOG}?action=test").status_code == 403
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    body = index.content.decode()
    assert reverse("admin:accounts_user_changelist") in body  # he does manage the users
    assert reverse("admin:accounts_auditevent_changelist") not in body
    assert client.get(reverse("admin:accounts_auditevent_changelist")).status_code == 403
    assert client.get(reverse("admin:accounts_auditevent_change", args=[audit_event.pk])).status_code == 403
    assert not system_admin.has_perm("accounts.view_auditevent")
    assert not system_admin.has_perm("accounts.view_audit_log")


@pytest.mark.django_db
def test_the_audit_administrator_reads_the_log_with_filters(client):
    AuditEvent.objects.create(
        action="sign_in", username="alice", ip_address="192.0.2.61", success=True, target="row-alice-in"
    )
    AuditEvent.objects.create(
        action="sign_in", username="bob", ip_address="192.0.2.62", success=False, target="row-bob-failed"
    )
    AuditEvent.objects.create(
        action="export", username="alice", ip_address="192.0.2.63", success=True, target="row-alice-export"
    )
    ancient = insert_audit_event("test.ancient", datetime.timedelta(days=400))
    with connection.cursor() as cursor:
        cursor.execute("SELECT created_at FROM accounts_auditevent WHERE id = %s", [ancient])
        ancient_day = timezone.localdate(cursor.fetchone()[0])
    client.force_login(user_with_role(Role.AUDIT_ADMIN))
    rows = ("row-alice-in", "row-bob-failed", "row-alice-export")

    def shown(query: str) -> set[str]:
        response = client.get(f"{AUDIT_LOG}?{query}")
        assert response.status_code == 200, query
        body = response.content.decode()
        return {row for row in rows if f'<td data-label="对象">{row}</td>' in body}

    assert shown("") == set(rows)
    assert shown("username=ALI") == {"row-alice-in", "row-alice-export"}
    assert shown("action=sign_in") == {"row-alice-in", "row-bob-failed"}
    assert shown("action=sign_in&success=false") == {"row-bob-failed"}
    assert shown("ip_address=192.0.2.63") == {"row-alice-export"}
    today = timezone.localdate()
    assert shown(f"since={today:%Y-%m-%d}&until={today:%Y-%m-%d}") == set(rows)
    assert shown(f"until={ancient_day:%Y-%m-%d}") == set()
    old_page = client.get(f"{AUDIT_LOG}?until={ancient_day:%Y-%m-%d}").content.decode()
    assert "test.ancient" in old_page  # a code without a name is shown as it is


@pytest.mark.django_db
def test_the_audit_log_names_actions_and_objects_in_words(client):
    from accounts import audit_names

    staff = user_with_role(Role.COMMISSION_STAFF, full_name="张伟")
    application = application_in("submitted", staff=staff, centre_name="重庆市审计甲创新中心")
    AuditEvent.objects.create(action="sign_in", username="bob", success=False)
    auditor = user_with_role(Role.AUDIT_ADMIN)
    client.force_login(auditor)
    body = client.get(AUDIT_LOG).content.decode()
    # the action in words, the object by its name, the time on one line, the result as a word badge
    assert '<span data-action="application.submit">提交</span>' in body
    assert "applications.Application:" not in body
    # The auditor may not open the plan: it is named by its kind and number, without a link (its name is the
    # lead unit's business, which the access matrix keeps from every outsider).
    assert f'<td data-label="对象">建设方案（编号{application.pk}）</td>' in body
    assert "重庆市审计甲创新中心" not in body
    assert re.search(
        r'<td data-label="时间" class="text-nowrap"><span class="text-nowrap">\d{4}-\d\d-\d\d</span> '
        r'<span class="text-nowrap">\d\d:\d\d:\d\d</span></td>',
        body,
    )
    assert '<span class="badge text-bg-danger">失败</span>' in body
    assert '<span class="badge text-bg-success">成功</span>' in body
    # filter by the action's name: a list of names, "全部" first
    assert '<option value="" selected>全部</option>' in body
    assert '<option value="application.submit">提交</option>' in body
    only = client.get(f"{AUDIT_LOG}?action=application.submit").content.decode()
    assert 'data-action="application.submit"' in only and 'data-action="sign_in"' not in only
    # in English
    client.cookies["portal_language"] = "en"
    english = client.get(AUDIT_LOG).content.decode()
    assert '<span data-action="application.submit">Submit</span>' in english

    # Whoever may open the object gets a link to it (through the same permission as the page itself).
    events = list(AuditEvent.objects.filter(action="application.submit"))
    [row] = audit_names.describe(events, staff)
    assert row["target_url"] == reverse("applications:detail", args=[application.pk])
    assert row["target_name"] == "重庆市审计甲创新中心"
    [row] = audit_names.describe(events, auditor)
    assert row["target_url"] is None and "重庆市审计甲创新中心" not in row["target_name"]
    gone = AuditEvent.objects.create(action="application.submit", target="applications.Application:987654")
    with translation.override("zh-hans"):
        [row] = audit_names.describe([gone], staff)
    assert (row["target_name"], row["target_url"]) == ("建设方案（已删除，编号987654）", None)


@pytest.mark.django_db
def test_the_audit_administrator_changes_nothing_anywhere(client, audit_event):
    audit_admin = user_with_role(Role.AUDIT_ADMIN, is_staff=True)
    for model in apps.get_models():
        opts = model._meta
        for action in ("add", "change", "delete"):
            permission = f"{opts.app_label}.{get_permission_codename(action, opts)}"
            assert not audit_admin.has_perm(permission), permission
    assert audit_admin.has_perm("accounts.view_auditevent")
    client.force_login(audit_admin)
    # In the admin, the audit log is there to read, and nothing else is open to him.
    assert client.get(reverse("admin:accounts_auditevent_changelist")).status_code == 200
    change = reverse("admin:accounts_auditevent_change", args=[audit_event.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.post(change, {"detail": "rewritten", "_save": "1"}).status_code == 403
    assert client.get(reverse("admin:accounts_auditevent_delete", args=[audit_event.pk])).status_code == 403
    for url in (
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_user_change", args=[audit_admin.pk]),
        reverse("admin:accounts_organisation_changelist"),
        reverse("admin:applications_policy_changelist"),
    ):
        assert client.get(url).status_code == 403, url
    # Nor the portal's administration pages of the other two administrators.
    assert client.get(SECURITY_ADMIN_PAGE).status_code == 403
    assert client.get(reverse("accounts:system_admin_home")).status_code == 403
    assert AuditEvent.objects.get(pk=audit_event.pk).detail == ""


@pytest.mark.django_db
def test_the_system_administrator_cannot_hand_out_the_administrator_roles(client):
    system_admin = user_with_role(Role.SYSTEM_ADMIN, is_staff=True)
    expert = user_with_role(Role.EXPERT)
    url = reverse("admin:accounts_user_change", args=[expert.pk])
    client.force_login(system_admin)
    client.post(reverse("accounts:reauth"), {"password": TEST_PASSWORD})
    offered = set(
        client.get(url).context["adminform"].form.fields["groups"].queryset.values_list("name", flat=True)
    )
    assert Role.EXPERT in offered and Role.COMMISSION_STAFF in offered
    assert offered.isdisjoint({Role.AUDIT_ADMIN, Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN})
    for role in (Role.AUDIT_ADMIN, Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN):
        response = client.post(
            url, admin_user_change_data(expert, groups=[group(Role.EXPERT).pk, group(role).pk])
        )
        assert response.status_code == 200, role  # the form again, with the choice refused
        assert response.context["adminform"].form.errors.keys() == {"groups"}, role
        assert User.objects.get(pk=expert.pk).role_codes == {Role.EXPERT}, role
    assert not AuditEvent.objects.filter(action="roles.change", actor=system_admin).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("whose", ["own", "security_admin", "audit_admin"])
def test_the_system_administrator_cannot_change_his_own_or_an_administrators_roles(client, whose):
    system_admin = user_with_role(Role.SYSTEM_ADMIN, is_staff=True)
    target = system_admin if whose == "own" else user_with_role(Role(whose))
    roles_before = sorted(target.role_codes)
    url = reverse("admin:accounts_user_change", args=[target.pk])
    client.force_login(system_admin)
    client.post(reverse("accounts:reauth"), {"password": TEST_PASSWORD})
    page = client.get(url)
    assert page.status_code == 200
    assert "groups" not in page.context["adminform"].form.fields  # shown read-only
    response = client.post(url, admin_user_change_data(target, groups=[group(Role.COMMISSION_STAFF).pk]))
    assert response.status_code == 302
    assert sorted(User.objects.get(pk=target.pk).role_codes) == roles_before


@pytest.mark.django_db
def test_a_superuser_can_hand_out_the_administrator_roles(client):
    superuser = User.objects.create_superuser("root", "root@example.com", TEST_PASSWORD)
    target = user_with_role(Role.EXPERT)
    url = reverse("admin:accounts_user_change", args=[target.pk])
    client.force_login(superuser)
    client.post(reverse("accounts:reauth"), {"password": TEST_PASSWORD})
    offered = set(
        client.get(url).context["adminform"].form.fields["groups"].queryset.values_list("name", flat=True)
    )
    assert {Role.AUDIT_ADMIN, Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN} <= offered
    response = client.post(url, admin_user_change_data(target, groups=[group(Role.AUDIT_ADMIN).pk]))
    assert (response.status_code, response["Location"]) == (302, reverse("admin:accounts_user_changelist"))
    assert User.objects.get(pk=target.pk).role_codes == {Role.AUDIT_ADMIN}
    event = AuditEvent.objects.filter(action="roles.change", target=f"accounts.User:{target.pk}").latest("pk")
    assert event.actor == superuser and Role.AUDIT_ADMIN in event.detail


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_only_the_security_administrator_opens_the_security_page(client, role):
    client.force_login(user_with_role(role))
    expected = 200 if role == Role.SECURITY_ADMIN else 403
    assert client.get(SECURITY_ADMIN_PAGE).status_code == expected


@pytest.mark.django_db
def test_an_anonymous_visitor_is_sent_to_sign_in_from_the_administrators_pages(client):
    for url in (SECURITY_ADMIN_PAGE, AUDIT_LOG):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(LOGIN), url


# --- masking of personal data ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("500103199001011234", "5001**********1234"),
        ("11010519491231002X", "1101**********002X"),
        ("123456789", "1234*6789"),
        ("12345678", "********"),  # too short to keep both ends
        ("", ""),
    ],
)
def test_mask_id_number(value, masked):
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("023-63899999", "023-****9999"),  # separators stay, only digits are hidden
        ("12345", "*****"),  # too few digits: all hidden
        ("", ""),
    ],
)
def test_mask_phone(value, masked):
    assert mask_phone(value) == masked


@pytest.mark.django_db
def test_objectors_are_masked_until_one_is_shown_and_showing_is_audited(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    first = {"name": "王异议", "id_number": valid_id_number("50010319900101123"), "phone": "13812345678"}
    second = {"name": "李异议", "id_number": valid_id_number("11010519491231002"), "phone": "13987654321"}
    objections = [
        publicity.lodge_objection(
            entry,
            kind=Objection.Kind.PERSON,
            statement="研发人员数量与实际不符。",
            ip="198.51.100.80",
            files=objection_evidence(),
            **person,
        )
        for person in (first, second)
    ]
    url = reverse("evaluation:objections", args=[announcement.pk])
    client.force_login(staff)
    client.post(reverse("accounts:reauth"), {"password": TEST_PASSWORD})

    page = client.get(url).content.decode()
    for person in (first, second):
        assert person["name"] in page
        assert mask_id_number(person["id_number"]) in page and mask_phone(person["phone"]) in page
        assert person["id_number"] not in page and person["phone"] not in page
    assert not AuditEvent.objects.filter(action="objection.identity_viewed").exists()

    response = client.get(f"{url}?show={objections[0].pk}", REMOTE_ADDR="192.0.2.81")
    assert response.status_code == 200
    page = response.content.decode()
    assert first["id_number"] in page and first["phone"] in page  # this one in full
    assert second["id_number"] not in page and second["phone"] not in page  # the other still masked
    assert mask_id_number(second["id_number"]) in page and mask_phone(second["phone"]) in page
    event = AuditEvent.objects.get(action="objection.identity_viewed")
    assert (event.actor, event.target, event.ip_address) == (
        staff,
        f"evaluation.Objection:{objections[0].pk}",
        "192.0.2.81",
    )


# --- security headers --------------------------------------------------------------------------------------


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_secure_page(response, url):
    assert response.status_code == 200, (url, response.status_code)
    csp = csp_directives(response)
    assert "'self'" in csp["script-src"], url
    assert not {"'unsafe-inline'", "'unsafe-eval'", "*"} & set(csp["script-src"]), url
    assert csp["object-src"] == ["'none'"], url
    assert csp["frame-ancestors"] == ["'none'"], url
    assert response["X-Content-Type-Options"] == "nosniff", url
    assert response["X-Frame-Options"] == "DENY", url
    assert response["Referrer-Policy"] == "same-origin", url
    html = response.content.decode()
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script\s*>", html, flags=re.S | re.I)
    assert scripts, url  # the page does load its scripts
    for attributes, content in scripts:
        assert re.search(r"\bsrc=", attributes) and not content.strip(), (url, attributes, content[:80])
    # Inline event handlers and javascript: links would be blocked by the policy (and broken) too.
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html, flags=re.I), url
    assert "javascript:" not in html.lower(), url


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    ["/", LOGIN, "/accounts/password/reset/", "/announcements/"],
)
def test_public_pages_have_the_security_headers_and_no_inline_scripts(client, url):
    assert_secure_page(client.get(url), url)


@pytest.mark.django_db
def test_a_public_announcement_has_the_security_headers_and_no_inline_scripts(client):
    _application, announcement = application_in_publicity()
    url = reverse("announcements:detail", args=[announcement.pk])
    assert_secure_page(client.get(url), url)


@pytest.mark.django_db
def test_signed_in_pages_have_the_security_headers_and_no_inline_scripts(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    application, announcement = application_in_publicity(staff=staff)
    pages = {
        application.created_by: [
            reverse("applications:lead_home"),
            reverse("applications:detail", args=[application.pk]),
            reverse("accounts:notifications"),
            reverse("accounts:notification_settings"),
            reverse("accounts:password_change"),
        ],
        staff: [
            reverse("evaluation:staff_home"),
            reverse("evaluation:objections", args=[announcement.pk]),
            reverse("accounts:reauth"),
        ],
        user_with_role(Role.AUDIT_ADMIN): [AUDIT_LOG],
        user_with_role(Role.SECURITY_ADMIN): [SECURITY_ADMIN_PAGE],
        user_with_role(Role.SYSTEM_ADMIN, is_staff=True): [
            reverse("accounts:system_admin_home"),
            reverse("admin:index"),
            reverse("admin:accounts_user_changelist"),
            reverse("admin:accounts_user_change", args=[staff.pk]),
        ],
    }
    for user, urls in pages.items():
        signed_in = type(client)()
        signed_in.force_login(user)
        signed_in.post(reverse("accounts:reauth"), {"password": TEST_PASSWORD})
        for url in urls:
            assert_secure_page(signed_in.get(url), url)


@pytest.mark.django_db
def test_the_plan_editor_has_the_security_headers_and_no_inline_scripts(client, draft):
    for step in ("basics", "figures", "members", "attachments"):
        url = reverse("applications:edit", args=[draft.pk, step])
        assert_secure_page(client.get(url), url)


# --- upload abuse ------------------------------------------------------------------------------------------

# A Windows executable (DOS "MZ" header), a Linux one (ELF header, 64-bit little endian), the start of a zip
# archive (also any .docx or .xlsx), an HTML page and the start of a PNG image.
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 240
LINUX_ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 100
ZIP_HEAD = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 100
HTML_PAGE = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
PNG_HEAD = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + b"\x00" * 64
)


@pytest.fixture
def draft(db, client):
    """A draft plan of a fresh lead unit, whose user is signed in on ``client``."""
    application = ApplicationFactory()
    client.force_login(application.created_by)
    return application


def attachments_url(draft) -> str:
    return reverse("applications:edit", args=[draft.pk, "attachments"])


def post_file(client, draft, data: bytes, name: str):
    """Upload one file as the construction plan (附件: 建设方案) on the editor's attachments step."""
    upload = SimpleUploadedFile(name, data, content_type="application/pdf")  # what the browser claims
    return client.post(attachments_url(draft), {"attachments-plan": upload, "save": ""}, follow=True)


@pytest.mark.django_db
def test_an_oversized_file_is_refused_with_its_size_and_the_limit(client, draft, settings):
    policy_version(attachment_max_mb=1)  # Policy.objects.create copying the version in force
    assert Policy.current().attachment_max_mb == 1
    data = b"%PDF-1.4\n" + b"%" * (1536 * 1024 - 9)  # 1.5 MB, a PDF by its content
    response = post_file(client, draft, data, "big-plan.pdf")
    assert response.status_code == 200
    body = response.content.decode()
    assert "文件“big-plan.pdf”大小为1.5MB，超过了1MB的上限" in body
    assert not draft.attachments.filter(kind="plan").exists()
    assert not [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
    # Within the limit the same kind of file is taken.
    assert post_file(client, draft, PDF_BYTES, "plan.pdf").status_code == 200
    assert draft.attachments.filter(kind="plan").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "name"),
    [
        (WINDOWS_EXE, "plan.pdf"),
        (LINUX_ELF, "plan.pdf"),
        # Archives are never accepted (no kind allows them), so no zip bomb can reach the server.
        (ZIP_HEAD, "plan.pdf"),
        (HTML_PAGE, "plan.pdf"),
        (PNG_HEAD, "plan.pdf"),  # an image, but the plan is PDF only
    ],
    ids=["exe", "elf", "zip", "html", "png"],
)
def test_a_file_of_the_wrong_type_by_content_is_refused_whatever_its_name(client, draft, data, name):
    response = post_file(client, draft, data, name)
    assert response.status_code == 200
    body = response.content.decode()
    assert "的实际内容不是允许的类型" in body and "只接受PDF" in body
    assert not draft.attachments.filter(kind="plan").exists()


def test_an_empty_file_is_refused(client, draft):
    response = post_file(client, draft, b"", "empty.pdf")
    assert response.status_code == 200
    assert not draft.attachments.filter(kind="plan").exists()


def multipart(boundary: str, field: str, filename: str, data: bytes) -> bytes:
    return (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}\r\n".encode()
        + b'Content-Disposition: form-data; name="save"\r\n\r\n\r\n'
        + f"--{boundary}--\r\n".encode()
    )


@pytest.mark.parametrize(
    "filename", ["../../evil.pdf", "..\\..\\evil.pdf", "/etc/evil.pdf", "C:\\temp\\evil.pdf"]
)
def test_path_characters_in_a_file_name_are_dropped_and_the_file_gets_a_random_name(
    client, draft, settings, filename
):
    boundary = "----portal-test-boundary"
    response = client.post(
        attachments_url(draft),
        data=multipart(boundary, "attachments-plan", filename, PDF_BYTES),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 302
    stored = draft.attachments.get(kind="plan")
    assert stored.original_name == "evil.pdf"
    assert re.fullmatch(rf"applications/{draft.pk}/[0-9a-f]{{32}}\.pdf", stored.file.name)
    media = settings.MEDIA_ROOT
    assert (media / stored.file.name).is_file()
    assert not list(media.parent.glob("evil.pdf")) and not list(media.glob("**/evil.pdf"))
    page = client.get(attachments_url(draft)).content.decode()
    assert "evil.pdf" in page and ".." not in re.sub(r"\.\.\.|…", "", page.split("evil.pdf")[0][-40:])
    download = client.get(reverse("applications:attachment", args=[draft.pk, stored.pk]))
    assert "evil.pdf" in download["Content-Disposition"] and ".." not in download["Content-Disposition"]
    b"".join(download.streaming_content)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../evil.pdf", "evil.pdf"),
        ("..\\..\\evil.pdf", "evil.pdf"),
        ("/etc/passwd", "passwd"),
        ("a\x00b\x1b.pdf", "ab.pdf"),
        ('<script>"x".pdf', "scriptx.pdf"),
        ("..", "file"),
        ("", "file"),
        ("报告" * 150 + ".pdf", ("报告" * 150 + ".pdf")[-200:]),
    ],
)
def test_safe_name(name, expected):
    assert safe_name(name) == expected


def test_inspect_uses_the_safe_name_in_its_facts_and_messages():
    upload = SimpleUploadedFile("x.pdf", PDF_BYTES, content_type="application/pdf")
    upload._name = "../../evil.pdf"  # as if Django had not already cut the path off
    assert inspect(upload, "plan", 20)["original_name"] == "evil.pdf"
    bad = SimpleUploadedFile("x.pdf", LINUX_ELF, content_type="application/pdf")
    bad._name = "../../evil.pdf"
    with pytest.raises(ValidationError) as caught:
        inspect(bad, "plan", 20)
    assert "evil.pdf" in caught.value.messages[0] and "../" not in caught.value.messages[0]

"""Issue 16 over HTTP: the second-factor gate, the administrator takeover and the lockout abuse, against
gunicorn running ``config.settings.production`` on the test database, behind a (pretended) TLS load balancer
(``TRUSTED_PROXY_COUNT=1``: the test sends X-Forwarded-Proto and X-Forwarded-For as the balancer would).

The server is a subprocess, so the data it reads must be committed: these tests use real transactions, and
serialized rollback restores the data of migrations afterwards. Cookies are kept by hand (they are Secure,
and the connection to gunicorn is plain HTTP, as behind the balancer).
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.db import connection
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.roles import Role
from tests.factories import TEST_PASSWORD, user_with_role

BASE_DIR = Path(__file__).resolve().parent.parent
NEW_PASSWORD = "Neu-Passw0rd#2026"
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory):
    """gunicorn with production settings on the test database and the test Redis database."""
    from django.conf import settings

    tmp = tmp_path_factory.mktemp("prod-server")
    params = connection.settings_dict
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "k3y-for-the-http-security-test-" + "x9Q!" * 12,
        # the test database's rows are encrypted with the test settings' keys
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "FIELD_HASH_KEY": settings.FIELD_HASH_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"postgres://{params['USER'] or 'postgres'}@{params['HOST'] or '127.0.0.1'}:"
        f"{params['PORT'] or 5432}/{params['NAME']}",
        "CONN_MAX_AGE": "0",
        "REDIS_URL": settings.REDIS_URL,
        "CACHE_KEY_PREFIX": "cqmic-http-test",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "TRUSTED_PROXY_COUNT": "1",
        "EMAIL_URL": f"filemail://{tmp / 'mail'}",
        "STATIC_ROOT": str(tmp / "static"),
        "MEDIA_ROOT": str(tmp / "media"),
    }
    env.pop("TWO_FACTOR_ROLES", None)  # production's default: staff, experts and administrators
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        timeout=300,
    )
    log = (tmp / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "1",
            "--timeout",
            "60",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp / "gunicorn.log").read_text()
            with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield port
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        log.close()


class Browser:
    """One person's browser, seen by the portal as coming from ``ip`` through the TLS load balancer."""

    def __init__(self, port: int, ip: str):
        self.port, self.ip, self.cookies, self.page = port, ip, {}, ""

    def request(self, method: str, path: str, data: dict | None = None):
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": self.ip,
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            data = {"csrfmiddlewaretoken": self.csrf_token(), **data}
            body = urlencode(data, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://127.0.0.1:{self.port}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        conn.close()
        if response.status == 200:
            self.page = text
        return response.status, response.headers.get("Location", ""), text

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, data):
        return self.request("POST", path, data)

    def csrf_token(self) -> str:
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', self.page)
        return found.group(1) if found else ""

    def captcha(self) -> dict:
        """The CAPTCHA on the current page, read as the person would read the picture (from its store)."""
        key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', self.page)
        if not key:
            return {}
        from captcha.models import CaptchaStore

        return {
            "captcha_0": key.group(1),
            "captcha_1": CaptchaStore.objects.get(hashkey=key.group(1)).response,
        }

    def sign_in(self, username, password):
        self.get("/accounts/login/")
        data = {"username": username, "password": password}
        status, location, page = self.post("/accounts/login/", {**data, **self.captcha()})
        if status == 200 and "图形验证码：" in page:
            # The form came back asking for the picture first (the password was not tried): solve it.
            status, location, page = self.post("/accounts/login/", {**data, **self.captcha()})
        return status, location, page


def person(role, **kwargs) -> User:
    """A user whose password is hashed as production hashes it (the test settings use a fast hasher that
    production does not accept)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    user = user_with_role(role, **kwargs)
    hashed = PBKDF2PasswordHasher().encode(TEST_PASSWORD, PBKDF2PasswordHasher().salt())
    User.objects.filter(pk=user.pk).update(password=hashed)
    user.refresh_from_db()
    return user


def has_password(user, password) -> bool:
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    return PBKDF2PasswordHasher().verify(password, User.objects.get(pk=user.pk).password)


def token(device) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


def test_over_http_a_phished_password_alone_does_not_change_a_two_factor_accounts_password(server):
    staff = person(Role.COMMISSION_STAFF)
    TOTPDevice.objects.create(user=staff, name="authenticator", confirmed=True)
    phisher = Browser(server, "203.0.113.66")
    status, location, page = phisher.sign_in(staff.username, TEST_PASSWORD)
    assert (status, location) == (302, "/accounts/home/"), re.findall(r'(?s)<div class="alert.*?</div>', page)
    status, location, _ = phisher.get("/accounts/password/change/")
    assert status == 302 and location.startswith("/accounts/2fa/")
    assert phisher.get(location)[0] == 200  # the second-factor page is all there is
    status, location, _ = phisher.post(
        "/accounts/password/change/",
        {"old_password": TEST_PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert status == 302 and location.startswith("/accounts/2fa/")
    assert has_password(staff, TEST_PASSWORD)


def test_over_http_the_system_administrator_cannot_take_over_the_audit_administrator(server):
    sysadmin = person(Role.SYSTEM_ADMIN, is_staff=True)
    device = TOTPDevice.objects.create(user=sysadmin, name="authenticator", confirmed=True)
    audit_admin = person(Role.AUDIT_ADMIN, email="audit@example.gov.cn")
    browser = Browser(server, "192.0.2.10")
    assert browser.sign_in(sysadmin.username, TEST_PASSWORD)[:2] == (302, "/accounts/home/")
    browser.get("/accounts/2fa/")
    assert browser.post("/accounts/2fa/", {"token": token(device)})[0] == 302
    browser.get("/accounts/reauth/")
    assert browser.post("/accounts/reauth/", {"password": TEST_PASSWORD})[0] == 302
    password_form = f"/admin/accounts/user/{audit_admin.pk}/password/"
    assert browser.get(password_form)[0] == 403
    change = f"/admin/accounts/user/{audit_admin.pk}/change/"
    status, _, page = browser.get(change)
    assert status == 200 and "password/" not in page
    browser.post(
        change,
        {"username": audit_admin.username, "full_name": "x", "email": "attacker@example.com", "phone": ""},
    )
    browser.get("/admin/accounts/user/")
    browser.post(
        "/admin/accounts/user/", {"action": "send_password_link", "_selected_action": [audit_admin.pk]}
    )
    audit_admin.refresh_from_db()
    assert audit_admin.full_name == "x"  # the form was accepted ...
    assert audit_admin.email == "audit@example.gov.cn" and audit_admin.is_active  # ... without these
    assert has_password(audit_admin, TEST_PASSWORD)


def test_over_http_wrong_passwords_from_one_address_do_not_lock_the_owner_out(server):
    from django.conf import settings

    victim = person(Role.LEAD_UNIT)
    attacker = Browser(server, "203.0.113.99")
    for _n in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attacker.sign_in(victim.username, "wrong-password")[0] == 200
    status, _, page = attacker.sign_in(victim.username, "wrong-password")
    assert status == 429 and "账号已暂时锁定" in page
    assert attacker.sign_in(victim.username, TEST_PASSWORD)[0] == 429  # locked for the attacker's address
    owner = Browser(server, "198.51.100.20")
    # The owner, elsewhere, is asked for the CAPTCHA (the account had failures), reads it and signs in.
    status, location, _page = owner.sign_in(victim.username, TEST_PASSWORD)
    assert (status, location) == (302, "/accounts/home/")

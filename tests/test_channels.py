"""Notification channels: a delivery per channel the person chose, retried per delivery, nothing lost while a
channel is down; SMS only with consent and a mobile number, capped per day, through the real Tencent Cloud
adapter against a local HTTP server that speaks the provider's API (TC3-HMAC-SHA256 signatures checked, the
response JSON as Tencent Cloud documents it). No network, nothing of the project mocked."""

import hashlib
import hmac
import json
import socket
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts import sms
from accounts.models import Delivery, Notification
from accounts.notifications import notify
from accounts.roles import Role
from accounts.tasks import deliver, retry_unsent_notifications
from evaluation import workflow
from tests.factories import application_in, user_with_role

SECRET_ID = "AKIDtestonly0000000000000000000000"
SECRET_KEY = "test-only-secret-key-0000000000000"
APP_ID = "1400000001"
MOBILE = "13800138000"
DEAD_PORT = 9  # nothing listens on it: a connection is refused for real


def tc3_signature(secret_key: str, date: str, string_to_sign: str) -> str:
    """TC3-HMAC-SHA256 as Tencent Cloud's API documentation describes it (written here from the spec)."""

    def mac(key: bytes, text: str) -> bytes:
        return hmac.new(key, text.encode(), hashlib.sha256).digest()

    signing = mac(mac(mac(f"TC3{secret_key}".encode(), date), "sms"), "tc3_request")
    return hmac.new(signing, string_to_sign.encode(), hashlib.sha256).hexdigest()


class TencentSMSServer:
    """Speaks the SendSms action of Tencent Cloud SMS (API 2021-01-11) on 127.0.0.1, a free port."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answer = "ok"  # or "error" (the request refused) or "bad_number" (this number refused)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                self.server_answer(server.handle(dict(self.headers), body))

            def server_answer(self, answer: dict):
                data = json.dumps({"Response": answer}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def signature_ok(self, headers: dict, body: bytes) -> bool:
        auth = headers.get("Authorization", "")
        try:
            algorithm, rest = auth.split(" ", 1)
            fields = dict(part.strip().split("=", 1) for part in rest.split(","))
            secret_id, date, service, _ = fields["Credential"].split("/")
        except ValueError:
            return False
        canonical = "\n".join(
            [
                "POST",
                "/",
                "",
                f"content-type:{headers['Content-Type']}\nhost:{headers['Host']}\n",
                fields["SignedHeaders"],
                hashlib.sha256(body).hexdigest(),
            ]
        )
        to_sign = "\n".join(
            [
                algorithm,
                headers["X-TC-Timestamp"],
                f"{date}/{service}/tc3_request",
                hashlib.sha256(canonical.encode()).hexdigest(),
            ]
        )
        expected = tc3_signature(SECRET_KEY, date, to_sign)
        return (
            secret_id == SECRET_ID and service == "sms" and hmac.compare_digest(expected, fields["Signature"])
        )

    def handle(self, headers: dict, body: bytes) -> dict:
        request_id = f"req-{len(self.requests) + 1}"
        if not self.signature_ok(headers, body):
            return {
                "Error": {
                    "Code": "AuthFailure.SignatureFailure",
                    "Message": "The provided credentials could not be validated.",
                },
                "RequestId": request_id,
            }
        params = json.loads(body)
        self.requests.append({"headers": headers, "params": params})
        if self.answer == "error":
            return {
                "Error": {"Code": "InternalError.Timeout", "Message": "Request timeout."},
                "RequestId": request_id,
            }
        [number] = params["PhoneNumberSet"]
        code, message = {
            "ok": ("Ok", "send success"),
            "bad_number": ("InvalidParameterValue.IncorrectPhoneNumber", "The phone number is incorrect."),
        }[self.answer]
        status = {
            "SerialNo": f"5000:{len(self.requests):020d}" if code == "Ok" else "",
            "PhoneNumber": number,
            "Fee": 1 if code == "Ok" else 0,
            "SessionContext": "",
            "Code": code,
            "Message": message,
            "IsoCode": "CN",
        }
        return {"SendStatusSet": [status], "RequestId": request_id}

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def tencent(settings):
    server = TencentSMSServer()
    settings.SMS_BACKEND = "accounts.sms.TencentBackend"
    settings.SMS_ENDPOINT_URL = server.url
    settings.SMS_TENCENT_SECRET_ID = SECRET_ID
    settings.SMS_TENCENT_SECRET_KEY = SECRET_KEY
    settings.SMS_TENCENT_APP_ID = APP_ID
    settings.SMS_TENCENT_REGION = "ap-guangzhou"
    settings.SMS_SIGN_NAME = "重庆市经济信息委"
    settings.SMS_TIMEOUT = 5
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def empty_sms_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def sms_person(role=Role.LEAD_UNIT, **kwargs):
    kwargs.setdefault("phone", MOBILE)
    return user_with_role(
        role, notification_channels=["email", "sms"], sms_consent_at=timezone.now(), **kwargs
    )


def preliminary(**kwargs):
    """An application in 材料初审, by the real steps; the deliveries those steps wrote are dropped (their
    after-commit hooks never ran here), so each test sees only its own."""
    application = application_in("preliminary", **kwargs)
    Delivery.objects.all().delete()
    return application


def of(note, channel) -> Delivery:
    return Delivery.objects.get(notification=note, channel=channel)


def back_off_passed():
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


# --- deliveries per chosen channel -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_notification_gets_one_delivery_per_channel_its_recipient_chose(django_capture_on_commit_callbacks):
    application = preliminary()
    email_only = user_with_role(Role.LEAD_UNIT, phone=MOBILE)
    both = sms_person()
    no_consent = user_with_role(Role.LEAD_UNIT, phone=MOBILE, notification_channels=["email", "sms"])
    portal_only = user_with_role(Role.LEAD_UNIT, notification_channels=[])
    people = [email_only, both, no_consent, portal_only]
    with django_capture_on_commit_callbacks(execute=True):
        notes = notify(people, "application_returned", {"application": application}, link="/x/")
    channels = {n.recipient_id: sorted(n.deliveries.values_list("channel", flat=True)) for n in notes}
    assert channels == {
        email_only.pk: ["email"],
        both.pk: ["email", "sms"],
        no_consent.pk: ["email"],  # chose SMS but never consented
        portal_only.pk: [],  # the in-portal entry only
    }
    assert len(notes) == 4 and all(n.kind == "application_returned" for n in notes)
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 4
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in people[:3])
    [message] = sms.outbox
    assert message["to"] == MOBILE
    assert message["params"] == [application.centre_name]
    assert (
        message["text"]
        == f"您单位的建设方案“{application.centre_name}”已被退回修改，请登录平台查看修改意见。"
    )

    with django_capture_on_commit_callbacks(execute=True):  # a kind that has no SMS template: e-mail only
        [note] = notify([both], "application_submitted", {"application": application})
    assert list(note.deliveries.values_list("channel", flat=True)) == ["email"]


@pytest.mark.django_db
def test_a_return_for_amendment_texts_the_lead_unit_through_tencent_cloud(
    tencent, settings, django_capture_on_commit_callbacks
):
    staff = user_with_role(Role.COMMISSION_STAFF)
    lead = sms_person()
    application = preliminary(staff=staff, lead_user=lead)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.return_for_amendment(application, staff, "请补充财务数据。", {})
    note = Notification.objects.get(recipient=lead, kind="application_returned")
    delivery = of(note, "sms")
    assert delivery.status == Delivery.Status.SENT and delivery.attempts == 1 and delivery.last_error == ""
    assert delivery.provider_reference == "5000:00000000000000000001"
    assert of(note, "email").status == Delivery.Status.SENT

    [request] = tencent.requests  # signed, and the signature checked by the server
    assert request["headers"]["X-TC-Action"] == "SendSms"
    assert request["headers"]["X-TC-Version"] == "2021-01-11"
    assert request["headers"]["X-TC-Region"] == "ap-guangzhou"
    assert request["params"] == {
        "PhoneNumberSet": [f"+86{MOBILE}"],
        "SmsSdkAppId": APP_ID,
        "SignName": "重庆市经济信息委",
        "TemplateId": settings.SMS_TEMPLATE_CODES["application_returned"],
        "TemplateParamSet": [application.centre_name],
    }


# --- a channel that is down loses nothing; retries per delivery ---------------------------------------------


@pytest.mark.django_db
def test_an_sms_provider_error_keeps_the_text_pending_while_the_email_goes(tencent):
    application = preliminary()
    person = sms_person()
    tencent.answer = "error"
    [note] = notify([person], "application_rejected", {"application": application})
    assert retry_unsent_notifications(older_than_seconds=0) == 1  # the e-mail
    text = of(note, "sms")
    assert text.status == Delivery.Status.PENDING and text.attempts == 1
    assert text.last_error.startswith("InternalError.Timeout")
    assert text.next_attempt_at > timezone.now()
    assert of(note, "email").status == Delivery.Status.SENT
    assert retry_unsent_notifications(older_than_seconds=0) == 0  # waits for its back-off

    tencent.answer = "ok"
    back_off_passed()
    assert retry_unsent_notifications(older_than_seconds=0) == 1
    text.refresh_from_db()
    assert text.status == Delivery.Status.SENT and text.attempts == 2 and text.last_error == ""
    assert len(tencent.requests) == 2 and len(mail.outbox) == 1
    assert retry_unsent_notifications(older_than_seconds=0) == 0  # nothing twice


@pytest.mark.django_db
def test_a_mail_server_that_is_down_holds_back_the_email_only(tencent, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", DEAD_PORT, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    [note] = notify([sms_person()], "application_awarded", {"centre": {"name": "测试创新中心"}})
    assert retry_unsent_notifications(older_than_seconds=0) == 1  # the text
    email = of(note, "email")
    assert email.status == Delivery.Status.PENDING and email.attempts == 1 and email.next_attempt_at
    assert of(note, "sms").status == Delivery.Status.SENT
    assert tencent.requests[0]["params"]["TemplateParamSet"] == ["测试创新中心"]

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # back, back-off passed
    back_off_passed()
    assert retry_unsent_notifications(older_than_seconds=0) == 1  # the e-mail, and the text not again
    assert len(mail.outbox) == 1 and len(tencent.requests) == 1


@pytest.mark.django_db
def test_a_request_with_a_wrong_key_is_refused_by_the_provider_and_retried_later(tencent, settings):
    settings.SMS_TENCENT_SECRET_KEY = "not-the-key"
    [note] = notify([sms_person()], "application_rejected", {"application": preliminary()})
    assert deliver(of(note, "sms").pk) is False
    text = of(note, "sms")
    assert text.status == Delivery.Status.PENDING
    assert text.last_error.startswith("AuthFailure.SignatureFailure")
    assert tencent.requests == []  # the server accepted nothing unsigned or wrongly signed


@pytest.mark.django_db
def test_a_number_the_provider_refuses_is_recorded_and_not_retried(tencent):
    tencent.answer = "bad_number"
    [note] = notify([sms_person()], "application_rejected", {"application": preliminary()})
    assert deliver(of(note, "sms").pk) is False
    text = of(note, "sms")
    assert text.status == Delivery.Status.SKIPPED
    assert "IncorrectPhoneNumber" in text.last_error and "138****8000" in text.last_error
    assert MOBILE not in text.last_error


@pytest.mark.django_db
def test_a_step_while_the_sms_provider_is_unreachable_commits_and_the_text_follows(
    tencent, settings, django_capture_on_commit_callbacks
):
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", DEAD_PORT)) != 0, "the test needs a closed port"
    settings.SMS_ENDPOINT_URL = f"http://127.0.0.1:{DEAD_PORT}"
    staff = user_with_role(Role.COMMISSION_STAFF)
    lead = sms_person()
    application = preliminary(staff=staff, lead_user=lead)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.reject(application, staff, "不符合基本条件。")
    note = Notification.objects.get(recipient=lead, kind="application_rejected")
    text = of(note, "sms")
    assert text.status == Delivery.Status.PENDING and text.attempts == 1 and text.last_error
    assert of(note, "email").status == Delivery.Status.SENT
    for _ in range(3):  # sweeps while it stays down: attempts counted, never given up
        back_off_passed()
        retry_unsent_notifications(older_than_seconds=0)
    text.refresh_from_db()
    assert text.status == Delivery.Status.PENDING and text.attempts == 4

    settings.SMS_ENDPOINT_URL = tencent.url  # the provider is back
    back_off_passed()
    assert retry_unsent_notifications(older_than_seconds=0) == 1
    text.refresh_from_db()
    assert text.status == Delivery.Status.SENT and text.attempts == 5
    assert [r["params"]["TemplateParamSet"] for r in tencent.requests] == [[application.centre_name]]


# --- consent, mobile number, daily cap ---------------------------------------------------------------------


@pytest.mark.django_db
def test_consent_withdrawn_before_sending_stops_the_text():
    person = sms_person()
    [note] = notify([person], "application_rejected", {"application": preliminary()})
    person.sms_consent_at = None
    person.save(update_fields=["sms_consent_at"])
    assert deliver(of(note, "sms").pk) is False
    text = of(note, "sms")
    assert (text.status, text.last_error) == (Delivery.Status.SKIPPED, "no consent to SMS")
    assert sms.outbox == []


@pytest.mark.django_db
def test_no_text_without_a_mobile_number():
    person = sms_person(phone="023-63890000")  # an office line
    [note] = notify([person], "application_rejected", {"application": preliminary()})
    deliver(of(note, "sms").pk)
    assert of(note, "sms").status == Delivery.Status.SKIPPED
    assert of(note, "sms").last_error == "no mobile number"
    assert sms.outbox == []


@pytest.mark.django_db
def test_at_most_the_daily_limit_of_texts_per_person(settings):
    settings.SMS_DAILY_LIMIT = 2
    application = preliminary()
    person, other = sms_person(), sms_person(phone="13900139000")
    notes = [notify([person, other], "application_rejected", {"application": application}) for _ in range(3)]
    assert retry_unsent_notifications(older_than_seconds=0) == 3 * 2 + 2 * 2  # e-mails, then 2 texts each
    capped = Delivery.objects.filter(channel="sms", status=Delivery.Status.SKIPPED)
    assert sorted(d.notification_id for d in capped) == sorted(n.pk for n in notes[2])
    assert {d.last_error for d in capped} == {"daily SMS limit reached (2)"}
    assert len(sms.outbox) == 4 and len(mail.outbox) == 6  # the e-mails are not capped

    Delivery.objects.filter(channel="sms", status=Delivery.Status.SENT).update(
        sent_at=timezone.now() - timedelta(days=1)
    )  # yesterday's texts do not count today
    [note] = notify([person], "application_rejected", {"application": application})
    assert deliver(of(note, "sms").pk) is True


# --- development backends ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_file_backend_writes_outside_the_checkout_only(settings, tmp_path):
    settings.SMS_BACKEND = "accounts.sms.FileBackend"
    settings.SMS_FILE_PATH = str(settings.BASE_DIR / "var" / "sms")
    with pytest.raises(ImproperlyConfigured, match="outside the checkout"):
        sms.FileBackend()

    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    [note] = notify([sms_person()], "application_rejected", {"application": preliminary()})
    assert deliver(of(note, "sms").pk) is True
    [day] = (tmp_path / "sms").iterdir()
    [line] = day.read_text(encoding="utf-8").splitlines()
    written = json.loads(line)
    assert written["to"] == MOBILE and written["template"] and "不予认定" in written["text"]
    assert written["reference"] == of(note, "sms").provider_reference


def test_the_console_backend_prints_the_message(capsys):
    reference = sms.ConsoleBackend().send(MOBILE, "100001", ["测试中心"], "“测试中心”已获认定授牌")
    assert reference.startswith("console-")
    assert "测试中心" in capsys.readouterr().out


# --- the profile page --------------------------------------------------------------------------------------


SETTINGS_URL = "/accounts/settings/"


@pytest.mark.django_db
def test_people_choose_sms_on_their_profile_page_only_with_consent_and_a_mobile_number(client):
    person = user_with_role(Role.EXPERT)
    client.force_login(person)
    page = client.get(SETTINGS_URL)
    assert page.status_code == 200
    assert "手机短信" in page.text and "电子邮件" in page.text and person.email in page.text

    data = {"channels": ["email", "sms"], "phone": MOBILE, "language": "zh-hans"}
    refused = client.post(SETTINGS_URL, data)
    assert refused.status_code == 200
    assert "选择短信通知须同意接收短信。" in refused.text
    assert f'value="{MOBILE}"' in refused.text  # what was typed is kept
    data = {"channels": ["sms"], "phone": "023-63890000", "sms_consent": "on", "language": "zh-hans"}
    refused = client.post(SETTINGS_URL, data)
    assert "短信通知须填写11位手机号码。" in refused.text
    person.refresh_from_db()
    assert (person.notification_channels, person.sms_consent_at) == (["email"], None)

    data = {"channels": ["email", "sms"], "phone": MOBILE, "sms_consent": "on", "language": "en"}
    saved = client.post(SETTINGS_URL, data, follow=True)
    assert saved.redirect_chain == [(SETTINGS_URL, 302)]
    person.refresh_from_db()
    assert person.notification_channels == ["email", "sms"]
    assert person.sms_consent_at is not None and person.phone == MOBILE and person.language == "en"
    [note] = notify([person], "expert_reminder", {"application": preliminary(), "panel": None})
    assert sorted(note.deliveries.values_list("channel", flat=True)) == ["email", "sms"]

    client.post(SETTINGS_URL, {"channels": ["email"], "phone": MOBILE, "language": "zh-hans"})  # withdrawn
    person.refresh_from_db()
    assert (person.notification_channels, person.sms_consent_at) == (["email"], None)
    [note] = notify([person], "expert_reminder", {"application": preliminary(), "panel": None})
    assert list(note.deliveries.values_list("channel", flat=True)) == ["email"]


@pytest.mark.django_db
def test_the_profile_page_needs_a_signed_in_person(client):
    response = client.get(SETTINGS_URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_nonsense_on_the_profile_page_is_refused_without_a_server_error(client):
    person = user_with_role(Role.LEAD_UNIT)
    client.force_login(person)
    data = {"channels": ["fax"], "phone": "x" * 50, "sms_consent": "on", "language": "xx"}
    response = client.post(SETTINGS_URL, data)
    assert response.status_code == 200 and "error-summary" in response.text
    person.refresh_from_db()
    kept = (person.notification_channels, person.sms_consent_at, person.language)
    assert kept == (["email"], None, "zh-hans")


# --- the migration of existing rows ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_existing_notifications_become_email_deliveries():
    before = [("accounts", "0011_encrypt_personal_phones")]
    person = user_with_role(Role.LEAD_UNIT)
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("accounts", "Notification")
    now = timezone.now()
    sent = old.objects.create(
        recipient_id=person.pk, subject="已发", body="", emailed_at=now, email_attempts=1
    )
    waiting = old.objects.create(
        recipient_id=person.pk,
        subject="未发",
        body="",
        email_attempts=3,
        email_error="refused",
        next_attempt_at=now,
    )
    nobody = old.objects.create(
        recipient_id=person.pk, subject="无邮箱", body="", emailed_at=now, email_error="no e-mail address"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # 0013_notification_deliveries and whatever follows
    rows = {
        d.notification_id: (
            d.channel,
            d.status,
            d.attempts,
            d.last_error,
            d.sent_at is not None,
            d.next_attempt_at,
        )
        for d in Delivery.objects.all()
    }
    assert rows == {
        sent.pk: ("email", "sent", 1, "", True, None),
        waiting.pk: ("email", "pending", 3, "refused", False, now),
        nobody.pk: ("email", "skipped", 0, "no e-mail address", False, None),
    }
    assert retry_unsent_notifications(older_than_seconds=0) == 1  # the one still waiting goes now
    assert [m.subject for m in mail.outbox] == ["未发"]


@pytest.mark.django_db
def test_the_system_administrator_sees_what_could_not_be_sent_and_why(client, tencent):
    tencent.answer = "error"
    [note] = notify([sms_person()], "application_rejected", {"application": preliminary()})
    deliver(of(note, "sms").pk)
    client.force_login(user_with_role(Role.SYSTEM_ADMIN, is_staff=True))
    page = client.get("/admin/accounts/delivery/?status=pending")
    assert page.status_code == 200 and "InternalError.Timeout" in page.text
    assert client.get(f"/admin/accounts/delivery/{of(note, 'sms').pk}/change/").status_code == 200
    client.force_login(user_with_role(Role.COMMISSION_STAFF, is_staff=True))
    assert client.get("/admin/accounts/delivery/").status_code == 403

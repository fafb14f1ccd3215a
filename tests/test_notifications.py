"""Notifications: the outbox row is written in the step's transaction, the e-mail goes only after commit,
and what could not be sent is sent later, exactly once. Real PostgreSQL, real SMTP connection refusal."""

import socket
import threading
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Delivery, District, Notification
from accounts.notifications import notify
from accounts.roles import Role
from accounts.tasks import deliver, deliver_notification, retry_delay, retry_unsent_notifications
from applications import services
from applications.models import Application
from config.after_commit import Gathered
from tests.factories import ApplicationFactory, complete_application, user_with_role

LOCMEM = "django.core.mail.backends.locmem.EmailBackend"
SMTP = "django.core.mail.backends.smtp.EmailBackend"
DEAD_PORT = 9  # discard: nothing listens on it here, so a connection is refused for real


@pytest.fixture
def smtp_down(settings):
    """Point Django at an SMTP server that refuses the connection (no mock: a closed port)."""
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex(("127.0.0.1", DEAD_PORT)) == 0:
            pytest.fail(f"something listens on 127.0.0.1:{DEAD_PORT}; the test needs a closed port")
    settings.EMAIL_BACKEND = SMTP
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = DEAD_PORT
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return settings


def mails_to(user):
    return [m for m in mail.outbox if user.email in m.to]


def unsent_note(user, *, age_seconds=3600, **fields) -> Delivery:
    """A notification whose e-mail delivery is still pending (the broker was down, say)."""
    note = Notification.objects.create(
        recipient=user, subject="测试通知", body="正文", link="/applications/1/", **fields
    )
    delivery = Delivery.objects.create(notification=note, channel="email")
    Delivery.objects.filter(pk=delivery.pk).update(created_at=timezone.now() - timedelta(seconds=age_seconds))
    return delivery


def email_of(note) -> Delivery:
    return Delivery.objects.get(notification=note, channel="email")


def back_off_passed():
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


# --- nothing leaves a rolled-back step -------------------------------------------------------------------


class StepFailed(Exception):
    pass


@pytest.mark.django_db
def test_a_rolled_back_transaction_leaves_no_notification_and_sends_nothing(
    django_capture_on_commit_callbacks,
):
    application = ApplicationFactory(centre_name="回滚测试中心")
    user = application.created_by
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(StepFailed),
        transaction.atomic(),
    ):
        notes = notify([user], "application_submitted", {"application": application}, link="/x/")
        assert len(notes) == 1  # it was written ...
        raise StepFailed
    assert callbacks == []  # ... and its e-mail was dropped with the transaction
    assert not Notification.objects.exists()
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_with_real_transactions_only_the_committed_notification_is_emailed():
    application = ApplicationFactory(centre_name="真实事务测试中心")
    user = application.created_by

    with pytest.raises(StepFailed), transaction.atomic():
        notify([user], "application_submitted", {"application": application})
        raise StepFailed
    assert not Notification.objects.exists()
    assert mail.outbox == []

    with transaction.atomic():
        [note] = notify([user], "application_submitted", {"application": application})
        assert mail.outbox == []  # not before the commit
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert email_of(note).sent_at is not None


@pytest.mark.django_db
def test_a_failed_submission_writes_no_notification(django_capture_on_commit_callbacks):
    user_with_role(Role.COMMISSION_STAFF)
    application = ApplicationFactory()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(services.ActionRefused),
    ):
        services.submit(application, application.created_by)
    assert callbacks == []
    assert not Notification.objects.exists()
    assert mail.outbox == []


# --- a committed submit ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_committed_submit_emails_the_lead_unit_and_the_staff_after_commit(
    django_capture_on_commit_callbacks,
):
    staff = [user_with_role(Role.COMMISSION_STAFF) for _ in range(2)]
    user_with_role(Role.COMMISSION_STAFF, is_active=False)
    application = complete_application(centre_name="通知测试中心")
    lead = application.created_by
    colleague = user_with_role(Role.LEAD_UNIT, organisation=application.lead_unit)
    stranger = user_with_role(Role.LEAD_UNIT)
    district = user_with_role(Role.DISTRICT_STAFF, district=application.district)
    elsewhere = user_with_role(
        Role.DISTRICT_STAFF, district=District.objects.exclude(pk=application.district_id).first()
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.submit(application, lead)
        assert mail.outbox == []  # the outbox rows exist, nothing is sent before commit
        assert Notification.objects.count() == 5
        assert Delivery.objects.filter(channel="email", status=Delivery.Status.PENDING).count() == 5

    application = Application.objects.get(pk=application.pk)
    mail_hooks = [c for c in callbacks if not isinstance(c, Gathered)]  # not the cache invalidations
    # One hook per notify() call (lead unit, staff, the district), each queuing its e-mails.
    assert len(mail_hooks) == 3
    assert len(mail.outbox) == 5
    assert all(len(m.to) == 1 for m in mail.outbox)  # one message per person: no address leaks
    for user in (stranger, elsewhere):
        assert mails_to(user) == []
    [district_mail] = mails_to(district)
    assert "待填写推荐意见" in district_mail.subject and application.number in district_mail.subject

    lead_mails = [mails_to(u) for u in (lead, colleague)]
    staff_mails = [mails_to(u) for u in staff]
    assert all(len(m) == 1 for m in lead_mails + staff_mails)
    lead_subjects = {m[0].subject for m in lead_mails}
    staff_subjects = {m[0].subject for m in staff_mails}
    assert len(lead_subjects) == len(staff_subjects) == 1
    assert lead_subjects != staff_subjects  # the lead unit is told it submitted; staff that it waits
    [lead_subject], [staff_subject] = lead_subjects, staff_subjects
    assert "已提交" in lead_subject
    assert "初审" in staff_subject
    base = django_settings.PORTAL_BASE_URL
    for mails, link in (
        (lead_mails, services.application_link(application)),
        (staff_mails, services.staff_link(application)),
    ):
        for [message] in mails:
            assert application.number in message.subject
            assert "\n" not in message.subject
            assert application.centre_name in message.body
            assert f"{base}{link}" in message.body  # a full address to the page where they act

    for delivery in Delivery.objects.all():
        assert delivery.status == Delivery.Status.SENT and delivery.sent_at is not None
        assert delivery.attempts == 1
        assert delivery.last_error == ""


@pytest.mark.django_db
def test_a_recipient_without_an_email_address_keeps_the_portal_notice_only(
    django_capture_on_commit_callbacks,
):
    application = complete_application()
    lead = application.created_by
    no_mail = user_with_role(Role.LEAD_UNIT, organisation=application.lead_unit, email="")
    with django_capture_on_commit_callbacks(execute=True):
        services.submit(application, lead)
    delivery = email_of(Notification.objects.get(recipient=no_mail))
    assert delivery.status == Delivery.Status.SKIPPED and delivery.sent_at is None  # nothing to retry
    assert delivery.last_error == "no e-mail address"
    assert [m.to for m in mail.outbox] == [[lead.email]]


# --- the retry sweep -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_retry_sweep_sends_an_unsent_notification_exactly_once():
    user = user_with_role(Role.LEAD_UNIT)
    delivery = unsent_note(user)

    assert retry_unsent_notifications(older_than_seconds=0) == 1
    assert retry_unsent_notifications(older_than_seconds=0) == 0

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [user.email]
    assert mail.outbox[0].subject == "测试通知"
    delivery.refresh_from_db()
    assert delivery.sent_at is not None
    assert delivery.attempts == 1
    assert deliver(delivery.pk) is False  # the task redelivered (acks_late) sends nothing
    assert deliver_notification(delivery.notification_id) is False  # nor a task queued before deliveries
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_retry_sweep_runs_as_a_task():
    delivery = unsent_note(user_with_role(Role.EXPERT))
    assert retry_unsent_notifications.delay(older_than_seconds=0).get(timeout=10) == 1
    assert len(mail.outbox) == 1
    delivery.refresh_from_db()
    assert delivery.sent_at is not None


@pytest.mark.django_db
def test_the_retry_sweep_leaves_fresh_rows_to_the_queued_task():
    unsent_note(user_with_role(Role.EXPERT), age_seconds=0)
    assert retry_unsent_notifications(older_than_seconds=60) == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_long_mail_server_outage_delays_the_mail_but_does_not_lose_it(smtp_down):
    user = user_with_role(Role.LEAD_UNIT)
    delivery = unsent_note(user)
    for _ in range(12):  # many sweeps while the server is down, each after the row's back-off has passed
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        retry_unsent_notifications(older_than_seconds=0)
    delivery.refresh_from_db()
    assert delivery.sent_at is None
    assert delivery.attempts == 12
    assert delivery.last_error

    smtp_down.EMAIL_BACKEND = LOCMEM  # the server is back, and the back-off has passed
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    retry_unsent_notifications(older_than_seconds=0)
    assert [m.to for m in mail.outbox] == [[user.email]]


@pytest.mark.django_db
def test_a_failed_row_waits_for_its_back_off(smtp_down):
    delivery = unsent_note(user_with_role(Role.LEAD_UNIT))
    retry_unsent_notifications(older_than_seconds=0)
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert delivery.next_attempt_at > timezone.now()
    smtp_down.EMAIL_BACKEND = LOCMEM
    assert retry_unsent_notifications(older_than_seconds=0) == 0  # too early: waits for its back-off
    assert mail.outbox == []


def test_the_back_off_doubles_and_is_capped():
    assert retry_delay(1) == 2 * retry_delay(0)
    assert retry_delay(3) == 2 * retry_delay(2)
    assert retry_delay(40) == retry_delay(60) == timedelta(hours=6)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_row_being_sent_elsewhere_is_skipped_not_sent_twice():
    delivery = unsent_note(user_with_role(Role.EXPERT))
    outcome = {}

    def other_worker():
        try:
            outcome["sent"] = deliver(delivery.pk)
        finally:
            connection.close()

    with transaction.atomic():
        Delivery.objects.select_for_update().get(pk=delivery.pk)  # a delivery in progress holds the row
        worker = threading.Thread(target=other_worker)
        worker.start()
        worker.join(timeout=30)
        assert not worker.is_alive(), "the second delivery waited for the lock instead of skipping"
    assert outcome["sent"] is False
    assert mail.outbox == []
    assert deliver(delivery.pk) is True
    assert len(mail.outbox) == 1


# --- the mail server is down -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_refused_smtp_connection_keeps_the_row_unsent_and_the_retry_sends_it(smtp_down):
    user = user_with_role(Role.LEAD_UNIT)
    delivery = unsent_note(user)

    assert deliver(delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.sent_at is None
    assert delivery.attempts == 1
    assert delivery.last_error  # the reason is kept for the administrators

    back_off_passed()
    assert retry_unsent_notifications(older_than_seconds=0) == 0  # still down
    delivery.refresh_from_db()
    assert delivery.attempts == 2
    assert delivery.sent_at is None

    smtp_down.EMAIL_BACKEND = LOCMEM  # the mail server is back
    back_off_passed()
    assert retry_unsent_notifications(older_than_seconds=0) == 1
    delivery.refresh_from_db()
    assert delivery.sent_at is not None
    assert delivery.attempts == 3
    assert delivery.last_error == ""
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert retry_unsent_notifications(older_than_seconds=0) == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_submit_succeeds_while_the_mail_server_is_down_and_mail_follows_later(
    smtp_down, django_capture_on_commit_callbacks
):
    staff = user_with_role(Role.COMMISSION_STAFF)
    application = complete_application()
    lead = application.created_by

    with django_capture_on_commit_callbacks(execute=True):
        services.submit(application, lead)

    assert Application.objects.get(pk=application.pk).number
    deliveries = list(Delivery.objects.select_related("notification"))
    assert {d.notification.recipient_id for d in deliveries} == {lead.pk, staff.pk}
    assert all(d.sent_at is None and d.attempts == 1 and d.last_error for d in deliveries)

    smtp_down.EMAIL_BACKEND = LOCMEM
    back_off_passed()
    assert retry_unsent_notifications(older_than_seconds=0) == 2
    assert sorted(m.to[0] for m in mail.outbox) == sorted([lead.email, staff.email])

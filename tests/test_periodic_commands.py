"""Every periodic (beat) task can also be run by hand: one management command per task, doing its work."""

import datetime
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command, get_commands
from django.utils import timezone

from accounts.models import Delivery, Notification
from accounts.roles import Role
from reports import summaries
from reports.models import Assessment, SummaryReminder
from tests.factories import (
    application_in_expert_review,
    awarded_centre,
    expert_with_profile,
    panel_with_experts,
    user_with_role,
)


def run(name: str, *args) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_every_beat_task_has_a_management_command_of_its_name():
    commands = get_commands()
    tasks = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert tasks
    missing = [task for task in tasks if task.rsplit(".", 1)[1] not in commands]
    assert missing == []
    for task in tasks:  # the command lives in the app of its task
        module, name = task.rsplit(".tasks.", 1)
        assert commands[name] == module, task


@pytest.mark.django_db
def test_retry_unsent_notifications_command_sends_what_the_outbox_holds():
    user = user_with_role(Role.LEAD_UNIT)
    note = Notification.objects.create(recipient=user, subject="测试通知", body="正文", link="/")
    Delivery.objects.create(notification=note, channel="email")
    Delivery.objects.update(created_at=timezone.now() - timedelta(hours=1))
    assert "sent 1" in run("retry_unsent_notifications")
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert "sent 0" in run("retry_unsent_notifications")


@pytest.mark.django_db
def test_remind_experts_command_reminds_before_the_deadline():
    staff = user_with_role(Role.COMMISSION_STAFF)
    application = application_in_expert_review(staff=staff)
    _panel, (assignment,) = panel_with_experts(
        application, staff, experts=[expert_with_profile()], deadline=timezone.now() + timedelta(hours=47)
    )
    Notification.objects.all().delete()
    assert "reminded 1" in run("remind_experts")
    assert Notification.objects.filter(recipient=assignment.expert, subject__contains="评分即将截止").exists()
    assert "reminded 0" in run("remind_experts")


@pytest.mark.django_db
def test_open_due_assessments_command_opens_what_came_due():
    today = timezone.localdate()
    due = awarded_centre(award_date=today.replace(year=today.year - 3, day=min(today.day, 28)))
    assert "opened 1" in run("open_due_assessments")
    assert Assessment.objects.filter(centre=due, cycle=1).count() == 1
    assert "opened 0" in run("open_due_assessments")


@pytest.mark.django_db
def test_remind_annual_summaries_command_sends_the_reminder_due_today():
    staff = user_with_role(Role.COMMISSION_STAFF)
    lead = user_with_role(Role.LEAD_UNIT)
    awarded_centre(lead_user=lead, award_date=datetime.date(2022, 1, 1))
    today = timezone.localdate()
    summaries.open_year(staff, today.year - 1, today + timedelta(days=7))
    assert "sent 1" in run("remind_annual_summaries")
    reminders = SummaryReminder.objects.filter(summary__centre__lead_unit=lead.organisation)
    assert list(reminders.values_list("days_before", flat=True)) == [7]
    assert "sent 0" in run("remind_annual_summaries")

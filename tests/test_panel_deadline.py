"""The panel's deadline holds (issue 15, item 9): after it no sheet is submitted; staff extend it with a
reason, recorded, the experts still scoring are told, and their reminder follows the new date."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from applications.models import ApplicationEvent
from applications.services import ActionRefused
from evaluation import panels
from evaluation.models import Assignment, Panel, PanelDeadlineChange
from evaluation.tasks import remind_experts
from tests.factories import (
    application_in_expert_review,
    declare_no_conflict,
    expert_with_profile,
    panel_with_experts,
    points_for_total,
    submit_sheet,
    user_with_role,
)


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _pass_deadline(panel, minutes=1) -> Panel:
    """The clock moves past the deadline (the stored deadline moved into the past instead)."""
    Panel.objects.filter(pk=panel.pk).update(deadline=timezone.now() - timedelta(minutes=minutes))
    return Panel.objects.get(pk=panel.pk)


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


@pytest.fixture
def panel_and_experts(staff):
    application = application_in_expert_review(staff=staff, centre_name="重庆市截止测试创新中心")
    panel, assignments = panel_with_experts(application, staff, size=5)
    return panel, assignments


def _full_scores(assignment):
    return points_for_total(list(assignment.panel.template.criteria.order_by("order")), 80)


@pytest.mark.django_db
def test_a_sheet_cannot_be_submitted_after_the_deadline_and_the_refusal_names_it(panel_and_experts):
    panel, assignments = panel_and_experts
    scoring = declare_no_conflict(assignments[0])
    panel = _pass_deadline(panel)
    with pytest.raises(ActionRefused) as refused:
        panels.save_sheet(scoring, scoring.expert, _full_scores(scoring), "意见", submit=True)
    assert refused.value.message == (
        f"评分已于{_when(panel.deadline)}截止，不能再提交。如需延期，请联系市经济信息委工作人员。"
    )
    assert Assignment.objects.get(pk=scoring.pk).state == Assignment.State.DECLARED
    # A draft is still kept (nothing typed is lost while waiting for an extension).
    sheet = panels.save_sheet(scoring, scoring.expert, _full_scores(scoring), "草稿意见")
    assert sheet.submitted_at is None and sheet.opinion == "草稿意见"


@pytest.mark.django_db
def test_staff_extend_the_deadline_with_a_reason_recorded_and_the_waiting_experts_told(
    staff, panel_and_experts
):
    panel, (done, scoring, *rest) = panel_and_experts
    submit_sheet(done, total=80)
    scoring = declare_no_conflict(scoring)
    panel = _pass_deadline(panel)
    previous = panel.deadline
    Notification.objects.all().delete()

    new = timezone.now() + timedelta(days=3)
    panels.extend_deadline(panel, staff, deadline=new, reason="两位专家出差，延期三天。")

    panel.refresh_from_db()
    assert panel.deadline == new
    (change,) = PanelDeadlineChange.objects.filter(panel=panel)
    assert (change.previous_deadline, change.new_deadline, change.reason, change.changed_by) == (
        previous,
        new,
        "两位专家出差，延期三天。",
        staff,
    )
    event = ApplicationEvent.objects.filter(
        application=panel.application, action="panel_deadline_extended"
    ).get()
    assert event.actor == staff and event.internal
    assert f"由{_when(previous)}延长至{_when(new)}" in event.comment and "两位专家出差" in event.comment

    told = Notification.objects.filter(subject__contains="评分截止时间已延长")
    assert sorted(n.recipient_id for n in told) == sorted([scoring.expert_id] + [a.expert_id for a in rest])
    note = told.get(recipient=scoring.expert)
    assert _when(new) in note.body and "两位专家出差" in note.body
    assert not Notification.objects.filter(recipient=done.expert).exists()

    # ... and the sheet can be submitted again.
    submit_sheet(scoring, total=85)
    assert Assignment.objects.get(pk=scoring.pk).state == Assignment.State.SUBMITTED


@pytest.mark.django_db
def test_an_extension_is_refused_without_reason_to_an_earlier_date_by_an_expert_or_once_closed(
    staff, panel_and_experts
):
    panel, assignments = panel_and_experts
    later = panel.deadline + timedelta(days=1)
    with pytest.raises(ActionRefused, match="须写明理由"):
        panels.extend_deadline(panel, staff, deadline=later, reason="  ")
    with pytest.raises(ActionRefused, match=f"应晚于原截止时间{_when(panel.deadline)}"):
        panels.extend_deadline(panel, staff, deadline=panel.deadline - timedelta(hours=1), reason="理由")
    with pytest.raises(ActionRefused, match="应晚于现在"):
        panels.extend_deadline(
            _pass_deadline(panel, 60), staff, deadline=timezone.now() - timedelta(minutes=5), reason="理由"
        )
    with pytest.raises(ActionRefused, match="只有市经济信息委工作人员"):
        panels.extend_deadline(panel, assignments[0].expert, deadline=later, reason="理由")
    Panel.objects.filter(pk=panel.pk).update(closed_at=timezone.now())
    with pytest.raises(ActionRefused, match="已结束评分"):
        panels.extend_deadline(panel, staff, deadline=later, reason="理由")
    assert not PanelDeadlineChange.objects.exists()


@pytest.mark.django_db
def test_the_reminder_follows_the_new_deadline(staff):
    application = application_in_expert_review(staff=staff)
    panel, (assignment,) = panel_with_experts(
        application, staff, experts=[expert_with_profile()], deadline=timezone.now() + timedelta(hours=30)
    )
    assert remind_experts() == 1  # reminded before the first deadline
    panels.extend_deadline(panel, staff, deadline=timezone.now() + timedelta(days=5), reason="补充材料")
    assert Assignment.objects.get(pk=assignment.pk).reminded_at is None
    assert remind_experts() == 0  # five days ahead: not yet
    # Time passes: the new deadline is 47 hours away; the expert is reminded once more, once.
    Panel.objects.filter(pk=panel.pk).update(deadline=timezone.now() + timedelta(hours=47))
    Notification.objects.all().delete()
    assert remind_experts() == 1
    assert remind_experts() == 0
    assert Notification.objects.get().recipient == assignment.expert

    # Extended to a date already within the reminder's lead time: the extension notice is the reminder.
    panel.refresh_from_db()
    panels.extend_deadline(panel, staff, deadline=panel.deadline + timedelta(hours=1), reason="再延一小时")
    assert Assignment.objects.get(pk=assignment.pk).reminded_at is not None
    assert remind_experts() == 0


# --- the pages ------------------------------------------------------------------------------------------


def _sheet_post(assignment, opinion) -> dict:
    data = {"opinion": opinion, "submit": "1", "confirm_submit": "on"}
    for pk, (points, _comment) in _full_scores(assignment).items():
        data[f"points_{pk}"] = str(points)
        data[f"comment_{pk}"] = "评语"
    return data


@pytest.mark.django_db
def test_the_sheet_page_says_the_deadline_passed_and_refuses_a_submission_keeping_what_was_typed(
    client, panel_and_experts
):
    panel, assignments = panel_and_experts
    scoring = declare_no_conflict(assignments[0])
    panel = _pass_deadline(panel)
    client.force_login(scoring.expert)
    url = reverse("evaluation:assignment", args=[scoring.pk])
    page = client.get(url).content.decode()
    assert f"评分已于{_when(panel.deadline)}截止，不能再提交" in page
    assert 'name="submit"' not in page
    response = client.post(url, _sheet_post(scoring, "打字中的总体意见"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "不能再提交。如需延期" in body and "打字中的总体意见" in body
    assert Assignment.objects.get(pk=scoring.pk).state == Assignment.State.DECLARED


@pytest.mark.django_db
def test_staff_extend_the_deadline_on_the_panel_page(client, staff, panel_and_experts):
    panel, _assignments = panel_and_experts
    panel = _pass_deadline(panel)
    client.force_login(staff)
    url = reverse("evaluation:panel", args=[panel.application_id])
    page = client.get(url).content.decode()
    assert "已过截止时间，专家不能再提交评分" in page and 'name="extend_deadline"' in page

    # A missing reason: the form comes back with what was typed.
    typed = timezone.localtime(timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, {"extend_deadline": "1", "deadline": typed, "reason": ""})
    assert response.status_code == 200 and f'value="{typed}"' in response.content.decode()
    assert not PanelDeadlineChange.objects.exists()

    response = client.post(url, {"extend_deadline": "1", "deadline": typed, "reason": "专家请假"})
    assert response.status_code == 302
    panel.refresh_from_db()
    assert timezone.localtime(panel.deadline).strftime("%Y-%m-%dT%H:%M") == typed
    page = client.get(url).content.decode()
    assert "专家请假" in page and "延期记录" in page
    # An expert cannot.
    expert = panel.assignments.first().expert
    client.force_login(expert)
    assert client.post(url, {"extend_deadline": "1", "deadline": typed, "reason": "x"}).status_code == 403


# --- staff are told when a deadline passes with sheets missing -------------------------------------------


@pytest.mark.django_db
def test_staff_are_told_once_when_the_deadline_passes_with_sheets_missing_and_again_after_an_extension(
    staff, panel_and_experts
):
    panel, (done, late, *rest) = panel_and_experts
    for assignment in [done, *rest]:
        submit_sheet(assignment, total=80)
    assert panels.tell_staff_of_overdue_panels() == 0  # not yet past
    panel = _pass_deadline(panel)
    Notification.objects.all().delete()
    assert panels.tell_staff_of_overdue_panels() == 1
    assert panels.tell_staff_of_overdue_panels() == 0
    [note] = Notification.objects.filter(recipient=staff)
    assert note.subject.startswith("评分已过截止时间：重庆市截止测试创新中心")
    assert str(late.expert) in note.body and f"已于{_when(panel.deadline)}截止" in note.body
    assert note.link == reverse("evaluation:panel", args=[panel.application_id])

    panels.extend_deadline(panel, staff, deadline=timezone.now() + timedelta(days=1), reason="等待专家")
    _pass_deadline(panel)
    assert panels.tell_staff_of_overdue_panels() == 1  # the new deadline passed too

    Panel.objects.filter(pk=panel.pk).update(closed_at=timezone.now(), overdue_told_at=None)
    assert panels.tell_staff_of_overdue_panels() == 0  # a closed panel waits for nobody


@pytest.mark.django_db
def test_the_beat_runs_the_overdue_panel_notice(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["overdue-panels"]
    assert entry["task"] == "evaluation.tasks.tell_staff_of_overdue_panels"


@pytest.mark.django_db
def test_the_staff_notices_of_a_panel_link_to_its_page(staff, panel_and_experts):
    panel, assignments = panel_and_experts
    for assignment in assignments:
        submit_sheet(assignment, total=80)
    [note] = Notification.objects.filter(recipient=staff, subject__startswith="专家评分已全部提交")
    assert note.link == reverse("evaluation:panel", args=[panel.application_id])


@pytest.mark.django_db
def test_the_staff_notices_of_an_assessment_panel_link_to_the_assessment(staff):
    import datetime

    from reports import assessment as assessments
    from tests.factories import awarded_centre

    centre = awarded_centre(award_date=datetime.date(2022, 1, 1))
    assessment = assessments.open_by_staff(centre, staff)
    assessment = assessments.start_panel(assessment, staff, deadline=timezone.now() + timedelta(days=3))
    (assignment,) = panels.assign(assessment.panel, staff, [expert_with_profile(full_name="赵专家")])
    panels.declare(
        assignment,
        assignment.expert,
        {**dict.fromkeys(Assignment.CONFLICT_QUESTIONS, False), "advised": True},
    )
    [note] = Notification.objects.filter(recipient=staff, subject__contains="专家回避")
    assert note.link == reverse("reports:assessment", args=[assessment.pk])

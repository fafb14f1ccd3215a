"""Everyone a step concerns is told (issue 15, items 11-13): district staff of their district's plans and of
their recommendation falling due; the inspection leader when appointed, on their home page and before the
visit; the lead unit and staff at the steps that concern them. In-portal notifications and e-mails both
come from ``accounts.notifications.notify``; the e-mail is checked where it matters (after commit)."""

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import District, Notification
from accounts.roles import Role
from applications import services
from applications.forms import DistrictOpinionForm
from applications.models import Status
from evaluation import workflow
from tests.factories import application_in, complete_application, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


def notes_of(user, **filters):
    return Notification.objects.filter(recipient=user, **filters).order_by("pk")


def _other_district(application):
    return District.objects.exclude(pk=application.district_id).first()


# --- 11. district staff ------------------------------------------------------------------------------------


def test_district_staff_are_told_when_a_plan_of_their_district_is_submitted_and_resubmitted(
    staff, django_capture_on_commit_callbacks
):
    application = complete_application(centre_name="重庆市区县通知创新中心")
    district = user_with_role(Role.DISTRICT_STAFF, district=application.district)
    elsewhere = user_with_role(Role.DISTRICT_STAFF, district=_other_district(application))

    with django_capture_on_commit_callbacks(execute=True):
        services.submit(application, application.created_by)
    [note] = notes_of(district)
    application.refresh_from_db()
    assert note.subject == f"待填写推荐意见：重庆市区县通知创新中心（{application.number}）"
    assert "请在材料初审结束前登录平台填写" in note.body
    assert note.link == reverse("applications:detail", args=[application.pk])
    [message] = [m for m in mail.outbox if district.email in m.to]  # and by e-mail
    assert message.subject == note.subject
    assert not notes_of(elsewhere).exists()

    # Returned and resubmitted: told again, as a resubmission.
    workflow.start_preliminary(application, staff)
    workflow.return_for_amendment(application, staff, "请补充审计报告。", {})
    services.submit(application, application.created_by)
    last = notes_of(district).last()
    assert last.subject.startswith("本区县申报已重新提交")
    assert "修改后重新提交" in last.body
    assert not notes_of(elsewhere).exists()


def test_district_staff_are_told_of_a_withdrawal_but_never_of_a_draft(staff):
    application = complete_application(centre_name="重庆市撤回测试创新中心")
    district = user_with_role(Role.DISTRICT_STAFF, district=application.district)
    draft = complete_application(centre_name="重庆市草稿撤回创新中心")
    services.withdraw(draft, draft.created_by, reason="不再申报")
    assert not notes_of(district).exists()

    services.submit(application, application.created_by)
    services.withdraw(application, application.created_by, reason="材料需要重新准备")
    last = notes_of(district).last()
    assert last.subject.startswith("申报已撤回")
    assert "材料需要重新准备" in last.body


def test_district_staff_are_told_their_recommendation_is_due_when_the_preliminary_review_starts(staff):
    waiting = application_in("submitted", staff=staff, centre_name="重庆市待推荐创新中心")
    answered = application_in("submitted", staff=staff, centre_name="重庆市已推荐创新中心")
    district = user_with_role(Role.DISTRICT_STAFF, district=waiting.district)
    assert answered.district_id == waiting.district_id
    form = DistrictOpinionForm(
        {"recommend": "True", "opinion": "同意推荐。", "opinion_date": "2026-12-04"}, max_mb=20
    )
    assert form.is_valid(), form.errors
    services.record_district_opinion(answered, district, form)
    Notification.objects.all().delete()

    workflow.start_preliminary(waiting, staff)
    workflow.start_preliminary(answered, staff)
    [note] = notes_of(district)
    assert note.subject.startswith("请在材料初审结束前填写推荐意见：重庆市待推荐创新中心")
    assert "初审结束后不能再填写" in note.body
    assert note.link == reverse("applications:recommend", args=[waiting.pk])


def test_the_lead_units_submit_page_tells_the_district(client):
    application = complete_application(centre_name="重庆市页面提交创新中心")
    district = user_with_role(Role.DISTRICT_STAFF, district=application.district)
    client.force_login(application.created_by)
    url = reverse("applications:submit", args=[application.pk])
    response = client.post(url, {"confirm": "on"})
    assert response.status_code == 302, response.content.decode()[:500]
    application.refresh_from_db()
    assert application.status == Status.SUBMITTED
    assert notes_of(district).count() == 1

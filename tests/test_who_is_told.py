"""Everyone a step concerns is told (issue 15, items 11-13): district staff of their district's plans and of
their recommendation falling due; the inspection leader when appointed, on their home page and before the
visit; the lead unit and staff at the steps that concern them. In-portal notifications and e-mails both
come from ``accounts.notifications.notify``; the e-mail is checked where it matters (after commit)."""

import datetime
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import District, Notification
from accounts.roles import Role
from applications import services
from applications.forms import DistrictOpinionForm
from applications.models import Status
from evaluation import inspection, workflow
from evaluation.models import SiteInspection
from evaluation.tasks import remind_inspection_leaders
from tests.factories import application_in, complete_application, expert_with_profile, user_with_role

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


# --- 12. the inspection leader -----------------------------------------------------------------------------

FINDINGS = {item: {"finding": "与申报材料一致。"} for item in SiteInspection.Item.values}


@pytest.fixture
def inspecting(staff):
    """An application in 现场考核 (its inspection not yet arranged) and an expert to lead it."""
    application = application_in("site_inspection", staff=staff, centre_name="重庆市现场考核创新中心")
    return application, expert_with_profile(full_name="刘组长")


def test_the_leader_is_told_when_appointed_once_and_a_new_leader_too(
    staff, inspecting, django_capture_on_commit_callbacks
):
    application, leader = inspecting
    visit = timezone.localdate() + datetime.timedelta(days=10)
    with django_capture_on_commit_callbacks(execute=True):
        inspection.open_inspection(application, staff, leader=leader, visit_date=visit, team="刘组长")
    [note] = notes_of(leader)
    assert note.subject == "现场考核任务：重庆市现场考核创新中心"
    assert "考核组长" in note.body and f"考核日期：{visit:%Y-%m-%d}" in note.body
    assert note.link == reverse("evaluation:inspection", args=[application.pk])
    assert [m.subject for m in mail.outbox if leader.email in m.to] == [note.subject]

    # Arranged again with the same leader: no second appointment. Another leader: told.
    inspection.open_inspection(application, staff, leader=leader, visit_date=visit, team="刘组长、王")
    assert notes_of(leader).count() == 1
    other = expert_with_profile()
    inspection.open_inspection(application, staff, leader=other, visit_date=visit)
    assert notes_of(other).count() == 1
    # Staff who appoint themselves are not told what they just did.
    inspection.open_inspection(application, staff, leader=staff, visit_date=visit)
    assert not notes_of(staff, subject__startswith="现场考核任务").exists()


def test_staff_appointing_on_the_page_tells_the_leader(client, staff, inspecting):
    application, leader = inspecting
    client.force_login(staff)
    url = reverse("evaluation:inspection", args=[application.pk])
    response = client.post(url, {"leader": str(leader.pk), "visit_date": "2026-12-20", "team": "刘组长"})
    assert response.status_code == 302
    assert notes_of(leader, subject__startswith="现场考核任务").count() == 1


def test_the_leaders_home_lists_the_inspection_to_record_then_to_sign_off_with_links(
    client, staff, inspecting
):
    application, leader = inspecting
    record = inspection.open_inspection(application, staff, leader=leader, visit_date=timezone.localdate())
    client.force_login(leader)
    home = reverse("evaluation:expert_home")
    link = reverse("evaluation:inspection", args=[application.pk])
    body = client.get(home).content.decode()
    assert "现场考核任务（考核组长）" in body and "重庆市现场考核创新中心" in body
    assert f'href="{link}">填写考核记录</a>' in body

    inspection.save_record(record, leader, findings=FINDINGS, score=Decimal("88"), conclusion="通过。")
    body = client.get(home).content.decode()  # the cached list follows the inspection
    assert f'href="{link}">签字确认</a>' in body and "待组长签字" in body

    # The page the link opens lets the leader sign off, and leads back home (not to a staff page).
    page = client.get(link).content.decode()
    assert 'name="sign_off"' in page and f'href="{home}"' in page
    sign_off = reverse("evaluation:inspection_sign_off", args=[application.pk])
    assert f'action="{sign_off}"' in page
    assert client.post(sign_off, {"sign_off": "1"}).status_code == 302
    assert SiteInspection.objects.get(pk=record.pk).signed_off_at is not None
    body = client.get(home).content.decode()
    assert "已签字确认" in body and f'href="{link}">查看</a>' in body

    # Another expert's home shows none of it.
    client.force_login(expert_with_profile())
    assert "重庆市现场考核创新中心" not in client.get(home).content.decode()


def test_the_leader_is_reminded_before_the_visit_once_and_the_reminder_follows_a_new_date(staff, inspecting):
    application, leader = inspecting
    today = timezone.localdate()
    record = inspection.open_inspection(
        application, staff, leader=leader, visit_date=today + datetime.timedelta(days=1)
    )
    Notification.objects.all().delete()
    assert remind_inspection_leaders() == 1
    assert remind_inspection_leaders() == 0
    [note] = notes_of(leader)
    assert note.subject == "现场考核即将开始：重庆市现场考核创新中心"
    assert f"定于{today + datetime.timedelta(days=1):%Y-%m-%d}" in note.body

    # Moved ten days later: nothing yet; when the new date comes near, reminded again (once).
    record = inspection.save_record(
        record, staff, findings={}, score=None, conclusion="", visit_date=today + datetime.timedelta(days=10)
    )
    assert remind_inspection_leaders() == 0
    SiteInspection.objects.filter(pk=record.pk).update(visit_date=today + datetime.timedelta(days=2))
    assert remind_inspection_leaders() == 1
    assert remind_inspection_leaders() == 0
    assert notes_of(leader).count() == 2


def test_no_reminder_once_signed_off_or_for_a_date_long_past(staff, inspecting):
    application, leader = inspecting
    record = inspection.open_inspection(
        application, staff, leader=leader, visit_date=timezone.localdate() - datetime.timedelta(days=3)
    )
    assert remind_inspection_leaders() == 0
    SiteInspection.objects.filter(pk=record.pk).update(visit_date=timezone.localdate())
    inspection.save_record(record, leader, findings=FINDINGS, score=Decimal("80"), conclusion="通过。")
    inspection.sign_off(SiteInspection.objects.get(pk=record.pk), leader)
    assert remind_inspection_leaders() == 0


def test_the_beat_runs_the_leaders_reminder(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["remind-inspection-leaders"]
    assert entry["task"] == "evaluation.tasks.remind_inspection_leaders"


# --- 13. gaps found reviewing every notify() against DOMAIN.md ----------------------------------------------


def _lead_users(application):
    return services.lead_unit_users(application)


def test_the_lead_unit_is_told_the_inspection_date_and_when_it_moves(staff, inspecting):
    application, leader = inspecting
    lead = application.created_by
    visit = timezone.localdate() + datetime.timedelta(days=7)
    record = inspection.open_inspection(application, staff, leader=leader, visit_date=visit)
    [note] = notes_of(lead, subject__startswith="现场考核已安排")
    assert f"定于{visit:%Y-%m-%d}" in note.body and "审计报告" in note.body
    assert note.link == reverse("applications:detail", args=[application.pk])
    # The same date again: nothing; another date, by the leader on the record: told it moved.
    record = inspection.open_inspection(application, staff, leader=leader, visit_date=visit, team="甲")
    later = visit + datetime.timedelta(days=3)
    inspection.save_record(record, leader, findings={}, score=None, conclusion="", visit_date=later)
    assert notes_of(lead, subject__startswith="现场考核已安排").count() == 1
    [moved] = notes_of(lead, subject__startswith="现场考核日期已调整")
    assert f"定于{later:%Y-%m-%d}" in moved.body


def test_staff_are_told_when_the_leader_signs_off(staff, inspecting):
    application, leader = inspecting
    colleague = user_with_role(Role.COMMISSION_STAFF)
    record = inspection.open_inspection(application, staff, leader=leader, visit_date=timezone.localdate())
    inspection.save_record(record, leader, findings=FINDINGS, score=Decimal("86.5"), conclusion="通过。")
    inspection.sign_off(record, leader)
    for user in (staff, colleague):
        [note] = notes_of(user, subject__startswith="现场考核已签字确认")
        assert "刘组长" in note.body and "86.5" in note.body and "进入综合评估" in note.body
    assert not notes_of(leader, subject__startswith="现场考核已签字确认").exists()


def test_the_lead_unit_is_told_when_an_upheld_objection_sends_the_plan_back(staff):
    from evaluation import publicity
    from evaluation.models import Objection
    from tests.factories import (
        application_in_publicity,
        expire_announcement,
        objection_evidence,
        valid_id_number,
    )

    application, announcement = application_in_publicity(staff=staff, centre_name="重庆市异议退回创新中心")
    objection = publicity.lodge_objection(
        announcement.entries.get(),
        kind=Objection.Kind.PERSON,
        name="王异议",
        phone="13800001234",
        statement="研发人员数量与实际不符。",
        id_number=valid_id_number(),
        files=objection_evidence(),
    )
    expire_announcement(announcement)
    publicity.close_expired()
    publicity.resolve_objection(objection, staff, Objection.State.UPHELD, "确有虚报。")
    Notification.objects.all().delete()
    application.refresh_from_db()
    publicity.send_back_after_objection(application, staff, comment="异议成立，重新评估。")
    for lead in _lead_users(application):
        [note] = notes_of(lead)
        assert "综合评估" in note.subject and "异议成立，重新评估。" in note.body


def test_the_lead_unit_is_told_when_the_approval_is_recorded(staff):
    from evaluation import publicity
    from tests.factories import application_approved

    application = application_approved(staff=staff, centre_name="重庆市批复通知创新中心")
    Notification.objects.all().delete()
    publicity.record_approval(
        application, staff, document_number="渝经信发〔2026〕88号", document_date=datetime.date(2026, 12, 4)
    )
    [note] = notes_of(application.created_by)
    assert note.subject.startswith("批复已登记") and "渝经信发〔2026〕88号" in note.body
    assert "2026-12-04" in note.body


def test_the_lead_unit_is_told_when_its_assessment_opens_and_when_an_exclusion_ends(staff):
    from centres.models import Centre
    from reports.assessment import end_expired_exclusions, open_due_assessments
    from tests.factories import awarded_centre

    lead = user_with_role(Role.LEAD_UNIT)
    centre = awarded_centre(
        lead_user=lead, award_date=datetime.date(2021, 6, 1), name="重庆市考核通知创新中心"
    )
    assert open_due_assessments(today=datetime.date(2024, 6, 1)) == 1
    [note] = notes_of(lead)
    assert note.subject == "第1轮考核评估已启动：重庆市考核通知创新中心"
    assert note.link == reverse("reports:centre", args=[centre.pk])

    Centre.objects.filter(pk=centre.pk).update(
        status=Centre.Status.EXCLUDED, excluded_until=datetime.date(2026, 1, 1)
    )
    assert end_expired_exclusions(today=datetime.date(2026, 1, 1)) == 1
    last = notes_of(lead).last()
    assert last.subject == "暂停支持期满：重庆市考核通知创新中心" and "重新纳入支持范围" in last.body


def test_the_lead_unit_is_told_when_the_title_is_withdrawn_on_the_centre_page(client, staff):
    from centres.models import Centre
    from tests.factories import awarded_centre

    lead = user_with_role(Role.LEAD_UNIT)
    centre = awarded_centre(
        lead_user=lead, award_date=datetime.date(2022, 6, 1), name="重庆市撤销称号创新中心"
    )
    client.force_login(staff)
    form = client.get(reverse("reports:centre", args=[centre.pk])).context["withdraw_form"]
    data = {name: "on" for name in form.fields if name != "reason"} | {"reason": "连续两年未报送年度总结。"}
    response = client.post(reverse("reports:centre", args=[centre.pk]), {"withdraw_title": "1", **data})
    assert response.status_code == 302
    assert Centre.objects.get(pk=centre.pk).status == Centre.Status.WITHDRAWN
    [note] = notes_of(lead)
    assert note.subject == "“重庆市撤销称号创新中心”已被撤销称号"
    assert "连续两年未报送年度总结。" in note.body


def test_experts_still_scoring_are_told_when_the_application_is_rejected(staff):
    from tests.factories import application_in_expert_review, panel_with_experts, submit_sheet

    application = application_in_expert_review(staff=staff, centre_name="重庆市终止评审创新中心")
    _panel, (done, *waiting) = panel_with_experts(application, staff, size=5)
    submit_sheet(done, total=80)
    Notification.objects.all().delete()
    workflow.reject(application, staff, "不符合基本条件。")
    for assignment in waiting:
        [note] = notes_of(assignment.expert)
        assert (
            note.subject == "评审任务已终止：重庆市终止评审创新中心" and "无需再作回避声明或评分" in note.body
        )
    assert not notes_of(done.expert).exists()


def test_a_rejected_applications_inspection_leaves_the_leaders_home(client, staff, inspecting):
    application, leader = inspecting
    inspection.open_inspection(application, staff, leader=leader, visit_date=timezone.localdate())
    client.force_login(leader)
    home = reverse("evaluation:expert_home")
    assert "重庆市现场考核创新中心" in client.get(home).content.decode()
    workflow.reject(application, staff, "现场核查发现材料不实。")
    assert "重庆市现场考核创新中心" not in client.get(home).content.decode()

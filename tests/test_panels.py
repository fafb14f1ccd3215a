"""专家论证 (evaluation.panels and its pages): conflict rules, who sees what, score bounds and the lock,
the aggregate against hand-computed figures, closing the panel, flat query counts and the reminders."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from applications.models import Application, ApplicationEvent, Status
from applications.services import ActionRefused
from evaluation import inspection, panels, workflow
from evaluation.models import Assignment, Panel, Score, ScoreSheet, SiteInspection
from evaluation.tasks import remind_experts
from tests.factories import (
    OrganisationFactory,
    application_in,
    application_in_expert_review,
    declare_no_conflict,
    expert_with_profile,
    panel_with_experts,
    policy_version,
    stamp_policy,
    submit_sheet,
    user_with_role,
)

NO = dict.fromkeys(Assignment.CONFLICT_QUESTIONS, False)
# The default 专家论证 sheet of DOMAIN.md, in order: 建设基础与条件 20, 技术方向与目标 25, 运营模式与机制 20,
# 预期成果与效益 20, 牵头单位能力 15 (total 100).
DEFAULT_SHEET = [
    ("建设基础与条件", Decimal(20)),
    ("技术方向与目标", Decimal(25)),
    ("运营模式与机制", Decimal(20)),
    ("预期成果与效益", Decimal(20)),
    ("牵头单位能力", Decimal(15)),
]


def reload(application) -> Application:
    return Application.objects.get(pk=application.pk)


def criteria_of(panel) -> list:
    return list(panel.template.criteria.order_by("order"))


def scores_of(assignment) -> list:
    """The stored points of an assignment's sheet, in criterion order."""
    return list(
        Score.objects.filter(sheet__assignment=assignment)
        .order_by("criterion__order")
        .values_list("points", flat=True)
    )


def as_scores(panel, points, comments=None) -> dict:
    """{criterion id: (points, comment)} for save_sheet, points given in criterion order."""
    comments = comments or [""] * len(points)
    return {
        c.pk: (None if p is None else Decimal(str(p)), text)
        for c, p, text in zip(criteria_of(panel), points, comments, strict=True)
    }


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


@pytest.fixture
def reviewing(staff):
    """An application in 专家论证 with an empty panel."""
    application = application_in_expert_review(staff=staff, centre_name="重庆市甲创新中心")
    panel = panels.create_panel(application, staff, deadline=timezone.now() + timedelta(days=7))
    return application, panel


@pytest.fixture
def declared(reviewing, staff):
    """One expert on the panel who has declared no conflict and is scoring."""
    _application, panel = reviewing
    (assignment,) = panels.assign(panel, staff, [expert_with_profile(full_name="王专家")])
    return declare_no_conflict(assignment)


def test_the_default_sheet_is_the_one_of_the_domain(reviewing):
    _application, panel = reviewing
    assert [(c.name, c.max_points) for c in criteria_of(panel)] == DEFAULT_SHEET


# --- 1. conflict rules --------------------------------------------------------------------------------------


def _conflicted(application, where):
    """An expert whose employer is the lead unit, the host company or a member unit of ``application``."""
    if where == "lead_unit":
        return expert_with_profile(employer=application.lead_unit), "牵头单位"
    if where == "host":
        return expert_with_profile(
            employer=OrganisationFactory(credit_code=application.host_credit_code)
        ), "依托公司"
    member = application.members.order_by("pk").last()
    employer = OrganisationFactory(credit_code=member.credit_code, name="另一个名字的同一单位")
    return expert_with_profile(employer=employer), "共建单位"


@pytest.mark.django_db
@pytest.mark.parametrize("where", ["lead_unit", "host", "member"])
def test_assign_refuses_an_expert_employed_by_a_party_of_the_application_naming_why(reviewing, staff, where):
    application, panel = reviewing
    clean = expert_with_profile(full_name="无关专家")
    conflicted, party = _conflicted(application, where)
    with pytest.raises(ActionRefused) as refused:
        panels.assign(panel, staff, [clean, conflicted])
    assert refused.value.message == "以下专家不能分配："
    assert len(refused.value.details) == 1
    assert party in refused.value.details[0]
    assert str(conflicted) in refused.value.details[0]
    # The whole batch is refused: not even the clean expert is on the panel, nobody was told.
    assert not Assignment.objects.filter(panel=panel).exists()
    assert not Notification.objects.filter(recipient__in=[clean, conflicted]).exists()
    assert panels.conflict_reasons(conflicted, application) == refused.value.details
    assert panels.conflict_reasons(clean, application) == []


@pytest.mark.django_db
def test_assign_puts_clean_experts_on_the_panel_and_tells_them(reviewing, staff):
    _application, panel = reviewing
    experts = [expert_with_profile() for _ in range(3)]
    created = panels.assign(panel, staff, experts)
    assert [a.expert_id for a in created] == [e.pk for e in experts]
    assert all(a.state == Assignment.State.ASSIGNED for a in created)
    assert Notification.objects.filter(recipient__in=experts).count() == 3


@pytest.mark.django_db
def test_assign_refuses_an_expert_already_on_the_panel(reviewing, staff):
    _application, panel = reviewing
    expert = expert_with_profile()
    panels.assign(panel, staff, [expert])
    with pytest.raises(ActionRefused) as refused:
        panels.assign(panel, staff, [expert])
    assert "已在专家组中" in refused.value.details[0]
    assert Assignment.objects.filter(panel=panel).count() == 1


@pytest.mark.django_db
def test_assign_refuses_the_same_expert_twice_in_one_batch(reviewing, staff):
    _application, panel = reviewing
    expert = expert_with_profile()
    with pytest.raises(ActionRefused):
        panels.assign(panel, staff, [expert, expert])


@pytest.mark.django_db
def test_assign_refuses_someone_outside_the_pool(reviewing, staff):
    _application, panel = reviewing
    lead_user = user_with_role(Role.LEAD_UNIT)
    inactive = expert_with_profile()
    inactive.expert_profile.is_active = False
    inactive.expert_profile.save()
    with pytest.raises(ActionRefused) as refused:
        panels.assign(panel, staff, [lead_user, inactive])
    assert "不是专家库中的专家" in refused.value.details[0]
    assert "当前不可用" in refused.value.details[1]


@pytest.mark.django_db
def test_suggestions_leave_out_conflicted_experts_and_put_field_experts_first_then_the_least_loaded(staff):
    application = application_in_expert_review(staff=staff)
    field = application.field
    # Load: open assignments (待回避声明 or 评分中) on other panels; submitted ones do not count.
    other = application_in_expert_review(staff=staff)
    other_panel = panels.create_panel(other, staff, deadline=timezone.now() + timedelta(days=7))
    third = application_in_expert_review(staff=staff)
    third_panel = panels.create_panel(third, staff, deadline=timezone.now() + timedelta(days=7))

    field_busy = expert_with_profile(full_name="甲", fields=[field])  # knows the field, 2 open
    field_free = expert_with_profile(full_name="乙", fields=[field])  # knows the field, 0 open (1 submitted)
    plain_free = expert_with_profile(full_name="丙")  # 0 open
    plain_busy = expert_with_profile(full_name="丁")  # 1 open (declared)
    panels.assign(other_panel, staff, [field_busy, field_free, plain_busy])
    panels.assign(third_panel, staff, [field_busy])
    submit_sheet(Assignment.objects.get(panel=other_panel, expert=field_free), total=80)
    declare_no_conflict(Assignment.objects.get(panel=other_panel, expert=plain_busy))
    conflicted = [_conflicted(application, where)[0] for where in ("lead_unit", "host", "member")]
    conflicted[0].expert_profile.fields.add(field)  # knowing the field does not outweigh the conflict
    on_panel = expert_with_profile(full_name="戊", fields=[field])
    panel = panels.create_panel(application, staff, deadline=timezone.now() + timedelta(days=7))
    panels.assign(panel, staff, [on_panel])

    suggested = list(panels.suggest_experts(application, panel))

    # Hand-ordered: field experts (乙 0 open, 甲 2 open), then the others (丙 0, 丁 1).
    assert [p.user for p in suggested] == [field_free, field_busy, plain_free, plain_busy]
    assert [(p.knows_field, p.open_assignments) for p in suggested] == [(1, 0), (1, 2), (0, 0), (0, 1)]
    for expert in conflicted:
        assert panels.conflict_reasons(expert, application)  # really conflicted, and left out above


@pytest.mark.django_db
@pytest.mark.parametrize("question", list(Assignment.CONFLICT_QUESTIONS))
def test_a_yes_on_any_declaration_question_withdraws_the_expert_and_tells_staff(reviewing, staff, question):
    application, panel = reviewing
    (assignment,) = panels.assign(panel, staff, [expert_with_profile(full_name="王专家")])
    answers = {**NO, question: True}
    result = panels.declare(assignment, assignment.expert, answers)
    assert result.state == Assignment.State.WITHDRAWN
    stored = Assignment.objects.get(pk=assignment.pk)
    assert stored.state == Assignment.State.WITHDRAWN
    assert stored.declaration == answers
    assert stored.declared_at is not None
    assert not ScoreSheet.objects.filter(assignment=assignment).exists()
    note = Notification.objects.get(recipient=staff, subject__contains="专家回避")
    assert "王专家" in note.body
    assert note.link == reverse("evaluation:panel", args=[application.pk])  # the page takes the application
    assert ApplicationEvent.objects.filter(application=application, action="expert_withdrawn").count() == 1


@pytest.mark.django_db
def test_all_no_creates_a_sheet_with_one_empty_score_per_criterion(reviewing, staff):
    _application, panel = reviewing
    (assignment,) = panels.assign(panel, staff, [expert_with_profile()])
    result = panels.declare(assignment, assignment.expert, NO)
    assert result.state == Assignment.State.DECLARED
    sheet = ScoreSheet.objects.get(assignment=assignment)
    assert sorted(sheet.scores.values_list("criterion__name", flat=True)) == sorted(
        n for n, _m in DEFAULT_SHEET
    )
    assert scores_of(assignment) == [None] * 5
    assert sheet.total is None and sheet.submitted_at is None
    assert not Notification.objects.filter(recipient=staff, subject__contains="专家回避").exists()


@pytest.mark.django_db
def test_the_declaration_needs_every_answer_from_the_expert_and_only_once(reviewing, staff):
    _application, panel = reviewing
    (assignment,) = panels.assign(panel, staff, [expert_with_profile()])
    with pytest.raises(ActionRefused):
        panels.declare(assignment, expert_with_profile(), NO)  # someone else
    partial = dict(NO)
    del partial["relative_link"]
    with pytest.raises(ActionRefused) as refused:
        panels.declare(assignment, assignment.expert, partial)
    assert refused.value.details == [str(Assignment.CONFLICT_QUESTIONS["relative_link"])]
    assert Assignment.objects.get(pk=assignment.pk).state == Assignment.State.ASSIGNED
    panels.declare(assignment, assignment.expert, NO)
    with pytest.raises(ActionRefused):
        panels.declare(assignment, assignment.expert, {**NO, "advised": True})
    assert Assignment.objects.get(pk=assignment.pk).state == Assignment.State.DECLARED


@pytest.mark.django_db
def test_the_declaration_page_withdraws_on_yes(client, reviewing, staff):
    _application, panel = reviewing
    (assignment,) = panels.assign(panel, staff, [expert_with_profile()])
    client.force_login(assignment.expert)
    url = reverse("evaluation:assignment", args=[assignment.pk])
    data = dict.fromkeys(Assignment.CONFLICT_QUESTIONS, "no") | {"prepared_plan": "yes", "confirm": "on"}
    response = client.post(url, data)
    assert response.status_code == 302 and response.url == reverse("evaluation:expert_home")
    assert Assignment.objects.get(pk=assignment.pk).state == Assignment.State.WITHDRAWN
    assert not ScoreSheet.objects.filter(assignment=assignment).exists()


# --- 2. experts only see their own work ---------------------------------------------------------------------


@pytest.mark.django_db
def test_an_expert_cannot_open_or_post_to_another_experts_assignment(client, reviewing, staff):
    _application, panel = reviewing
    mine, theirs = panels.assign(panel, staff, [expert_with_profile(), expert_with_profile()])
    theirs = declare_no_conflict(theirs)
    client.force_login(mine.expert)
    url = reverse("evaluation:assignment", args=[theirs.pk])
    assert client.get(url).status_code == 403
    criteria = criteria_of(panel)
    data = {f"points_{c.pk}": "1" for c in criteria} | {"submit": "1", "confirm_submit": "on"}
    assert client.post(url, data).status_code == 403
    assert scores_of(theirs) == [None] * 5
    assert Assignment.objects.get(pk=theirs.pk).state == Assignment.State.DECLARED
    # ... while their own page opens.
    assert client.get(reverse("evaluation:assignment", args=[mine.pk])).status_code == 200
    assert client.get(reverse("evaluation:assignment", args=[theirs.pk + 1000])).status_code == 404


@pytest.mark.django_db
def test_an_expert_never_sees_another_experts_scores_on_their_own_page(client, reviewing, staff):
    _application, panel = reviewing
    mine, theirs = panels.assign(panel, staff, [expert_with_profile(), expert_with_profile()])
    declare_no_conflict(theirs)
    panels.save_sheet(
        theirs,
        theirs.expert,
        as_scores(panel, [19.5, 24.5, 19.5, 19.5, 14.5], ["乙专家的私密评语"] * 5),
        "乙专家的总体意见",
        submit=True,
    )
    declare_no_conflict(mine)
    client.force_login(mine.expert)
    body = client.get(reverse("evaluation:assignment", args=[mine.pk])).content.decode()
    assert "专家评分" in body
    assert "乙专家的私密评语" not in body
    assert "乙专家的总体意见" not in body
    assert "97.5" not in body  # their total: 19.5 + 24.5 + 19.5 + 19.5 + 14.5


@pytest.mark.django_db
def test_an_expert_guessing_staff_urls_gets_403_even_for_the_application_they_score(client, declared, staff):
    application = declared.panel.application
    client.force_login(declared.expert)
    pk = application.pk
    urls = [
        reverse("evaluation:staff_home"),
        reverse("evaluation:application", args=[pk]),
        reverse("evaluation:panel", args=[pk]),
        reverse("evaluation:preliminary", args=[pk]),
        reverse("evaluation:move", args=[pk, "close_expert_review"]),
        reverse("evaluation:comprehensive", args=[pk]),
        reverse("evaluation:summary", args=[pk]),
        reverse("evaluation:inspection", args=[pk]),
        reverse("evaluation:leadership"),
    ]
    for url in urls:
        assert client.get(url).status_code == 403, url
    # POSTs too: assigning themselves a colleague, or closing the panel, change nothing.
    friend = expert_with_profile()
    assert client.post(urls[2], {"experts": [str(friend.pk)]}).status_code == 403
    assert client.post(urls[4], {"close_expert_review-confirm": "on"}).status_code == 403
    assert not Assignment.objects.filter(expert=friend).exists()
    assert reload(application).status == Status.EXPERT_REVIEW


@pytest.mark.django_db
def test_an_expert_opens_only_the_inspection_they_lead(client, staff):
    leader = expert_with_profile(full_name="组长专家")
    outsider = expert_with_profile(full_name="其他专家")
    led = application_in("site_inspection", staff=staff)
    not_led = application_in("site_inspection", staff=staff)
    unopened = application_in("site_inspection", staff=staff)
    inspection.open_inspection(led, staff, leader=leader)
    inspection.open_inspection(not_led, staff, leader=staff)

    client.force_login(outsider)
    for application in (led, not_led, unopened):
        assert client.get(reverse("evaluation:inspection", args=[application.pk])).status_code == 403
    # Nor can they open the unopened one naming themselves leader.
    response = client.post(reverse("evaluation:inspection", args=[unopened.pk]), {"leader": str(outsider.pk)})
    assert response.status_code == 403
    assert not SiteInspection.objects.filter(application=unopened).exists()

    client.force_login(leader)
    assert client.get(reverse("evaluation:inspection", args=[led.pk])).status_code == 200
    assert client.get(reverse("evaluation:inspection", args=[not_led.pk])).status_code == 403


@pytest.mark.django_db
def test_my_assignments_lists_only_mine(client, staff):
    me = expert_with_profile(full_name="我")
    colleague = expert_with_profile(full_name="同事")
    a = application_in_expert_review(staff=staff, centre_name="重庆市甲创新中心")
    b = application_in_expert_review(staff=staff, centre_name="重庆市乙创新中心")
    c = application_in_expert_review(staff=staff, centre_name="重庆市丙创新中心")
    panel_with_experts(a, staff, experts=[me, colleague])
    panel_with_experts(b, staff, experts=[me])
    panel_with_experts(c, staff, experts=[colleague])

    client.force_login(me)
    response = client.get(reverse("evaluation:expert_home"))
    assert response.status_code == 200
    listed = list(response.context["page"].object_list)
    assert {x.expert_id for x in listed} == {me.pk}
    assert {x.panel.application.centre_name for x in listed} == {"重庆市甲创新中心", "重庆市乙创新中心"}
    body = response.content.decode()
    assert "重庆市丙创新中心" not in body
    # Staff and lead units have no such page.
    client.force_login(staff)
    assert client.get(reverse("evaluation:expert_home")).status_code == 403


@pytest.mark.django_db
def test_the_lead_unit_does_not_learn_who_sits_on_its_panel(client, staff):
    application = application_in_expert_review(staff=staff)
    experts = [expert_with_profile(full_name=f"保密专家{n}") for n in range(1, 6)]
    _panel, assignments = panel_with_experts(application, staff, experts=experts)
    panels.declare(assignments[0], assignments[0].expert, {**NO, "advised": True})
    client.force_login(application.created_by)
    response = client.get(reverse("applications:detail", args=[application.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "保密专家" not in body


@pytest.mark.django_db
def test_the_history_entries_of_the_panel_have_readable_labels(staff):
    application = application_in_expert_review(staff=staff)
    _panel, assignments = panel_with_experts(application, staff, size=5)
    panels.declare(assignments[0], assignments[0].expert, {**NO, "advised": True})
    codes = ["panel_created", "experts_assigned", "expert_withdrawn"]
    events = ApplicationEvent.objects.filter(application=application, action__in=codes)
    assert sorted(e.action for e in events) == sorted(codes)
    assert [e.action for e in events if e.action_label == e.action] == []


# --- 3. score bounds, unscored criteria, the lock -----------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "points,index",
    [
        ([20.5, 20, 15, 15, 10], 0),  # 建设基础与条件: max 20
        ([18, 25.5, 15, 15, 10], 1),  # 技术方向与目标: max 25
        ([18, 20, 15, 15, -0.5], 4),  # 牵头单位能力: below 0
        ([18, 20, 15, 15, 15.5], 4),  # 牵头单位能力: max 15
    ],
)
def test_save_sheet_refuses_points_outside_zero_to_max_and_saves_nothing(declared, points, index):
    panel = declared.panel
    name, maximum = DEFAULT_SHEET[index]
    with pytest.raises(ActionRefused) as refused:
        panels.save_sheet(declared, declared.expert, as_scores(panel, points), "草稿")
    assert refused.value.details == [f"“{name}”的得分应在0到{maximum:.1f}之间。"]
    assert scores_of(declared) == [None] * 5
    assert ScoreSheet.objects.get(assignment=declared).opinion == ""


@pytest.mark.django_db
def test_save_sheet_accepts_zero_and_exactly_the_maximum(declared):
    panel = declared.panel
    sheet = panels.save_sheet(
        declared, declared.expert, as_scores(panel, [20, 25, 0, 0, 15]), "", submit=True
    )
    assert scores_of(declared) == [20, 25, 0, 0, 15]
    assert sheet.total == Decimal(60)  # 20 + 25 + 0 + 0 + 15


@pytest.mark.django_db
def test_the_stored_total_is_the_sum_of_the_stored_points(declared):
    panel = declared.panel
    try:
        panels.save_sheet(
            declared, declared.expert, as_scores(panel, [12.25, 12.25, 0, 0, 0]), "", submit=True
        )
    except ActionRefused:
        return  # refusing points finer than 0.1 would be a fine fix
    sheet = ScoreSheet.objects.get(assignment=declared)
    assert sheet.total == sum(scores_of(declared))


@pytest.mark.django_db
def test_a_draft_may_leave_criteria_unscored_but_a_submission_may_not(declared):
    panel = declared.panel
    draft = panels.save_sheet(declared, declared.expert, as_scores(panel, [18, 20, None, 15, None]), "草稿")
    assert draft.total == Decimal(53)  # 18 + 20 + 15 so far
    assert Assignment.objects.get(pk=declared.pk).state == Assignment.State.DECLARED
    with pytest.raises(ActionRefused) as refused:
        panels.save_sheet(
            declared, declared.expert, as_scores(panel, [18, 20, None, 15, 12]), "定稿", submit=True
        )
    assert refused.value.details == ["“运营模式与机制”尚未评分。"]
    stored = Assignment.objects.get(pk=declared.pk)
    assert stored.state == Assignment.State.DECLARED
    assert stored.sheet.submitted_at is None
    assert scores_of(declared) == [18, 20, None, 15, None]  # the draft as it was


@pytest.mark.django_db
def test_a_submitted_sheet_cannot_be_changed_by_the_service(declared):
    panel = declared.panel
    panels.save_sheet(declared, declared.expert, as_scores(panel, [18, 22, 17, 16, 12]), "定稿", submit=True)
    for submit in (False, True):
        with pytest.raises(ActionRefused) as refused:
            panels.save_sheet(
                declared, declared.expert, as_scores(panel, [1, 1, 1, 1, 1]), "改", submit=submit
            )
        assert refused.value.message == "评分已提交，不能再修改。"
    sheet = ScoreSheet.objects.get(assignment=declared)
    assert scores_of(declared) == [18, 22, 17, 16, 12]
    assert (sheet.total, sheet.opinion) == (Decimal(85), "定稿")  # 18 + 22 + 17 + 16 + 12


@pytest.mark.django_db
def test_only_the_assigned_expert_may_save_the_sheet(declared):
    with pytest.raises(ActionRefused):
        panels.save_sheet(declared, expert_with_profile(), as_scores(declared.panel, [1, 1, 1, 1, 1]), "")
    assert scores_of(declared) == [None] * 5


def _sheet_post(panel, points, comments=None, opinion="", action="save", confirm=False) -> dict:
    data = {"opinion": opinion, action: "1"}
    comments = comments or [""] * len(points)
    for criterion, value, comment in zip(criteria_of(panel), points, comments, strict=True):
        data[f"points_{criterion.pk}"] = value
        data[f"comment_{criterion.pk}"] = comment
    if confirm:
        data["confirm_submit"] = "on"
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("bad", ["21", "-1", "20.5"])
def test_the_sheet_page_refuses_points_above_the_maximum_and_keeps_what_was_typed(client, declared, bad):
    panel = declared.panel
    client.force_login(declared.expert)
    url = reverse("evaluation:assignment", args=[declared.pk])
    data = _sheet_post(
        panel, [bad, "22", "17", "", "12"], ["基础扎实", "方向清晰", "", "", ""], "打字中的意见"
    )
    response = client.post(url, data)
    assert response.status_code == 200
    first = criteria_of(panel)[0]
    assert response.context["form"].errors.keys() == {f"points_{first.pk}"}
    body = response.content.decode()
    assert f'value="{bad}"' in body
    assert 'value="22"' in body
    assert "基础扎实" in body and "方向清晰" in body and "打字中的意见" in body
    assert scores_of(declared) == [None] * 5


@pytest.mark.django_db
def test_the_sheet_page_refuses_to_submit_with_an_unscored_criterion(client, declared):
    panel = declared.panel
    client.force_login(declared.expert)
    url = reverse("evaluation:assignment", args=[declared.pk])
    data = _sheet_post(panel, ["18", "22", "17", "16", ""], action="submit", confirm=True)
    response = client.post(url, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "“牵头单位能力”尚未评分。" in body
    assert 'value="16"' in body
    stored = Assignment.objects.get(pk=declared.pk)
    assert stored.state == Assignment.State.DECLARED
    assert scores_of(declared) == [None] * 5


@pytest.mark.django_db
def test_the_sheet_page_needs_the_confirmation_tick_to_submit(client, declared):
    panel = declared.panel
    client.force_login(declared.expert)
    url = reverse("evaluation:assignment", args=[declared.pk])
    response = client.post(url, _sheet_post(panel, ["18", "22", "17", "16", "12"], action="submit"))
    assert response.status_code == 200
    assert "提交前请勾选确认" in response.content.decode()
    assert Assignment.objects.get(pk=declared.pk).state == Assignment.State.DECLARED


@pytest.mark.django_db
def test_a_submitted_sheet_is_shown_locked_and_a_post_changes_nothing(client, declared):
    panel = declared.panel
    client.force_login(declared.expert)
    url = reverse("evaluation:assignment", args=[declared.pk])
    submitted = client.post(
        url, _sheet_post(panel, ["18", "22", "17", "16", "12"], opinion="定稿", action="submit", confirm=True)
    )
    assert submitted.status_code == 302
    sheet = ScoreSheet.objects.get(assignment=declared)
    before = (sheet.total, sheet.opinion, sheet.submitted_at, sheet.updated_at)
    assert before[0] == Decimal(85)  # 18 + 22 + 17 + 16 + 12

    page = client.get(url).content.decode()
    assert "已提交，已锁定" in page
    assert 'name="points_' not in page and 'name="submit"' not in page

    response = client.post(
        url, _sheet_post(panel, ["1", "1", "1", "1", "1"], opinion="改了", action="submit", confirm=True)
    )
    assert response.status_code == 200
    assert "已提交，已锁定" in response.content.decode()
    sheet.refresh_from_db()
    assert (sheet.total, sheet.opinion, sheet.submitted_at, sheet.updated_at) == before
    assert scores_of(declared) == [18, 22, 17, 16, 12]


# --- 4. the aggregate ---------------------------------------------------------------------------------------


def scored_panel(staff, sheets, *, aggregate="mean", extra_draft=False, extra_withdrawn=False):
    """A panel whose experts submitted ``sheets`` (points per criterion, or a total), under a policy version
    with ``aggregate``; optionally one more expert with a draft and one who withdrew (neither counts)."""
    application = application_in_expert_review(staff=staff)
    if aggregate != (application.policy.score_aggregate):
        application = stamp_policy(application, policy_version(score_aggregate=aggregate))
    size = len(sheets) + extra_draft + extra_withdrawn
    panel, assignments = panel_with_experts(application, staff, size=size)
    for assignment, sheet in zip(assignments, sheets, strict=False):
        if isinstance(sheet, list):
            submit_sheet(assignment, scores=sheet)
        else:
            submit_sheet(assignment, total=sheet)
    rest = assignments[len(sheets) :]
    if extra_draft:
        draft = declare_no_conflict(rest.pop(0))
        panels.save_sheet(draft, draft.expert, as_scores(panel, [0, 0, 0, 0, 0]), "草稿")
    if extra_withdrawn:
        withdrawn = rest.pop(0)
        panels.declare(withdrawn, withdrawn.expert, {**NO, "advised": True})
    return application, panel


# Five sheets whose totals are 70, 70, 80, 95, 95 (per criterion, max 20/25/20/20/15).
SPREAD = [
    [14, 18, 14, 14, 10],  # 70
    [15, 17, 14, 13, 11],  # 70
    [16, 20, 16, 16, 12],  # 80
    [19, 24, 19, 19, 14],  # 95
    [20, 23.5, 19, 18.5, 14],  # 95
]


@pytest.mark.django_db
def test_aggregate_mean_per_criterion_and_spread_by_hand(staff):
    _application, panel = scored_panel(
        staff, SPREAD, aggregate="mean", extra_draft=True, extra_withdrawn=True
    )
    result = panels.aggregate(panels.panel_for_view(panel.pk))
    # Only the five submitted sheets count (the draft of the sixth expert and the withdrawn seventh do not).
    assert result["count"] == 5
    # mean = (70 + 70 + 80 + 95 + 95) / 5 = 410 / 5 = 82.00
    assert result["mean"] == Decimal("82.00")
    assert result["used"] == Decimal("82.00")
    assert result["method"] == "mean"
    assert result["trimmed_mean"] is None
    assert (result["min"], result["max"]) == (Decimal(70), Decimal(95))
    # sample sd: deviations from 82: -12, -12, -2, 13, 13; squares 144 + 144 + 4 + 169 + 169 = 630;
    # 630 / (5 - 1) = 157.5; sqrt(157.5) = 12.5499… → 12.55
    assert result["stdev"] == Decimal("12.55")
    # per criterion: 14+15+16+19+20 = 84 → 16.80; 18+17+20+24+23.5 = 102.5 → 20.50;
    # 14+14+16+19+19 = 82 → 16.40; 14+13+16+19+18.5 = 80.5 → 16.10; 10+11+12+14+14 = 61 → 12.20
    assert [(c["name"], c["max_points"], c["mean"], c["min"], c["max"]) for c in result["criteria"]] == [
        ("建设基础与条件", Decimal(20), Decimal("16.80"), Decimal(14), Decimal(20)),
        ("技术方向与目标", Decimal(25), Decimal("20.50"), Decimal(17), Decimal(24)),
        ("运营模式与机制", Decimal(20), Decimal("16.40"), Decimal(14), Decimal(19)),
        ("预期成果与效益", Decimal(20), Decimal("16.10"), Decimal(13), Decimal(19)),
        ("牵头单位能力", Decimal(15), Decimal("12.20"), Decimal(10), Decimal(14)),
    ]


@pytest.mark.django_db
def test_trimmed_mean_drops_exactly_one_of_each_tied_extreme(staff):
    _application, panel = scored_panel(staff, SPREAD, aggregate="trimmed_mean")
    result = panels.aggregate(panels.panel_for_view(panel.pk))
    # 70, 70, 80, 95, 95: drop one 70 and one 95 → 70, 80, 95 → 245 / 3 = 81.666… → 81.67
    # (dropping every tied extreme would leave 80; the plain mean is 82.00)
    assert result["trimmed_mean"] == Decimal("81.67")
    assert result["used"] == Decimal("81.67")
    assert result["method"] == "trimmed_mean"
    assert result["mean"] == Decimal("82.00")


@pytest.mark.django_db
def test_trimmed_mean_of_the_domain_example_with_ties(staff):
    _application, panel = scored_panel(staff, [80, 80, 85, 90, 90], aggregate="trimmed_mean")
    result = panels.aggregate(panels.panel_for_view(panel.pk))
    # drop one 80 and one 90 → 80, 85, 90 → 255 / 3 = 85.00; mean 425 / 5 = 85.00
    assert result["trimmed_mean"] == Decimal("85.00")
    assert result["used"] == Decimal("85.00")
    # deviations -5, -5, 0, 5, 5 → 100 / 4 = 25 → sd 5.00
    assert result["stdev"] == Decimal("5.00")
    assert panels.trimmed([Decimal(80), Decimal(90), Decimal(85), Decimal(80), Decimal(90)]) == [80, 85, 90]


@pytest.mark.django_db
def test_trimmed_policy_with_fewer_than_five_sheets_uses_the_plain_mean(staff):
    _application, panel = scored_panel(staff, [60, 80, 85, 95], aggregate="trimmed_mean", extra_draft=True)
    result = panels.aggregate(panels.panel_for_view(panel.pk))
    assert result["count"] == 4
    # mean = (60 + 80 + 85 + 95) / 4 = 320 / 4 = 80.00 (trimmed would have been (80 + 85) / 2 = 82.50)
    assert result["mean"] == Decimal("80.00")
    assert result["trimmed_mean"] is None
    assert result["used"] == Decimal("80.00")
    assert result["method"] == "mean"


@pytest.mark.django_db
def test_mean_policy_with_five_sheets_does_not_trim(staff):
    _application, panel = scored_panel(staff, [60, 80, 80, 90, 90], aggregate="mean")
    result = panels.aggregate(panels.panel_for_view(panel.pk))
    # (60 + 80 + 80 + 90 + 90) / 5 = 400 / 5 = 80.00; trimming would give 250 / 3 = 83.33
    assert (result["used"], result["trimmed_mean"], result["method"]) == (Decimal("80.00"), None, "mean")


@pytest.mark.django_db
def test_aggregate_of_no_sheet_and_of_one_sheet(staff):
    _application, panel = scored_panel(staff, [], extra_draft=True)
    empty = panels.aggregate(panel)
    assert (empty["count"], empty["used"], empty["criteria"]) == (0, None, [])
    _application, panel = scored_panel(staff, [77.5])
    one = panels.aggregate(panel)
    assert (one["count"], one["used"], one["stdev"]) == (1, Decimal("77.50"), Decimal("0.00"))


@pytest.mark.django_db
def test_the_staff_panel_page_shows_the_aggregate_once_complete(client, staff):
    application, _panel = scored_panel(staff, SPREAD, aggregate="trimmed_mean")
    client.force_login(staff)
    response = client.get(reverse("evaluation:panel", args=[application.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert '<strong id="used-score">81.67</strong>' in body
    assert "12.55" in body  # the spread


# --- 5. the panel cannot close early ------------------------------------------------------------------------


def _closing_refused(application, staff, fragment):
    with pytest.raises(ActionRefused) as refused:
        workflow.close_expert_review(application, staff)
    assert any(fragment in d for d in refused.value.details), refused.value.details
    stored = reload(application)
    assert stored.status == Status.EXPERT_REVIEW
    assert Panel.objects.filter(application=application, closed_at__isnull=True).count() <= 1
    assert not Panel.objects.filter(application=application, closed_at__isnull=False).exists()
    return refused.value.details


@pytest.mark.django_db
def test_closing_is_refused_without_a_panel(staff):
    application = application_in_expert_review(staff=staff)
    _closing_refused(application, staff, "尚未组建专家论证组")


@pytest.mark.django_db
def test_closing_is_refused_while_an_expert_has_not_submitted(staff):
    application = application_in_expert_review(staff=staff)
    panel, assignments = panel_with_experts(application, staff, size=5)
    for assignment in assignments[:3]:
        submit_sheet(assignment, total=80)
    draft = declare_no_conflict(assignments[3])
    panels.save_sheet(draft, draft.expert, as_scores(panel, [18, 20, 15, 15, 12]), "草稿")
    # assignments[4] has not even declared
    details = _closing_refused(application, staff, "尚未提交评分")
    (detail,) = details
    prefix = "以下专家尚未提交评分："
    assert detail.startswith(prefix)
    assert set(detail.removeprefix(prefix).split("、")) == {
        str(assignments[3].expert),
        str(assignments[4].expert),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 4, 6])
def test_closing_is_refused_while_the_panel_is_even_or_too_small(staff, size):
    application = application_in_expert_review(staff=staff)
    assert application.policy.min_panel_size == 5
    _panel, assignments = panel_with_experts(application, staff, size=size)
    for assignment in assignments:
        submit_sheet(assignment, total=80)
    details = _closing_refused(application, staff, "专家组应为不少于5人的奇数")
    assert details == [f"有效专家{size}人，专家组应为不少于5人的奇数。"]


@pytest.mark.django_db
def test_withdrawn_experts_do_not_count_towards_the_panel(staff):
    application = application_in_expert_review(staff=staff)
    # 6 assigned, 1 withdraws, 5 submit: 5 active → may close.  5 assigned, 1 withdraws: 4 → refused.
    _panel, assignments = panel_with_experts(application, staff, size=5)
    panels.declare(assignments[0], assignments[0].expert, {**NO, "worked_for": True})
    for assignment in assignments[1:]:
        submit_sheet(assignment, total=80)
    assert _closing_refused(application, staff, "有效专家4人") == ["有效专家4人，专家组应为不少于5人的奇数。"]

    panel = Panel.objects.get(application=application)
    (replacement,) = panels.assign(panel, staff, [expert_with_profile()])
    submit_sheet(replacement, total=90)
    workflow.close_expert_review(application, staff)
    panel.refresh_from_db()
    # used = (80 + 80 + 80 + 80 + 90) / 5 = 410 / 5 = 82.00
    assert panel.result["count"] == 5 and panel.result["used"] == "82.00"


@pytest.mark.django_db
def test_the_policy_minimum_is_read_from_the_applications_policy_version(staff):
    application = application_in_expert_review(staff=staff)
    application = stamp_policy(application, policy_version(min_panel_size=7))
    _panel, assignments = panel_with_experts(application, staff, size=5)
    for assignment in assignments:
        submit_sheet(assignment, total=80)
    assert _closing_refused(application, staff, "不少于7人") == ["有效专家5人，专家组应为不少于7人的奇数。"]

    panel = Panel.objects.get(application=application)
    for assignment in panels.assign(panel, staff, [expert_with_profile(), expert_with_profile()]):
        submit_sheet(assignment, total=80)
    workflow.close_expert_review(application, staff)
    assert reload(application).status == Status.SITE_INSPECTION


@pytest.mark.django_db
def test_a_complete_panel_closes_storing_the_result_and_the_application_moves_on(staff):
    application = application_in_expert_review(staff=staff)
    panel, assignments = panel_with_experts(application, staff, size=5)
    for assignment, total in zip(assignments, [80, 80, 85, 90, 90], strict=True):
        submit_sheet(assignment, total=total)
    before = timezone.now()
    workflow.close_expert_review(application, staff)
    panel.refresh_from_db()
    assert before <= panel.closed_at <= timezone.now()
    # mean 425 / 5 = 85.00; sd 5.00 (see above); min 80, max 90
    assert panel.result == {
        "count": 5,
        "mean": "85.00",
        "trimmed_mean": None,
        "used": "85.00",
        "method": "mean",
        "min": "80.0",
        "max": "90.0",
        "stdev": "5.00",
    }
    assert reload(application).status == Status.SITE_INSPECTION
    event = ApplicationEvent.objects.filter(application=application).order_by("-pk").first()
    assert event.comment == "专家论证得分85.00。"
    # Closed: nobody can be added, and the panel page offers no assignment form.
    with pytest.raises(ActionRefused):
        panels.assign(panel, staff, [expert_with_profile()])


@pytest.mark.django_db
def test_closing_through_the_move_page_needs_the_confirmation(client, staff):
    application = application_in_expert_review(staff=staff)
    _panel, assignments = panel_with_experts(application, staff, size=5)
    for assignment in assignments:
        submit_sheet(assignment, total=80)
    client.force_login(staff)
    url = reverse("evaluation:move", args=[application.pk, "close_expert_review"])
    assert client.post(url, {}).status_code == 200
    assert reload(application).status == Status.EXPERT_REVIEW
    response = client.post(url, {"close_expert_review-confirm": "on"})
    assert response.status_code == 302
    assert reload(application).status == Status.SITE_INSPECTION


# --- 8. query counts stay flat ------------------------------------------------------------------------------

# Measured: session, user, roles, the paginator's count, the page of assignments (one join), unread
# notifications, and the session save (savepoint, update, release).
EXPERT_HOME_QUERIES = 9
# Measured: session, user, roles; the application with its 4 prefetched contents (5); the panel; the
# panel for the view with criteria, assignments and scores (4); the suggested experts; closing_problems'
# panel and assignments (2); unread notifications; the session save (3).
PANEL_PAGE_QUERIES = 20


def _count_queries(client, url) -> int:
    cache.clear()  # the uncached path: the page renders in full
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_my_assignments_takes_the_same_queries_for_1_and_for_20_assignments(client, staff):
    one, twenty = expert_with_profile(), expert_with_profile()
    for n in range(20):
        application = application_in_expert_review(staff=staff, centre_name=f"重庆市第{n}创新中心")
        experts = [twenty, one] if n == 0 else [twenty]
        _panel, assignments = panel_with_experts(application, staff, experts=experts)
        # a mix of states, so every branch of the row is drawn
        if n % 3 == 1:
            declare_no_conflict(assignments[0])
        elif n % 3 == 2:
            submit_sheet(assignments[0], total=80)
    url = reverse("evaluation:expert_home")
    client.force_login(one)
    assert len(client.get(url).context["page"].object_list) == 1  # also warms up what is cached
    first = _count_queries(client, url)
    client.force_login(twenty)
    assert len(client.get(url).context["page"].object_list) == 20
    second = _count_queries(client, url)
    assert first == second
    assert second <= EXPERT_HOME_QUERIES


def _complete_panel(staff, size) -> Application:
    application = application_in_expert_review(staff=staff)
    _panel, assignments = panel_with_experts(application, staff, size=size)
    for assignment in assignments:
        submit_sheet(assignment, total=80)
    return application


@pytest.mark.django_db
def test_the_panel_page_takes_the_same_queries_for_5_and_for_15_experts(client, staff):
    small = _complete_panel(staff, 5)
    large = _complete_panel(staff, 15)
    for _ in range(3):
        expert_with_profile()  # a pool to suggest from
    client.force_login(staff)
    assert client.get(reverse("evaluation:panel", args=[small.pk])).context["aggregate"]["count"] == 5
    first = _count_queries(client, reverse("evaluation:panel", args=[small.pk]))
    assert client.get(reverse("evaluation:panel", args=[large.pk])).context["aggregate"]["count"] == 15
    second = _count_queries(client, reverse("evaluation:panel", args=[large.pk]))
    assert first == second
    assert second <= PANEL_PAGE_QUERIES


# --- 9. reminders -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_remind_experts_once_within_48_hours_of_the_deadline(staff):
    soon_app = application_in_expert_review(staff=staff, centre_name="重庆市临近截止创新中心")
    later_app = application_in_expert_review(staff=staff, centre_name="重庆市尚早创新中心")
    _soon, (assigned, scoring, submitted, withdrawn, fifth) = panel_with_experts(
        soon_app, staff, size=5, deadline=timezone.now() + timedelta(hours=47)
    )
    _later, (far,) = panel_with_experts(
        later_app, staff, experts=[expert_with_profile()], deadline=timezone.now() + timedelta(hours=49)
    )
    declare_no_conflict(scoring)
    submit_sheet(submitted, total=80)
    panels.declare(withdrawn, withdrawn.expert, {**NO, "legal_dispute": True})
    Notification.objects.all().delete()

    # 待回避声明 (assigned, fifth) and 评分中 (scoring): reminded; submitted, withdrawn, far: not.
    assert remind_experts() == 3
    reminded = Notification.objects.filter(subject__contains="评分即将截止")
    assert sorted(n.recipient_id for n in reminded) == sorted(
        [assigned.expert_id, scoring.expert_id, fifth.expert_id]
    )
    note = reminded.get(recipient=scoring.expert)
    assert "重庆市临近截止创新中心" in note.subject
    assert note.link == reverse("evaluation:assignment", args=[scoring.pk])
    assert Assignment.objects.get(pk=scoring.pk).reminded_at is not None

    assert remind_experts() == 0
    assert Notification.objects.count() == 3
    assert not Notification.objects.filter(
        recipient__in=[submitted.expert, withdrawn.expert, far.expert]
    ).exists()


@pytest.mark.django_db
def test_no_reminder_after_the_deadline_has_passed(staff):
    application = application_in_expert_review(staff=staff)
    panel, _assignments = panel_with_experts(application, staff, size=5)
    Panel.objects.filter(pk=panel.pk).update(deadline=timezone.now() - timedelta(minutes=1))
    Notification.objects.all().delete()
    assert remind_experts() == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_no_reminder_to_score_an_application_already_rejected(staff):
    application = application_in_expert_review(staff=staff)
    _panel, _assignments = panel_with_experts(
        application, staff, size=5, deadline=timezone.now() + timedelta(hours=24)
    )
    workflow.reject(application, staff, "测试：不予认定")
    Notification.objects.all().delete()
    assert remind_experts() == 0

"""The review workflow: who may make each move and from which state, the preconditions of each move, the
history, concurrent moves, e-mail only after commit, and the 委主任办公会 batch."""

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from applications import services
from applications.editor import STEPS
from applications.models import (
    Application,
    ApplicationEvent,
    ApplicationVersion,
    Attachment,
    Outcome,
    Status,
)
from applications.services import ActionRefused
from evaluation import workflow
from evaluation.models import LeadershipDecision, LeadershipMeeting, PreliminaryCheck
from tests.factories import (
    PDF_BYTES,
    UserFactory,
    all_checklist_items,
    application_in,
    complete_expert_review,
    complete_site_inspection,
    record_comprehensive_evaluation,
    user_with_role,
)

IP = "203.0.113.9"
TYPED = "测试意见：请核对研发人员口径"


def reload(application) -> Application:
    return Application.objects.get(pk=application.pk)


def state(application) -> dict:
    """Everything a move may change, read from the database."""
    row = Application.objects.filter(pk=application.pk).values(
        "status", "outcome", "revision", "updated_at", "stage_entered_at", "submitted_at", "eligibility"
    )[0]
    check = PreliminaryCheck.objects.filter(application_id=application.pk).values_list("ticked", flat=True)
    return {
        **row,
        "events": list(
            ApplicationEvent.objects.filter(application_id=application.pk)
            .order_by("pk")
            .values_list("pk", "action", "from_status", "to_status", "actor_id", "comment")
        ),
        "versions": ApplicationVersion.objects.filter(application_id=application.pk).count(),
        "notifications": Notification.objects.count(),
        "checklist": list(check),
        "meetings": LeadershipMeeting.objects.count(),
        "decisions": LeadershipDecision.objects.count(),
    }


def new_events(application, before: dict) -> list[ApplicationEvent]:
    known = {row[0] for row in before["events"]}
    return list(
        ApplicationEvent.objects.filter(application_id=application.pk).exclude(pk__in=known).order_by("pk")
    )


# --- the lifecycle as a table: every move, its source state(s), target, and who may make it ------------


@dataclass(frozen=True)
class Move:
    name: str  # the transition, and the action recorded in the history
    source: str
    target: str
    by: str  # Role.LEAD_UNIT or Role.COMMISSION_STAFF
    perform: Callable
    comment: str = ""  # a pattern the history's comment must match in full
    prepare: Callable | None = None  # what the move needs besides the state (staff's work of the stage)

    @property
    def id(self):
        return f"{self.name}-from-{self.source}"


LIFECYCLE = [
    Move("submit", Status.DRAFT, Status.SUBMITTED, Role.LEAD_UNIT, lambda a, u: services.submit(a, u, ip=IP)),
    Move(
        "resubmit",
        Status.RETURNED,
        Status.SUBMITTED,
        Role.LEAD_UNIT,
        lambda a, u: services.submit(a, u, ip=IP),
    ),
    *[
        Move(
            "withdraw",
            source,
            Status.WITHDRAWN,
            Role.LEAD_UNIT,
            lambda a, u: services.withdraw(a, u, reason="测试撤回", ip=IP),
            comment=re.escape("测试撤回"),
        )
        for source in (Status.DRAFT, Status.SUBMITTED, Status.RETURNED)
    ],
    Move(
        "start_preliminary",
        Status.SUBMITTED,
        Status.PRELIMINARY,
        Role.COMMISSION_STAFF,
        lambda a, u: workflow.start_preliminary(a, u, ip=IP),
    ),
    Move(
        "pass_preliminary",
        Status.PRELIMINARY,
        Status.EXPERT_REVIEW,
        Role.COMMISSION_STAFF,
        lambda a, u: workflow.pass_preliminary(a, u, all_checklist_items(), "材料齐全", ip=IP),
        comment=re.escape("材料齐全"),
    ),
    Move(
        "return_for_amendment",
        Status.PRELIMINARY,
        Status.RETURNED,
        Role.COMMISSION_STAFF,
        lambda a, u: workflow.return_for_amendment(a, u, "请补充", {"figures": "核对研发人员"}, ip=IP),
        comment=re.escape("请补充"),
    ),
    Move(
        "reject",
        Status.PRELIMINARY,
        Status.REJECTED,
        Role.COMMISSION_STAFF,
        lambda a, u: workflow.reject(a, u, "领域已有中心", ip=IP),
        comment=re.escape("领域已有中心"),
    ),
    Move(
        "close_expert_review",
        Status.EXPERT_REVIEW,
        Status.SITE_INSPECTION,
        Role.COMMISSION_STAFF,
        lambda a, u: workflow.close_expert_review(a, u, ip=IP),
        comment=r"专家论证得分[0-9.]+。",
        prepare=lambda a: complete_expert_review(a, user_with_role(Role.COMMISSION_STAFF)),
    ),
    Move(
        "close_site_inspection",
        Status.SITE_INSPECTION,
        Status.COMPREHENSIVE,
        Role.COMMISSION_STAFF,
        lambda a, u: workflow.close_site_inspection(a, u, ip=IP),
        prepare=lambda a: complete_site_inspection(a, user_with_role(Role.COMMISSION_STAFF)),
    ),
    Move(
        "propose",
        Status.COMPREHENSIVE,
        Status.LEADERSHIP,
        Role.COMMISSION_STAFF,
        lambda a, u: workflow.propose(a, u, Outcome.PILOT, "综合评分75分", ip=IP),
        comment=re.escape("培育试点。综合评分75分"),
        prepare=lambda a: record_comprehensive_evaluation(a, user_with_role(Role.COMMISSION_STAFF), "pilot"),
    ),
]
LIFECYCLE_BY_NAME = {m.name: m for m in LIFECYCLE}  # withdraw: the last source, enough for a perform()

OTHER_LEAD_UNIT = "lead_unit_of_another_organisation"
NO_ROLE = "no_role"
ACTORS = [*Role, OTHER_LEAD_UNIT, NO_ROLE]


def make_actor(actor, application):
    if actor == Role.LEAD_UNIT:  # a colleague of the author, of the same organisation
        return user_with_role(Role.LEAD_UNIT, organisation=application.lead_unit)
    if actor == OTHER_LEAD_UNIT:
        user = user_with_role(Role.LEAD_UNIT)
        assert user.organisation_id != application.lead_unit_id
        return user
    if actor == NO_ROLE:
        return UserFactory()
    return user_with_role(actor)


def test_the_table_covers_every_move_of_the_lifecycle():
    """The lead unit's moves, every staff move offered on the move page (evaluation.workflow.MOVES) and
    propose; each is a transition declared on Application. (send_back_to_comprehensive happens only in
    the leadership batch, tested below; the publicity transitions have no service yet.)"""
    declared = {t.name for t in Application._meta.get_field("status").get_all_transitions(Application)}
    table = {m.name for m in LIFECYCLE}
    assert table <= declared
    assert {"submit", "resubmit", "withdraw", "propose", *workflow.MOVES} <= table


@pytest.mark.django_db
@pytest.mark.parametrize("actor", ACTORS, ids=str)
@pytest.mark.parametrize("move", LIFECYCLE, ids=lambda m: m.id)
def test_who_may_make_each_move(move, actor):
    application = application_in(move.source)
    if move.prepare:
        move.prepare(application)
    user = make_actor(actor, application)
    before = state(application)

    if actor == move.by:
        started = timezone.now()
        move.perform(application, user)
        after = reload(application)
        assert after.status == move.target
        [event] = new_events(application, before)
        assert event.action == move.name
        assert (event.from_status, event.to_status) == (move.source, move.target)
        assert event.actor == user
        assert event.ip_address == IP
        assert re.fullmatch(move.comment, event.comment), event.comment
        assert after.stage_entered_at >= started
    else:
        with pytest.raises(ActionRefused) as refused:
            move.perform(application, user)
        assert "没有权限" in refused.value.message
        assert state(application) == before


# --- a move from the wrong state is refused, naming the current stage ------------------------------------

WRONG_STATE = [
    ("submit", Status.SUBMITTED),
    ("submit", Status.PRELIMINARY),
    ("submit", Status.REJECTED),
    ("withdraw", Status.PRELIMINARY),
    ("withdraw", Status.EXPERT_REVIEW),
    ("withdraw", Status.COMPREHENSIVE),
    ("withdraw", Status.LEADERSHIP),
    ("withdraw", Status.REJECTED),
    ("withdraw", Status.WITHDRAWN),
    ("start_preliminary", Status.DRAFT),
    ("start_preliminary", Status.PRELIMINARY),
    ("start_preliminary", Status.RETURNED),
    ("pass_preliminary", Status.SUBMITTED),
    ("pass_preliminary", Status.EXPERT_REVIEW),
    ("return_for_amendment", Status.SUBMITTED),
    ("return_for_amendment", Status.COMPREHENSIVE),
    ("reject", Status.DRAFT),
    ("reject", Status.SUBMITTED),
    ("reject", Status.RETURNED),
    ("reject", Status.REJECTED),
    ("reject", Status.WITHDRAWN),
    ("close_expert_review", Status.PRELIMINARY),
    ("close_expert_review", Status.SITE_INSPECTION),
    ("close_site_inspection", Status.EXPERT_REVIEW),
    ("propose", Status.SITE_INSPECTION),
    ("propose", Status.LEADERSHIP),
]


def entitled(move: Move, application):
    if move.by == Role.LEAD_UNIT:
        return application.created_by
    return user_with_role(Role.COMMISSION_STAFF)


@pytest.mark.django_db
@pytest.mark.parametrize("name,status", WRONG_STATE, ids=[f"{n}-on-{s}" for n, s in WRONG_STATE])
def test_a_move_from_the_wrong_state_is_refused_naming_the_stage(name, status):
    move = LIFECYCLE_BY_NAME[name]
    application = application_in(status)
    user = entitled(move, application)
    before = state(application)
    with pytest.raises(ActionRefused) as refused:
        move.perform(application, user)
    assert f"“{Status(status).label}”阶段" in refused.value.message
    assert state(application) == before


def _move_post(name):
    data = {f"{name}-comment": TYPED, f"{name}-confirm": "on"}
    if name == "pass_preliminary":
        data[f"{name}-ticked"] = all_checklist_items()
    if name == "propose":
        data[f"{name}-outcome"] = Outcome.RECOGNISE
    return data


def _textarea(body: str, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', body, re.S)
    assert match, f"no textarea {name}"
    return match.group(1).strip()


PAGE_WRONG_STATE = [(n, s) for n, s in WRONG_STATE if n in workflow.MOVES and s != Status.DRAFT]


@pytest.mark.django_db
@pytest.mark.parametrize("name,status", PAGE_WRONG_STATE, ids=[f"{n}-on-{s}" for n, s in PAGE_WRONG_STATE])
def test_the_move_page_shows_the_refusal_and_keeps_the_typed_comment(client, name, status):
    application = application_in(status)
    staff = user_with_role(Role.COMMISSION_STAFF)
    client.force_login(staff)
    before = state(application)
    response = client.post(reverse("evaluation:move", args=[application.pk, name]), _move_post(name))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"该申报当前处于“{Status(status).label}”阶段" in body
    assert 'class="alert alert-danger"' in body
    assert _textarea(body, f"{name}-comment") == TYPED
    assert state(application) == before


@pytest.mark.django_db
def test_the_move_page_needs_the_confirmation_and_keeps_what_was_typed(client):
    application = application_in(Status.PRELIMINARY)
    client.force_login(user_with_role(Role.COMMISSION_STAFF))
    before = state(application)
    response = client.post(
        reverse("evaluation:move", args=[application.pk, "reject"]), {"reject-comment": TYPED}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="error-summary"' in body
    assert _textarea(body, "reject-comment") == TYPED
    assert state(application) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status,expected",
    [
        (Status.SUBMITTED, {"start_preliminary"}),
        (Status.PRELIMINARY, {"pass_preliminary", "return_for_amendment", "reject"}),
        (Status.EXPERT_REVIEW, {"close_expert_review", "reject"}),
        (Status.SITE_INSPECTION, {"close_site_inspection", "reject"}),
    ],
)
def test_staff_page_offers_exactly_the_moves_possible_now(client, status, expected):
    application = application_in(status)
    client.force_login(user_with_role(Role.COMMISSION_STAFF))
    body = client.get(reverse("evaluation:application", args=[application.pk])).content.decode()
    offered = set(re.findall(rf"/review/applications/{application.pk}/move/([a-z_]+)/", body))
    assert offered == expected


@pytest.mark.django_db
def test_a_successful_move_through_the_page_redirects_and_records_it(client):
    application = application_in(Status.SUBMITTED)
    staff = user_with_role(Role.COMMISSION_STAFF)
    client.force_login(staff)
    response = client.post(
        reverse("evaluation:move", args=[application.pk, "start_preliminary"]),
        _move_post("start_preliminary"),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("evaluation:application", args=[application.pk])
    assert "已办理：受理并开始初审。" in response.content.decode()
    assert reload(application).status == Status.PRELIMINARY
    event = application.events.order_by("-pk").first()
    assert (event.action, event.actor, event.ip_address) == ("start_preliminary", staff, "127.0.0.1")


@pytest.mark.django_db
def test_an_unknown_move_name_is_not_found(client):
    application = application_in(Status.SUBMITTED)
    client.force_login(user_with_role(Role.COMMISSION_STAFF))
    for name in ("send_back_to_comprehensive", "submit", "withdraw", "nonsense"):
        url = reverse("evaluation:move", args=[application.pk, name])
        assert client.post(url, _move_post(name)).status_code == 404
    assert reload(application).status == Status.SUBMITTED


# --- preconditions ---------------------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [Attachment.Kind.PLAN, Attachment.Kind.AUDIT])
def test_pass_preliminary_is_refused_while_a_required_attachment_is_missing(staff, kind):
    application = application_in(Status.PRELIMINARY, staff=staff)
    Attachment.objects.filter(application=application, kind=kind).delete()
    before = state(application)
    with pytest.raises(ActionRefused) as refused:
        workflow.pass_preliminary(application, staff, all_checklist_items(), ip=IP)
    assert "缺少必传附件" in refused.value.message
    assert refused.value.details == [str(Attachment.Kind(kind).label)]
    after = state(application)
    assert after.pop("checklist") == [all_checklist_items()]  # the ticks are kept for the next try
    before.pop("checklist")
    assert after == before


@pytest.mark.django_db
def test_pass_preliminary_is_refused_while_an_item_is_unticked_and_keeps_the_ticked_ones(staff):
    application = application_in(Status.PRELIMINARY, staff=staff)
    ticked = [item for item in all_checklist_items() if item != PreliminaryCheck.Item.AUDIT]
    before = state(application)
    with pytest.raises(ActionRefused) as refused:
        workflow.pass_preliminary(application, staff, ticked, ip=IP)
    assert "未核对" in refused.value.message
    assert refused.value.details == [str(PreliminaryCheck.Item.AUDIT.label)]
    after = state(application)
    assert after["status"] == Status.PRELIMINARY
    assert after["events"] == before["events"]
    assert after["notifications"] == before["notifications"]
    check = PreliminaryCheck.objects.get(application=application)
    assert sorted(check.ticked) == sorted(ticked)
    assert check.checked_by == staff

    # Ticking the last one lets it through.
    workflow.pass_preliminary(application, staff, all_checklist_items(), ip=IP)
    assert reload(application).status == Status.EXPERT_REVIEW
    assert sorted(PreliminaryCheck.objects.get(application=application).ticked) == sorted(
        all_checklist_items()
    )


@pytest.mark.django_db
def test_unknown_checklist_items_are_ignored(staff):
    application = application_in(Status.PRELIMINARY, staff=staff)
    with pytest.raises(ActionRefused):
        workflow.pass_preliminary(application, staff, ["plan", "made-up"], ip=IP)
    assert PreliminaryCheck.objects.get(application=application).ticked == ["plan"]


@pytest.mark.django_db
def test_the_preliminary_page_keeps_the_ticked_items_after_a_refusal(client, staff):
    application = application_in(Status.PRELIMINARY, staff=staff)
    client.force_login(staff)
    response = client.post(
        reverse("evaluation:move", args=[application.pk, "pass_preliminary"]),
        {
            "pass_preliminary-ticked": ["plan", "licence"],
            "pass_preliminary-comment": TYPED,
            "pass_preliminary-confirm": "on",
        },
    )
    assert response.status_code == 200
    assert "初审核对表还有未核对的项目" in response.content.decode()
    assert reload(application).status == Status.PRELIMINARY
    body = client.get(reverse("evaluation:preliminary", args=[application.pk])).content.decode()
    checked = set(
        re.findall(r'<input[^>]*name="pass_preliminary-ticked"[^>]*value="(\w+)"[^>]*checked', body)
    )
    assert checked == {"plan", "licence"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "comment,sections",
    [("", {}), ("   \n", {}), ("", {"figures": "   ", "plan": ""}), ("  ", None)],
    ids=["nothing", "blank", "blank-sections", "none"],
)
def test_return_for_amendment_needs_a_comment(staff, comment, sections):
    application = application_in(Status.PRELIMINARY, staff=staff)
    before = state(application)
    with pytest.raises(ActionRefused, match="修改意见"):
        workflow.return_for_amendment(application, staff, comment, sections, ip=IP)
    assert state(application) == before


@pytest.mark.django_db
def test_return_for_amendment_with_only_a_section_comment(staff):
    application = application_in(Status.PRELIMINARY, staff=staff)
    workflow.return_for_amendment(application, staff, "", {"figures": " 核对研发人员 ", "plan": "  "}, ip=IP)
    assert reload(application).status == Status.RETURNED
    event = application.events.order_by("-pk").first()
    assert event.section_comments == {"figures": "核对研发人员"}
    assert event.labelled_section_comments == {"投入与人员": "核对研发人员"}


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "  \n "])
def test_reject_needs_a_reason(staff, reason):
    application = application_in(Status.PRELIMINARY, staff=staff)
    before = state(application)
    with pytest.raises(ActionRefused, match="理由"):
        workflow.reject(application, staff, reason, ip=IP)
    assert state(application) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status",
    [
        Status.PRELIMINARY,
        Status.EXPERT_REVIEW,
        Status.SITE_INSPECTION,
        Status.COMPREHENSIVE,
        Status.LEADERSHIP,
    ],
)
def test_staff_may_reject_at_every_review_stage(staff, status):
    application = application_in(status, staff=staff)
    workflow.reject(application, staff, "不符合布局", ip=IP)
    assert reload(application).status == Status.REJECTED
    event = application.events.order_by("-pk").first()
    assert (event.action, event.from_status, event.to_status, event.comment) == (
        "reject",
        status,
        Status.REJECTED,
        "不符合布局",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("outcome", ["", "reject", "recognize", None])
def test_propose_needs_a_valid_outcome(staff, outcome):
    application = application_in(Status.COMPREHENSIVE, staff=staff)
    record_comprehensive_evaluation(application, staff, Outcome.RECOGNISE)
    before = state(application)
    with pytest.raises(ActionRefused, match="拟认定或培育试点"):
        workflow.propose(application, staff, outcome, ip=IP)
    assert state(application) == before
    assert reload(application).outcome == ""


@pytest.mark.django_db
def test_propose_needs_the_comprehensive_conclusion_and_must_agree_with_it(staff):
    application = application_in(Status.COMPREHENSIVE, staff=staff)
    before = state(application)
    with pytest.raises(ActionRefused, match="综合评估"):
        workflow.propose(application, staff, Outcome.RECOGNISE, ip=IP)
    assert state(application) == before
    record_comprehensive_evaluation(application, staff, Outcome.PILOT)
    with pytest.raises(ActionRefused, match="一致"):
        workflow.propose(application, staff, Outcome.RECOGNISE, ip=IP)
    assert state(application) == before


@pytest.mark.django_db
@pytest.mark.parametrize("outcome", list(Outcome))
def test_propose_stores_the_outcome(staff, outcome):
    application = application_in(Status.COMPREHENSIVE, staff=staff)
    record_comprehensive_evaluation(application, staff, outcome)
    workflow.propose(application, staff, outcome, "综合评分达标", ip=IP)
    application = reload(application)
    assert (application.status, application.outcome) == (Status.LEADERSHIP, outcome)
    event = application.events.order_by("-pk").first()
    assert (event.action, event.from_status, event.to_status) == (
        "propose",
        Status.COMPREHENSIVE,
        Status.LEADERSHIP,
    )
    assert event.comment == f"{outcome.label}。综合评分达标"


# --- two staff at the same time --------------------------------------------------------------------------


def _start_jobs(jobs):
    """Run each job (a callable) in a thread of its own (own database connection), all released together
    by a barrier. ``results[i]`` becomes "ok" or the exception the job raised."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(i, job):
        try:
            barrier.wait(timeout=10)
            job()
            results[i] = "ok"
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    return threads, results


def _start_movers(pk, users, name="start_preliminary"):
    """Each user makes move ``name`` on ``pk`` (a fresh copy) in a thread of its own, released together."""
    return _start_jobs(
        [lambda u=user: workflow.MOVES[name](Application.objects.get(pk=pk), u) for user in users]
    )


def _join(threads):
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a thread hung"


def _wait_for_blocked_backends(count, timeout=15):
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.02)
    pytest.fail(f"{count} threads never reached the application's row lock")


def _assert_exactly_one_start(application, results, users):
    assert results.count("ok") == 1, results
    [loser] = [r for r in results if r != "ok"]
    assert isinstance(loser, ActionRefused), loser
    winner = users[results.index("ok")]
    assert reload(application).status == Status.PRELIMINARY
    [event] = ApplicationEvent.objects.filter(application_id=application.pk, action="start_preliminary")
    assert event.actor == winner
    assert (
        ApplicationEvent.objects.filter(application_id=application.pk, to_status=Status.PRELIMINARY).count()
        == 1
    )
    return winner, loser


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_staff_starting_the_review_at_once_make_one_move_and_the_loser_is_told_who():
    """Both threads pass the state check before either writes (the test holds the application's row
    until both wait for it), so the second save meets django-fsm's ConcurrentTransition, which must turn
    into a refusal naming who moved the application."""
    application = application_in(Status.SUBMITTED)
    users = [user_with_role(Role.COMMISSION_STAFF), user_with_role(Role.COMMISSION_STAFF)]
    notes = Notification.objects.count()

    with transaction.atomic():
        Application.objects.select_for_update().get(pk=application.pk)
        threads, results = _start_movers(application.pk, users)
        _wait_for_blocked_backends(2)
    _join(threads)

    winner, loser = _assert_exactly_one_start(application, results, users)
    assert "已由" in loser.message
    assert str(winner) in loser.message
    assert str(Status.PRELIMINARY.label) in loser.message
    # Only the winner told the lead unit (its one user).
    assert Notification.objects.count() == notes + 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_staff_racing_freely_make_one_move():
    """Released together without help: whichever way the race goes, one move and a clear refusal."""
    application = application_in(Status.SUBMITTED)
    users = [user_with_role(Role.COMMISSION_STAFF), user_with_role(Role.COMMISSION_STAFF)]
    threads, results = _start_movers(application.pk, users)
    _join(threads)
    _winner, loser = _assert_exactly_one_start(application, results, users)
    # Either the loser met the moved row ("已由…办理") or it read the new state first (names the stage).
    assert "已由" in loser.message or f"“{Status.PRELIMINARY.label}”阶段" in loser.message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_pass_and_return_at_once_make_one_move_and_the_loser_is_told_who():
    """Two different moves out of 材料初审 at the same moment: one wins, the other is refused by name."""
    application = application_in(Status.PRELIMINARY)
    passer, returner = user_with_role(Role.COMMISSION_STAFF), user_with_role(Role.COMMISSION_STAFF)
    pk = application.pk
    jobs = [
        lambda: workflow.pass_preliminary(Application.objects.get(pk=pk), passer, all_checklist_items()),
        lambda: workflow.return_for_amendment(Application.objects.get(pk=pk), returner, "请补充", {}),
    ]
    with transaction.atomic():
        Application.objects.select_for_update().get(pk=pk)
        threads, results = _start_jobs(jobs)
        _wait_for_blocked_backends(2)
    _join(threads)

    assert results.count("ok") == 1, results
    [loser] = [r for r in results if r != "ok"]
    assert isinstance(loser, ActionRefused), loser
    winner = passer if results[0] == "ok" else returner
    status = Status.EXPERT_REVIEW if winner == passer else Status.RETURNED
    assert reload(application).status == status
    moves = ApplicationEvent.objects.filter(application_id=pk, from_status=Status.PRELIMINARY)
    assert [(e.actor, e.to_status) for e in moves] == [(winner, status)]
    assert "已由" in loser.message and str(winner) in loser.message


# --- the history cannot be edited or deleted -------------------------------------------------------------


def _history(application) -> list:
    return list(
        ApplicationEvent.objects.filter(application_id=application.pk)
        .order_by("pk")
        .values_list(
            "pk",
            "action",
            "from_status",
            "to_status",
            "actor_id",
            "comment",
            "section_comments",
            "ip_address",
            "created_at",
        )
    )


@pytest.fixture
def admin_staff(db):
    return user_with_role(Role.COMMISSION_STAFF, is_staff=True)


@pytest.mark.django_db
def test_the_admin_shows_the_history_but_cannot_change_it(client, admin_staff):
    application = application_in(Status.PRELIMINARY)
    history = _history(application)
    event = application.events.order_by("pk").first()
    client.force_login(admin_staff)

    changelist = reverse("admin:applications_applicationevent_changelist")
    response = client.get(changelist)
    assert response.status_code == 200
    assert 'value="delete_selected"' not in response.content.decode()

    change = reverse("admin:applications_applicationevent_change", args=[event.pk])
    response = client.get(change)
    assert response.status_code in (200, 403)
    if response.status_code == 200:  # read-only view
        assert 'name="_save"' not in response.content.decode()
        assert 'name="comment"' not in response.content.decode()
    response = client.post(
        change,
        {
            "action": "withdraw",
            "comment": "改写历史",
            "from_status": "draft",
            "to_status": "withdrawn",
            "created_at_0": "2020-01-01",
            "created_at_1": "00:00:00",
            "_save": "保存",
        },
    )
    assert response.status_code == 403
    assert _history(application) == history


@pytest.mark.django_db
def test_the_admin_cannot_delete_history_or_add_to_it(client, admin_staff):
    application = application_in(Status.PRELIMINARY)
    history = _history(application)
    event = application.events.order_by("pk").first()
    client.force_login(admin_staff)

    delete = reverse("admin:applications_applicationevent_delete", args=[event.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403

    changelist = reverse("admin:applications_applicationevent_changelist")
    response = client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": [e[0] for e in history], "post": "yes"},
    )
    assert response.status_code in (200, 302, 403)
    assert _history(application) == history

    assert client.get(reverse("admin:applications_applicationevent_add")).status_code == 403
    assert client.post(reverse("admin:applications_applicationevent_add"), {"action": "x"}).status_code == 403
    assert _history(application) == history


@pytest.mark.django_db
def test_the_application_admin_cannot_change_the_history_through_its_inline(client, admin_staff):
    application = application_in(Status.PRELIMINARY)
    history = _history(application)
    client.force_login(admin_staff)
    url = reverse("admin:applications_application_change", args=[application.pk])
    assert client.get(url).status_code == 200
    ids = [e[0] for e in history]
    data = {
        "events-TOTAL_FORMS": str(len(ids)),
        "events-INITIAL_FORMS": str(len(ids)),
        **{f"events-{i}-id": str(pk) for i, pk in enumerate(ids)},
        **{f"events-{i}-comment": "改写历史" for i in range(len(ids))},
        **{f"events-{i}-DELETE": "on" for i in range(len(ids))},
        "_save": "保存",
    }
    assert client.post(url, data).status_code == 403
    assert (
        client.post(
            reverse("admin:applications_application_delete", args=[application.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert _history(application) == history
    assert reload(application).status == Status.PRELIMINARY


def _portal_urls(application, attachment):
    """Every URL of the portal outside the admin, with its arguments filled in for ``application``."""
    values = {
        "pk": [application.pk],
        "attachment_pk": [attachment.pk],
        "step": [s.slug for s in STEPS],
        "name": list(workflow.MOVES),
        "uidb64": ["MQ"],
        "token": ["set-password"],
    }

    def walk(patterns, namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "admin" or p.app_name == "admin":
                    continue
                ns = f"{namespace}{p.namespace}:" if p.namespace else namespace
                yield from walk(p.url_patterns, ns)
            elif isinstance(p, URLPattern) and p.name:
                yield f"{namespace}{p.name}", list(p.pattern.converters)

    for name, params in walk(get_resolver().url_patterns):
        combos = [{}]
        for param in params:
            combos = [{**c, param: v} for c in combos for v in values.get(param, [1])]
        for kwargs in combos:
            yield name, reverse(name, kwargs=kwargs)


@pytest.mark.django_db
def test_no_portal_url_changes_or_deletes_the_history(client):
    application = application_in(Status.PRELIMINARY)
    lead = application.created_by
    attachment = application.attachments.first()
    history = _history(application)
    urls = list(_portal_urls(application, attachment))
    names = {name for name, _url in urls}
    assert not [n for n in names if "event" in n or "history" in n]
    assert "evaluation:move" in names  # the walk found the review URLs

    tampering = {
        "comment": "改写历史",
        "action": "withdraw",
        "event": str(history[0][0]),
        "delete": "on",
        "confirm": "on",
    }
    for user in (lead, user_with_role(Role.COMMISSION_STAFF, is_staff=True)):
        for _name, url in urls:
            client.force_login(user)
            client.get(url)
            client.force_login(user)
            client.post(url, tampering)
            # New entries may be appended by a legitimate move; the existing ones never change.
            assert _history(application)[: len(history)] == history, url
    assert ApplicationEvent.objects.filter(pk__in=[e[0] for e in history]).count() == len(history)


# --- e-mail only after commit ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_rolled_back_move_writes_no_notification_and_sends_no_mail(
    staff, mailoutbox, django_capture_on_commit_callbacks
):
    application = application_in(Status.SUBMITTED)
    mailoutbox.clear()
    before = state(application)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        workflow.start_preliminary(application, staff, ip=IP)
        assert Notification.objects.count() > before["notifications"]  # written, then rolled back
        raise RuntimeError("something after the move failed")

    assert callbacks == []
    assert mailoutbox == []
    assert state(application) == before
    assert reload(application).status == Status.SUBMITTED


@pytest.mark.django_db
def test_a_committed_move_mails_the_lead_unit_after_commit(
    staff, mailoutbox, django_capture_on_commit_callbacks
):
    application = application_in(Status.SUBMITTED)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        workflow.start_preliminary(application, staff, ip=IP)
        assert mailoutbox == []  # nothing is sent before the commit
    assert callbacks
    [message] = mailoutbox
    assert message.to == [application.created_by.email]
    assert str(Status.PRELIMINARY.label) in message.body


@pytest.mark.django_db
def test_a_committed_return_mails_the_lead_unit_its_comments_by_section(
    staff, mailoutbox, django_capture_on_commit_callbacks
):
    application = application_in(Status.PRELIMINARY, staff=staff)
    lead = application.created_by
    colleague = user_with_role(Role.LEAD_UNIT, organisation=application.lead_unit)
    stranger = user_with_role(Role.LEAD_UNIT)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        workflow.return_for_amendment(
            application,
            staff,
            "请按意见修改后重新提交。",
            {"figures": "研发人员占比的统计口径需说明。", "members": "补充共建协议盖章页。"},
            ip=IP,
        )

    assert {tuple(m.to) for m in mailoutbox} == {(lead.email,), (colleague.email,)}
    assert stranger.email not in {addr for m in mailoutbox for addr in m.to}
    for message in mailoutbox:
        assert "请按意见修改后重新提交。" in message.body
        assert "投入与人员：研发人员占比的统计口径需说明。" in message.body
        assert "共建单位：补充共建协议盖章页。" in message.body
        assert "figures" not in message.body


@pytest.mark.django_db
def test_a_committed_return_mails_the_lead_unit_users_the_comments(
    staff, mailoutbox, django_capture_on_commit_callbacks
):
    """The part of the return e-mail that works today: who gets it and that every comment text is in it."""
    application = application_in(Status.PRELIMINARY, staff=staff)
    lead = application.created_by
    colleague = user_with_role(Role.LEAD_UNIT, organisation=application.lead_unit)
    user_with_role(Role.LEAD_UNIT)  # another organisation: not told
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        workflow.return_for_amendment(
            application, staff, "请按意见修改后重新提交。", {"figures": "研发人员占比的统计口径需说明。"}
        )
    assert sorted(addr for m in mailoutbox for addr in m.to) == sorted([lead.email, colleague.email])
    for message in mailoutbox:
        assert "请按意见修改后重新提交。" in message.body
        assert "研发人员占比的统计口径需说明。" in message.body


# --- 委主任办公会 ----------------------------------------------------------------------------------------


def minutes_pdf(name="会议纪要.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


@pytest.fixture
def batch(staff):
    """Three applications proposed for the leadership meeting."""
    return [application_in(Status.LEADERSHIP, staff=staff) for _ in range(3)]


@pytest.mark.django_db
def test_leadership_meeting_approves_rejects_and_defers(
    staff, batch, mailoutbox, django_capture_on_commit_callbacks
):
    approved, rejected, deferred = batch
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        meeting = workflow.record_leadership_meeting(
            staff,
            meeting_date=timezone.localdate(),
            title="2026年第3次委主任办公会",
            minutes=minutes_pdf(),
            decisions={
                approved.pk: (LeadershipDecision.Decision.APPROVE, ""),
                rejected.pk: (LeadershipDecision.Decision.REJECT, "与已认定中心领域重复"),
                deferred.pk: (LeadershipDecision.Decision.DEFER, "补充现场考核材料"),
            },
            ip=IP,
        )

    [stored] = LeadershipMeeting.objects.all()
    assert stored == meeting
    assert (stored.recorded_by, stored.minutes_name) == (staff, "会议纪要.pdf")
    assert stored.minutes.read() == PDF_BYTES
    assert set(stored.decisions.values_list("application_id", "decision")) == {
        (approved.pk, "approve"),
        (rejected.pk, "reject"),
        (deferred.pk, "defer"),
    }

    approved = reload(approved)
    assert approved.status == Status.LEADERSHIP
    event = approved.events.order_by("-pk").first()
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "leadership_approval",
        Status.LEADERSHIP,
        Status.LEADERSHIP,
        staff,
    )
    assert workflow.leadership_approved(approved) is True

    rejected = reload(rejected)
    assert rejected.status == Status.REJECTED
    event = rejected.events.order_by("-pk").first()
    assert (event.action, event.from_status, event.to_status) == (
        "reject",
        Status.LEADERSHIP,
        Status.REJECTED,
    )
    assert "与已认定中心领域重复" in event.comment
    assert workflow.leadership_approved(rejected) is False

    deferred = reload(deferred)
    assert deferred.status == Status.COMPREHENSIVE
    event = deferred.events.order_by("-pk").first()
    assert (event.action, event.from_status, event.to_status) == (
        "send_back_to_comprehensive",
        Status.LEADERSHIP,
        Status.COMPREHENSIVE,
    )
    assert workflow.leadership_approved(deferred) is False

    # The rejected one's lead unit is told why; the approved one is ready for staff to open publicity.
    rejected_mail = [m for m in mailoutbox if rejected.created_by.email in m.to]
    assert rejected_mail and "与已认定中心领域重复" in rejected_mail[0].body
    assert any(staff.email in m.to for m in mailoutbox)


@pytest.mark.django_db
@pytest.mark.parametrize("odd_one", ["comprehensive", "rejected", "missing"])
def test_leadership_meeting_is_all_or_nothing(staff, batch, odd_one):
    if odd_one == "missing":
        odd_pk = max(Application.objects.values_list("pk", flat=True)) + 1000
    else:
        odd_pk = application_in(odd_one, staff=staff).pk
    everything = [*batch, Application.objects.filter(pk=odd_pk).first()]
    before = [state(a) for a in everything if a is not None]

    with pytest.raises(ActionRefused) as refused:
        workflow.record_leadership_meeting(
            staff,
            meeting_date=timezone.localdate(),
            title="2026年第3次委主任办公会",
            minutes=minutes_pdf(),
            decisions={
                batch[0].pk: ("approve", ""),
                batch[1].pk: ("reject", "不同意"),
                batch[2].pk: ("defer", ""),
                odd_pk: ("approve", ""),
            },
        )
    assert "委主任办公会审定" in refused.value.message
    assert [state(a) for a in everything if a is not None] == before
    assert not LeadershipMeeting.objects.exists()
    assert not LeadershipDecision.objects.exists()
    assert all(reload(a).status == Status.LEADERSHIP for a in batch)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in Role if r != Role.COMMISSION_STAFF])
def test_only_commission_staff_record_a_leadership_meeting(batch, role):
    before = [state(a) for a in batch]
    with pytest.raises(ActionRefused):
        workflow.record_leadership_meeting(
            user_with_role(role),
            meeting_date=timezone.localdate(),
            title="委主任办公会",
            minutes=minutes_pdf(),
            decisions={a.pk: ("approve", "") for a in batch},
        )
    assert [state(a) for a in batch] == before


def _leadership_post(batch_decisions, **extra):
    data = {
        "title": "2026年第3次委主任办公会",
        "meeting_date": timezone.localdate().isoformat(),
        "minutes": minutes_pdf(),
        "confirm": "on",
        **extra,
    }
    for application, (decision, comment) in batch_decisions.items():
        data[f"decision_{application.pk}"] = decision
        data[f"comment_{application.pk}"] = comment
    return data


@pytest.mark.django_db
def test_leadership_meeting_through_the_page(client, staff, batch):
    approved, rejected, deferred = batch
    client.force_login(staff)
    url = reverse("evaluation:leadership")
    body = client.get(url).content.decode()
    for application in batch:
        assert f'name="decision_{application.pk}"' in body

    response = client.post(
        url,
        _leadership_post(
            {approved: ("approve", ""), rejected: ("reject", "不同意"), deferred: ("defer", "再议")}
        ),
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("evaluation:staff_home")
    assert "对3个申报的审定结果" in response.content.decode()
    assert [reload(a).status for a in batch] == [Status.LEADERSHIP, Status.REJECTED, Status.COMPREHENSIVE]
    assert workflow.leadership_approved(reload(approved))
    assert LeadershipMeeting.objects.count() == 1
    assert LeadershipDecision.objects.count() == 3

    # The approved one no longer waits for a decision.
    body = client.get(url).content.decode()
    assert f'name="decision_{approved.pk}"' not in body


@pytest.mark.django_db
def test_the_leadership_page_refuses_a_forged_minutes_file_and_records_nothing(client, staff, batch):
    client.force_login(staff)
    data = _leadership_post(dict.fromkeys(batch, ("approve", "")))
    data["minutes"] = SimpleUploadedFile(
        "纪要.pdf", b"MZ\x90\x00" + b"\x00" * 200, content_type="application/pdf"
    )
    response = client.post(reverse("evaluation:leadership"), data)
    assert response.status_code == 200
    assert 'id="error-summary"' in response.content.decode()
    assert not LeadershipMeeting.objects.exists()
    assert [reload(a).status for a in batch] == [Status.LEADERSHIP] * 3
    assert not ApplicationEvent.objects.filter(action="leadership_approval").exists()


@pytest.mark.django_db
def test_the_leadership_page_refuses_the_batch_when_one_has_left_the_stage(client, staff, batch):
    client.force_login(staff)
    url = reverse("evaluation:leadership")
    client.get(url)  # the page as staff opened it
    workflow.reject(batch[2], staff, "另案处理")  # meanwhile a colleague rejects one of them
    response = client.post(url, _leadership_post(dict.fromkeys(batch, ("approve", ""))))
    assert response.status_code == 200
    assert not LeadershipMeeting.objects.exists()
    assert [reload(a).status for a in batch[:2]] == [Status.LEADERSHIP] * 2
    assert not ApplicationEvent.objects.filter(action="leadership_approval").exists()


def _record_batch_while_a_colleague_rejects_one(staff, first, second, colleague):
    """Staff record a batch (approve ``first``, defer ``second``) while a colleague rejects ``second``:
    the test holds ``second``'s row until the batch waits for it, then rejects it and commits, so the
    batch has passed its checks and written part of its work when it meets the moved row."""
    holder = {}

    def job():
        holder["meeting"] = workflow.record_leadership_meeting(
            staff,
            meeting_date=timezone.localdate(),
            title="2026年第4次委主任办公会",
            minutes=minutes_pdf(),
            decisions={first.pk: ("approve", "同意"), second.pk: ("defer", "再议")},
        )

    with transaction.atomic():
        Application.objects.select_for_update().get(pk=second.pk)
        threads, results = _start_jobs([job])
        _wait_for_blocked_backends(1)
        workflow.reject(second, colleague, "另案处理")
    _join(threads)
    return results[0]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_leadership_batch_is_all_or_nothing_when_one_moves_meanwhile():
    staff, colleague = user_with_role(Role.COMMISSION_STAFF), user_with_role(Role.COMMISSION_STAFF)
    first, second = (application_in(Status.LEADERSHIP, staff=staff) for _ in range(2))
    notes = Notification.objects.count()
    before_first = state(first)

    result = _record_batch_while_a_colleague_rejects_one(staff, first, second, colleague)

    assert isinstance(result, ActionRefused), result
    assert "已由" in result.message and str(colleague) in result.message
    assert not LeadershipMeeting.objects.exists()
    assert not LeadershipDecision.objects.exists()
    after_first = state(first)
    assert (after_first["status"], after_first["events"]) == (Status.LEADERSHIP, before_first["events"])
    assert not workflow.leadership_approved(first)
    second = reload(second)
    assert second.status == Status.REJECTED
    assert list(second.events.filter(action="reject").values_list("actor", flat=True)) == [colleague.pk]
    # Only the colleague's rejection told anyone anything (the lead unit of ``second``).
    assert Notification.objects.count() == notes + 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_refused_leadership_batch_leaves_no_minutes_file(settings):
    staff, colleague = user_with_role(Role.COMMISSION_STAFF), user_with_role(Role.COMMISSION_STAFF)
    first, second = (application_in(Status.LEADERSHIP, staff=staff) for _ in range(2))
    result = _record_batch_while_a_colleague_rejects_one(staff, first, second, colleague)
    assert isinstance(result, ActionRefused), result
    assert not LeadershipMeeting.objects.exists()
    assert [p.name for p in (settings.MEDIA_ROOT / "leadership").glob("*")] == []


@pytest.mark.django_db
def test_an_unknown_leadership_decision_is_refused(staff, batch):
    before = [state(a) for a in batch]
    try:
        workflow.record_leadership_meeting(
            staff,
            meeting_date=timezone.localdate(),
            title="委主任办公会",
            minutes=minutes_pdf(),
            decisions={batch[0].pk: ("approve", ""), batch[1].pk: ("maybe", "")},
        )
    except ActionRefused:
        refused = True
    except ValueError:
        refused = False
    else:
        pytest.fail("an unknown decision was recorded")
    assert [state(a) for a in batch] == before  # nothing recorded either way
    assert not LeadershipMeeting.objects.exists()
    assert refused, "refused with ValueError, not ActionRefused"

"""The review stages declared once (applications.stages): what is derived from the declaration agrees with
the model's transitions, and the pages, lists and permissions follow it."""

import itertools

import pytest
from django.urls import reverse

from accounts.roles import Role
from applications import stages
from applications.editor import STEPS
from applications.models import REVIEW_STATES, Application, ApplicationEvent, Status
from applications.services import ActionRefused
from applications.snapshots import snapshot
from applications.stages import REJECT, STAGES
from config import fragments
from evaluation import workflow
from evaluation.filters import WAITING_FOR_STAFF
from evaluation.views import MOVE_FORMS
from tests.factories import (
    application_in,
    complete_application,
    district_staff_in,
    expert_user,
    user_with_role,
)

TRANSITIONS = {t.name: t for t in Application._meta.get_field("status").get_all_transitions(Application)}


def _transitions(name):
    return [
        t for t in Application._meta.get_field("status").get_all_transitions(Application) if t.name == name
    ]


def test_the_statuses_are_the_declared_stages_in_order_between_draft_and_the_exits():
    assert Status.values == [
        "draft",
        *(stage.status for stage in STAGES),
        "awarded",
        "returned",
        "rejected",
        "withdrawn",
    ]
    assert [str(Status(stage.status).label) for stage in STAGES] == [str(stage.label) for stage in STAGES]
    assert tuple(s.status for s in STAGES if s.review) == REVIEW_STATES


def test_every_declared_move_is_a_transition_out_of_its_stage():
    for stage in STAGES:
        for move in stage.moves:
            assert stage.status in {t.source for t in _transitions(move.name)}, (stage.status, move.name)
    # the closing move leads to the next stage on the path
    for stage, following in itertools.pairwise(STAGES):
        if stage.close:
            [t] = [t for t in _transitions(stage.close.name) if t.source == stage.status]
            assert t.target == following.status, stage.close.name
    assert {t.source for t in _transitions(REJECT.name)} == {
        s for s in REVIEW_STATES if s != Status.SUBMITTED
    }


def test_every_dotted_path_of_the_declaration_resolves():
    for move in stages.all_moves():
        assert callable(move.function), move.service
        assert hasattr(move.form_class(), "arguments"), move.form
        for check in move.checks:
            assert callable(stages._resolve(check)), check
    for stage in STAGES:
        if stage.make_closable:
            assert callable(stages._resolve(stage.make_closable)), stage.make_closable
        if stage.page:
            assert reverse(stage.page, args=[1])


def test_what_is_derived_follows_the_declaration():
    assert set(WAITING_FOR_STAFF) == {s.status for s in STAGES if s.waits_for == stages.STAFF}
    assert Status.PUBLICITY not in WAITING_FOR_STAFF
    assert set(MOVE_FORMS) == {m.name for m in stages.all_moves() if m.on_move_page}
    assert "propose" not in MOVE_FORMS  # made on the 综合评估 page
    assert set(workflow.MOVES) <= set(MOVE_FORMS)
    for stage in STAGES:
        assert set(stage.models) <= set(fragments.SCOPES["review"]), stage.status


@pytest.mark.django_db
def test_a_history_entry_of_a_move_reads_as_the_transitions_own_label():
    """The history once said 提请审定 and 批复 where the transitions say 提请委主任办公会审定 and
    公示期满，予以批复."""
    application = complete_application()
    for name in ("propose", "approve", "close_site_inspection"):
        event = ApplicationEvent(application=application, action=name)
        assert event.action_label == str(TRANSITIONS[name].custom["label"])
    assert ApplicationEvent(application=application, action="create").action_label == "新建草稿"


@pytest.mark.django_db
@pytest.mark.parametrize("status", [s.status for s in STAGES if s.page and s.status != "approved"])
def test_the_staff_page_offers_the_stages_own_page(client, status):
    application = application_in(status)
    client.force_login(user_with_role(Role.COMMISSION_STAFF))
    body = client.get(reverse("evaluation:application", args=[application.pk])).content.decode()
    stage = stages.stage_of(status)
    button = 'class="btn btn-primary" href="{}">{}</a>'
    assert button.format(reverse(stage.page, args=[application.pk]), stage.page_label) in body
    others = [s for s in STAGES if s.page and s.status != status]
    assert not any(
        button.format(reverse(s.page, args=[application.pk]), s.page_label) in body for s in others
    )


CLOSABLE = [s for s in STAGES if s.make_closable]


@pytest.mark.django_db
@pytest.mark.parametrize("stage", CLOSABLE, ids=lambda s: s.status)
def test_a_stages_hook_makes_its_closing_move_pass(stage):
    staff = user_with_role(Role.COMMISSION_STAFF)
    application = application_in(stage.status, staff=staff)
    cast = stages.Cast(experts=lambda n: [expert_user() for _ in range(n)], leader=staff)
    before = stage.close.problems(application)
    assert before or stage.status not in ("expert_review", "site_inspection")  # nothing done yet there
    if before:  # without the hook the declared checks refuse the move
        with pytest.raises(ActionRefused, match="还不能进入下一阶段"):
            stage.close(application, staff)
    arguments = stage.prepare(application, staff, cast)
    stage.close(application, staff, **arguments)
    assert Application.objects.get(pk=application.pk).status == stages.following(stage.status).status


@pytest.mark.django_db
def test_withdrawal_and_the_district_opinion_are_offered_only_in_their_states():
    lead = user_with_role(Role.LEAD_UNIT)
    draft = complete_application(lead_user=lead)
    assert lead.has_perm("applications.withdraw_now", draft)
    in_review = application_in(Status.EXPERT_REVIEW, lead_user=lead)
    assert lead.has_perm("applications.withdraw", in_review)  # the page answers with the reason
    assert not lead.has_perm("applications.withdraw_now", in_review)
    district = district_staff_in(in_review.district.code)
    assert district.has_perm("applications.recommend", in_review)
    assert not district.has_perm("applications.recommend_now", in_review)
    submitted = application_in(Status.SUBMITTED, lead_user=lead)
    assert district.has_perm("applications.recommend_now", submitted)


@pytest.mark.django_db
def test_the_plans_fields_are_written_once():
    edited = [name for step in STEPS if step.form_class for name in step.form_class._meta.fields]
    assert tuple(edited) == Application.PLAN_FIELDS
    assert tuple(snapshot(application_in(Status.SUBMITTED))["fields"]) == Application.PLAN_FIELDS

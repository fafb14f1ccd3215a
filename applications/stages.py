"""The review stages, declared once and in order. Everything else about a stage is derived from here.

``applications.models`` builds ``Status``, ``REVIEW_STATES`` and the history labels from ``STAGES``;
``evaluation.workflow`` the moves and their preconditions, ``evaluation.views`` the move forms and the
buttons of the staff application page, ``evaluation.filters`` what waits for staff, ``config.fragments``
the models a review page reads, the demo seeding, ``seed_scale`` and the test factories the path to any
status. The django-fsm transitions stay decorated methods of ``Application`` (their source and target,
label and permission are declared there, next to the field they protect).

This module is at the bottom of the import graph: it imports nothing of the portal. What lives in higher
apps (services, checks, forms, hooks) is named by dotted path and imported when first used, as the lower
apps already reach the higher ones by URL and permission names.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import ClassVar

from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

STAFF = "commission_staff"
GENERIC_CLOSE = "evaluation.workflow.close_stage"  # accounts.roles.Role.COMMISSION_STAFF, by its code


@dataclass(frozen=True)
class Move:
    """A staff move out of a stage: the transition ``name`` on ``Application``, made by ``service``.

    ``service(application, user, ip=..., **form.arguments())`` (none: ``evaluation.workflow.close_stage``,
    which runs the checks, moves and tells the lead unit); the move page offers it with ``form``
    unless ``on_move_page`` is False (the stage's own page makes it). ``checks`` are functions
    ``(application) -> [problems]`` that must all return nothing before the move.
    """

    name: str
    service: str = ""
    form: str = "evaluation.forms.MoveForm"
    checks: tuple[str, ...] = ()
    on_move_page: bool = True
    style: str = "primary"  # the button: primary, warning (sends back), danger (ends the application)
    do_not_call_in_templates: ClassVar[bool] = True  # templates read its name, never make the move

    @property
    def function(self):
        if not self.service:
            return partial(_resolve(GENERIC_CLOSE), self.name)
        return _resolve(self.service)

    @property
    def form_class(self):
        return _resolve(self.form)

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def problems(self, application) -> list[str]:
        return [problem for check in self.checks for problem in _resolve(check)(application)]


@dataclass(frozen=True)
class Stage:
    """One stage an application passes through on its way to recognition.

    ``moves``: the staff moves out of it, the closing (forward) one first. ``page``: the URL name of the
    stage's working page (reversed with the application's pk) and ``page_label`` its button. ``waits_for``:
    the role code of who must act ("" when only the clock moves it on). ``review``: a stage of the review
    proper (a plan in it may be rejected). ``make_closable``: ``(application, staff, cast) -> dict``, what
    the demo and the tests run, through the real services, so that the closing move's checks pass; it
    returns the keyword arguments of the closing move. ``models``: what the stage's records are (their
    changes refresh the cached review pages).
    """

    status: str
    label: str
    moves: tuple[Move, ...] = ()
    page: str = ""
    page_label: str = ""
    waits_for: str = STAFF
    review: bool = True
    make_closable: str = ""
    models: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.status.upper()

    @property
    def close(self) -> Move | None:
        return self.moves[0] if self.moves else None

    def prepare(self, application, staff, cast) -> dict:
        """Run the hook that makes this stage closable; the closing move's keyword arguments."""
        return _resolve(self.make_closable)(application, staff, cast) if self.make_closable else {}


@dataclass(frozen=True)
class Cast:
    """The people a ``make_closable`` hook needs: ``experts(n)`` gives n experts of the pool, ``leader``
    leads the site inspection, ``outcome`` is the conclusion of 综合评估 (拟认定 or 培育试点)."""

    experts: Callable[[int], list]
    leader: object
    outcome: str = "recognise"
    reason: str = ""


@cache
def _resolve(path: str):
    return import_string(path)


# A rejection ends the application at any review stage but the first (the plan must be accepted first).
REJECT = Move("reject", "evaluation.workflow.reject", "evaluation.forms.RejectForm", style="danger")

STAGES = (
    Stage(
        "submitted",
        _("已提交"),
        moves=(Move("start_preliminary", "evaluation.workflow.start_preliminary"),),
    ),
    Stage(
        "preliminary",
        _("材料初审"),
        moves=(
            Move(
                "pass_preliminary",
                "evaluation.workflow.pass_preliminary",
                "evaluation.forms.PassPreliminaryForm",
            ),
            Move(
                "return_for_amendment",
                "evaluation.workflow.return_for_amendment",
                "evaluation.forms.ReturnForm",
                style="warning",
            ),
        ),
        page="evaluation:preliminary",
        page_label=_("进入材料初审"),
        make_closable="evaluation.closable.preliminary",
    ),
    Stage(
        "expert_review",
        _("专家论证"),
        moves=(
            Move(
                "close_expert_review",
                "evaluation.workflow.close_expert_review",
                checks=("evaluation.panels.closing_problems",),
            ),
        ),
        page="evaluation:panel",
        page_label=_("专家论证"),
        make_closable="evaluation.closable.expert_review",
        models=("evaluation.Panel", "evaluation.Assignment", "evaluation.ScoreSheet"),
    ),
    Stage(
        "site_inspection",
        _("现场考核"),
        # nothing of its own to do when it closes: evaluation.workflow.close_stage
        moves=(Move("close_site_inspection", checks=("evaluation.inspection.closing_problems",)),),
        page="evaluation:inspection",
        page_label=_("现场考核"),
        make_closable="evaluation.closable.site_inspection",
        models=("evaluation.SiteInspection",),
    ),
    Stage(
        "comprehensive",
        _("综合评估"),
        moves=(
            Move(
                "propose", "evaluation.workflow.propose", "evaluation.forms.ProposeForm", on_move_page=False
            ),
        ),
        page="evaluation:comprehensive",
        page_label=_("综合评估"),
        make_closable="evaluation.closable.comprehensive",
    ),
    # Approval by 委主任办公会 is recorded for a batch on the leadership page; publicity follows it, opened
    # for a batch on the publicity page.
    Stage(
        "leadership",
        _("委主任办公会审定"),
        moves=(Move("open_publicity", "evaluation.publicity.open_publicity", on_move_page=False),),
    ),
    Stage(
        "publicity",
        _("公示"),
        moves=(
            Move("approve", "evaluation.publicity.approve"),
            Move(
                "send_back_after_objection",
                "evaluation.publicity.send_back_after_objection",
                "evaluation.forms.CommentedMoveForm",
            ),
        ),
        waits_for="",  # the deadline sweep closes it
    ),
    Stage(
        "approved",
        _("批复"),
        moves=(Move("award", "evaluation.publicity.award", on_move_page=False),),
        page="evaluation:approval",
        page_label=_("批复与授牌"),
        review=False,
    ),
)

# The states outside the review path: before it, after it, and its side exits.
DRAFT = ("draft", _("草稿"))
AFTER = (
    ("awarded", _("授牌")),
    ("returned", _("退回修改")),
    ("rejected", _("不予认定")),
    ("withdrawn", _("已撤回")),
)


def status_members() -> list[tuple[str, tuple[str, str]]]:
    """(NAME, (value, label)) for ``models.TextChoices``, in the lifecycle's order."""
    values = [DRAFT, *((s.status, s.label) for s in STAGES), *AFTER]
    return [(value.upper(), (value, label)) for value, label in values]


BY_STATUS = {stage.status: stage for stage in STAGES}


def stage_of(status) -> Stage | None:
    return BY_STATUS.get(str(status))


def following(status) -> Stage | None:
    """The stage after ``status`` on the path (None after the last)."""
    order = [s.status for s in STAGES]
    at = order.index(str(status))
    return STAGES[at + 1] if at + 1 < len(STAGES) else None


def path_to(status) -> tuple[Stage, ...]:
    """The stages a plan passes through (and closes) to reach ``status``, in order."""
    order = [s.status for s in STAGES]
    return STAGES[: order.index(str(status))]


def all_moves() -> tuple[Move, ...]:
    """Every declared staff move, each once (the closing move first in each stage, then ``REJECT``)."""
    return (*(move for stage in STAGES for move in stage.moves), REJECT)


def forward_moves() -> frozenset[str]:
    """The moves that take a plan towards recognition: submission and each stage's closing move."""
    return frozenset({"submit", "resubmit", *(stage.close.name for stage in STAGES if stage.close)})


def reached(status, target) -> bool:
    """Whether a plan brought to ``target`` has passed ``status`` (both on the path)."""
    order = [s.status for s in STAGES]
    return order.index(str(target)) > order.index(str(status))

"""The plan editor's steps, in order: what each edits and how to tell whether it is complete."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from applications import forms
from applications.eligibility import REQUIRED_ATTACHMENTS
from applications.models import Application


@dataclass(frozen=True)
class Step:
    slug: str
    title: str
    form_class: type | None = None
    formset_class: type | None = None
    required_fields: tuple[str, ...] = ()
    help: str = ""


STEPS = [
    Step(
        "basics",
        _("基本信息"),
        form_class=forms.BasicsForm,
        required_fields=Application.BASICS_FIELDS,
        help=_("创新中心名称、所属领域和依托公司的基本情况。"),
    ),
    Step(
        "plan",
        _("方案正文"),
        form_class=forms.PlanForm,
        required_fields=Application.SECTION_FIELDS,
        help=_("建设基础条件、建设规划、技术发展方向和目标、运营模式、预期成果、经济社会效益和技术路线图。"),
    ),
    Step(
        "outcomes",
        _("成果指标"),
        formset_class=forms.OutcomeFormSet,
        help=_("把预期成果量化为指标、目标值和完成年度，至少一项。"),
    ),
    Step(
        "figures",
        _("投入与人员"),
        form_class=forms.FiguresForm,
        required_fields=Application.FIGURES_FIELDS,
        help=_("这些数字用于自动核验基本条件第4-6项。金额单位为万元。"),
    ),
    Step(
        "committee",
        _("专家委员会"),
        formset_class=forms.BaseCommitteeFormSet,
        help=_("专家委员会成员，须有一位由领域领军专家担任的主任委员。"),
    ),
    Step(
        "members",
        _("共建单位"),
        formset_class=forms.BaseMemberFormSet,
        help=_("以资本或联盟方式参与共建的企业、用户单位、科研院所、高校和平台。"),
    ),
    Step(
        "declarations",
        _("条件声明"),
        form_class=forms.DeclarationsForm,
        help=_("基本条件第1-3、7-8项由申报单位声明，并以附件、共建单位和专家委员会信息为证。"),
    ),
    Step("attachments", _("附件"), help=_("建设方案PDF、共建协议、营业执照、审计报告为必传材料。")),
]
STEP_BY_SLUG = {step.slug: step for step in STEPS}


def step_states(application: Application) -> list[dict]:
    """Each step with whether it is complete (uses the prefetched related rows)."""
    attachment_kinds = {a.kind for a in application.attachments.all()}
    done = {
        "outcomes": bool(application.outcomes.all()),
        "committee": any(m.is_chair for m in application.committee.all()),
        "members": bool(application.members.all()),
        # Nothing declared is nothing done: a new draft no longer shows 条件声明 as 已完成. (A unit that can
        # declare none of the five does not meet the basic conditions and cannot submit anyway.)
        "declarations": any(getattr(application, name) for name in forms.DeclarationsForm.Meta.fields),
        "attachments": all(kind in attachment_kinds for kind in REQUIRED_ATTACHMENTS),
    }
    states = []
    for step in STEPS:
        if step.slug in done:
            complete = done[step.slug]
        else:
            complete = all(str(getattr(application, name) or "").strip() for name in step.required_fields)
        states.append({"step": step, "complete": complete})
    return states


def next_step(slug: str) -> str | None:
    slugs = [s.slug for s in STEPS]
    index = slugs.index(slug)
    return slugs[index + 1] if index + 1 < len(slugs) else None


def progress(states: list[dict]) -> dict:
    done = sum(1 for state in states if state["complete"])
    return {"done": done, "total": len(states), "percent": round(100 * done / len(states))}


def labelled_sections(section_comments: dict) -> dict:
    """Return comments keyed by step slug, re-keyed by the step's title (in the active language)."""
    return {
        str(STEP_BY_SLUG[slug].title) if slug in STEP_BY_SLUG else slug: text
        for slug, text in section_comments.items()
    }

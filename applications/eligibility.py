"""The basic conditions (基本条件) of the plan, checked against the policy in force.

Items 4-6 are computed from the figures; items 1-3 and 7-8 are declared by the applicant and count only
with their evidence (attachments, member units, committee). A failed check warns; it never blocks a
submission. Completeness (what must be filled before submitting) is a separate question, answered by
``missing_for_submission``.
"""

from dataclasses import asdict, dataclass
from decimal import ROUND_DOWN, Decimal

from django.utils.translation import gettext as _

from applications.models import Application, Attachment, MemberUnit, Policy, Status

REQUIRED_ATTACHMENTS = (
    Attachment.Kind.PLAN,
    Attachment.Kind.AGREEMENT,
    Attachment.Kind.LICENCE,
    Attachment.Kind.AUDIT,
)
ENTERPRISE_KINDS = {MemberUnit.Kind.ENTERPRISE, MemberUnit.Kind.USER_ENTERPRISE}
RESEARCH_KINDS = {MemberUnit.Kind.RESEARCH_INSTITUTE, MemberUnit.Kind.UNIVERSITY}
SHAREHOLDER_RELATIONS = {MemberUnit.Relation.SHAREHOLDER, MemberUnit.Relation.BOTH}


@dataclass(frozen=True)
class Check:
    code: str
    label: str
    kind: str  # "computed" or "declared"
    passed: bool | None  # None: not enough data entered to tell
    detail: str


def _pct(value: Decimal) -> str:
    # Rounded down, so a ratio just below the threshold never shows as equal to it.
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_DOWN)}%"


def _ratio_check(code, label, part, whole, minimum: Decimal, part_name, whole_name) -> Check:
    if part is None or whole in (None, 0):
        return Check(
            code,
            label,
            "computed",
            None,
            _("请填写%(part)s和%(whole)s。") % {"part": part_name, "whole": whole_name},
        )
    ratio = Decimal(part) * 100 / Decimal(whole)
    # Compare exactly (no rounding): 29.999% is below a 30% threshold.
    passed = Decimal(part) * 100 >= minimum * Decimal(whole)
    return Check(
        code,
        label,
        "computed",
        passed,
        _("%(ratio)s，要求不低于%(minimum)s") % {"ratio": _pct(ratio), "minimum": _pct(minimum)},
    )


def evaluate(application: Application, policy: Policy) -> list[Check]:
    """The eight basic conditions for this application (uses prefetched members, committee, attachments)."""
    attachment_kinds = {a.kind for a in application.attachments.all()}
    members = list(application.members.all())
    committee = list(application.committee.all())
    checks = []

    def declared(code, label, declaration: bool, evidence_ok: bool, evidence_text: str) -> Check:
        if not declaration:
            return Check(code, label, "declared", False, _("未声明符合。"))
        if not evidence_ok:
            return Check(code, label, "declared", False, evidence_text)
        return Check(code, label, "declared", True, _("已声明，证明材料已提供。"))

    checks.append(
        declared(
            "1",
            _("创新中心为企业法人，“公司+联盟”模式"),
            application.declares_enterprise_legal_person,
            Attachment.Kind.LICENCE in attachment_kinds,
            _("缺少营业执照。"),
        )
    )
    checks.append(
        declared(
            "2",
            _("依托公司以资本为纽带组建"),
            application.declares_capital_links,
            any(m.relation in SHAREHOLDER_RELATIONS for m in members)
            and Attachment.Kind.AGREEMENT in attachment_kinds,
            _("须填写至少一家股东单位并上传共建协议。"),
        )
    )
    checks.append(
        declared(
            "3",
            _("联盟汇聚企业、科研院所和高校"),
            application.declares_alliance,
            any(m.kind in ENTERPRISE_KINDS for m in members)
            and any(m.kind in RESEARCH_KINDS for m in members),
            _("共建单位中须既有企业，又有科研院所或高校。"),
        )
    )
    total = application.total_investment
    if total is None:
        checks.append(Check("4", _("实际投资总额"), "computed", None, _("请填写资本和知识产权投入。")))
    else:
        checks.append(
            Check(
                "4",
                _("实际投资总额"),
                "computed",
                total >= policy.min_total_investment,
                _("%(total)s万元，要求不低于%(minimum)s万元")
                % {"total": total.quantize(Decimal("0.01")), "minimum": policy.min_total_investment},
            )
        )
    checks.append(
        _ratio_check(
            "5",
            _("研发人员占职工总数比例"),
            application.rd_staff,
            application.employees,
            policy.min_rd_staff_ratio,
            _("研发人员数"),
            _("职工总数"),
        )
    )
    checks.append(
        _ratio_check(
            "6",
            _("年度研发经费占总成本支出比例"),
            application.rd_expense,
            application.total_cost,
            policy.min_rd_expense_ratio,
            _("研发经费支出"),
            _("总成本支出"),
        )
    )
    chairs = sum(1 for m in committee if m.is_chair)
    checks.append(
        declared(
            "7",
            _("设有专家委员会，由领军专家任主任"),
            application.declares_expert_committee,
            chairs == 1,
            _("专家委员会须有且只有一位主任委员。"),
        )
    )
    checks.append(
        declared(
            "8",
            _("董事会、管理团队、技术路线图和知识产权、成果转化制度"),
            application.declares_governance,
            bool(
                application.host_board.strip()
                and application.host_management.strip()
                and application.roadmap.strip()
            ),
            _("须填写董事会组成、管理团队和技术路线图。"),
        )
    )
    return checks


def all_passed(checks: list[Check]) -> bool:
    return all(c.passed is True for c in checks)


def as_json(checks: list[Check]) -> dict:
    return {"passed": all_passed(checks), "items": [asdict(c) for c in checks]}


def missing_for_submission(application: Application) -> list[str]:
    """What must still be filled in before the plan can be submitted (labels for the applicant)."""
    missing = []
    opts = Application._meta
    for name in (
        "centre_name",
        "host_name",
        "host_credit_code",
        "basis",
        "construction_plan",
        "tech_direction",
        "operating_model",
        "expected_results",
        "benefits",
        "roadmap",
        "host_board",
        "host_management",
    ):
        if not str(getattr(application, name) or "").strip():
            missing.append(str(opts.get_field(name).verbose_name))
    if application.field_id is None:
        missing.append(str(opts.get_field("field").verbose_name))
    elif not application.field.is_active:
        missing.append(_("所选领域“%(field)s”已停止接受申报，请另选领域") % {"field": application.field})
    for name in ("host_registered_capital", "host_founded_on", *Application.FIGURES_FIELDS):
        if getattr(application, name) is None:
            missing.append(str(opts.get_field(name).verbose_name))
    if not application.outcomes.all():
        missing.append(_("至少一项量化的预期成果指标"))
    if not application.members.all():
        missing.append(_("至少一家共建单位"))
    if not application.committee.all():
        missing.append(_("专家委员会成员"))
    present = {a.kind for a in application.attachments.all()}
    for kind in REQUIRED_ATTACHMENTS:
        if kind not in present:
            missing.append(_("附件：%(kind)s") % {"kind": Attachment.Kind(kind).label})
    return missing


def field_clash(application: Application) -> list[Application]:
    """Recognised centres already in the application's field (one centre per field)."""
    if application.field_id is None:
        return []
    # A centre excluded from support or stripped of its title no longer holds the field. The centre lives
    # in a higher app; it is reached by its relation name only (no import).
    return list(
        Application.objects.filter(field_id=application.field_id, status=Status.AWARDED)
        .exclude(pk=application.pk)
        .exclude(centre__status__in=("excluded", "withdrawn"))
        .select_related("lead_unit")
        .only("centre_name", "number", "status", "lead_unit__name")  # what the notice shows, not the plan
        .order_by("pk")
    )

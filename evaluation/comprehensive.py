"""综合评估: combine the expert score, the site score and the eligibility into a recommendation.

composite = w × expert score + (100 − w) × site score (on a scale of 100: the score × 100 / the policy's
inspection maximum), w the policy's expert weight (percent). The policy's
bands give the recommendation; a plan that fails a basic condition is recommended at most 培育试点 (a
pilot is cultivated until it meets them). Staff decide; a decision other than the recommendation needs a
written reason. The decision then moves the application: 拟认定 / 培育试点 go to 委主任办公会审定,
不予认定 ends it.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from applications.models import Application, Policy, Status
from applications.services import ActionRefused
from evaluation import workflow
from evaluation.models import ComprehensiveEvaluation, Panel, ScoreSheetTemplate, SiteInspection

Recommendation = ComprehensiveEvaluation.Recommendation


def compute(application: Application, policy: Policy | None = None) -> dict:
    policy = policy or application.policy or Policy.current()
    panel = Panel.objects.filter(
        application=application, kind=ScoreSheetTemplate.Kind.EXPERT_REVIEW, closed_at__isnull=False
    ).first()
    inspection = SiteInspection.objects.filter(application=application, signed_off_at__isnull=False).first()
    if panel is None or not (panel.result or {}).get("used"):
        raise ActionRefused(_("专家论证尚未结束，没有专家评分。"))
    if inspection is None or inspection.score is None:
        raise ActionRefused(_("现场考核尚未签字确认，没有现场考核得分。"))
    expert = Decimal(panel.result["used"])
    site = Decimal(inspection.score)
    # The site score counts on a scale of 100, whatever the policy's maximum for the inspection.
    site_percent = site * 100 / Decimal(policy.inspection_max_score)
    weight = Decimal(policy.composite_expert_weight)
    composite = ((weight * expert + (100 - weight) * site_percent) / 100).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )
    eligible = bool((application.eligibility or {}).get("passed"))
    return {
        "expert_score": expert,
        "site_score": site,
        "weight": weight,
        "eligibility_passed": eligible,
        "composite": composite,
        "recommendation": recommend(composite, eligible, policy),
    }


def recommend(composite: Decimal, eligible: bool, policy: Policy) -> str:
    if composite >= policy.band_recognise_min:
        return Recommendation.RECOGNISE if eligible else Recommendation.PILOT
    if composite >= policy.band_pilot_min:
        return Recommendation.PILOT
    return Recommendation.REJECT


def decide(
    application: Application, user, decision: str, reason: str = "", ip=None
) -> ComprehensiveEvaluation:
    """Record staff's conclusion and move the application accordingly, in one transaction."""
    with transaction.atomic():
        evaluation, summary = record_conclusion(application, user, decision, reason)
        if decision == Recommendation.REJECT:
            workflow.reject(application, user, summary, ip=ip)
        else:
            workflow.propose(application, user, decision, summary, ip=ip)
    return evaluation


def record_conclusion(application: Application, user, decision: str, reason: str = ""):
    """Store staff's conclusion (not moving the application): (the evaluation, its summary for history)."""
    if not user.has_perm("evaluation.review", application):
        raise ActionRefused(_("只有市经济信息委工作人员可以作出综合评估结论。"))
    if application.status != Status.COMPREHENSIVE:
        raise ActionRefused(
            _("该申报当前处于“%(status)s”阶段，不能作出综合评估结论。")
            % {"status": application.get_status_display()}
        )
    if decision not in Recommendation.values:
        raise ActionRefused(_("请选择评估结论。"))
    figures = compute(application)
    reason = reason.strip()
    if decision != figures["recommendation"] and not reason:
        raise ActionRefused(
            _("评估结论与系统建议（%(recommendation)s）不一致，须写明理由。")
            % {"recommendation": Recommendation(figures["recommendation"]).label}
        )
    evaluation, _created = ComprehensiveEvaluation.objects.update_or_create(
        application=application,
        defaults={
            **figures_for_model(figures),
            "decision": decision,
            "reason": reason,
            "decided_by": user,
        },
    )
    summary = _("综合得分%(score)s，系统建议%(rec)s，结论%(decision)s。%(reason)s") % {
        "score": figures["composite"],
        "rec": Recommendation(figures["recommendation"]).label,
        "decision": Recommendation(decision).label,
        "reason": reason,
    }
    return evaluation, summary


def figures_for_model(figures: dict) -> dict:
    return {
        "expert_score": figures["expert_score"],
        "site_score": figures["site_score"],
        "eligibility_passed": figures["eligibility_passed"],
        "composite": figures["composite"],
        "recommendation": figures["recommendation"],
    }

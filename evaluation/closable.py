"""What makes each review stage closable, done through the real services (``Stage.make_closable`` in
applications.stages). The demo seeding and the test factories run these to bring a plan to any status;
each returns the keyword arguments of the stage's closing move."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from applications.models import Application, Policy
from evaluation import comprehensive as conclusion
from evaluation import inspection, panels
from evaluation.models import Assignment, PreliminaryCheck, SiteInspection


def preliminary(application, staff, cast) -> dict:
    """Every item of the checklist ticked (the required attachments are the plan's own)."""
    return {"ticked": list(PreliminaryCheck.Item.values)}


def expert_review(application, staff, cast, ratio=Decimal("0.9")) -> dict:
    """A panel of the policy's minimum size; every expert declares no conflict and submits a full sheet
    at ``ratio`` of each criterion's maximum."""
    application = Application.objects.get(pk=application.pk)
    panel = panels.create_panel(application, staff, deadline=timezone.now() + timedelta(days=7))
    panels.assign(panel, staff, cast.experts((application.policy or Policy.current()).min_panel_size))
    criteria = list(panel.template.criteria.all())
    answers = dict.fromkeys(Assignment.CONFLICT_QUESTIONS, False)
    for assignment in panel.assignments.select_related("expert").order_by("pk"):
        assignment = panels.declare(assignment, assignment.expert, answers)
        scores = {c.pk: ((c.max_points * ratio).quantize(Decimal("0.1")), "") for c in criteria}
        panels.save_sheet(assignment, assignment.expert, scores, "同意通过专家论证。", submit=True)
    return {}


def site_inspection(application, staff, cast, score=Decimal("85")) -> dict:
    """The inspection opened, filled in and signed off by its leader (``cast.leader``)."""
    application = Application.objects.get(pk=application.pk)
    found = inspection.open_inspection(
        application, staff, leader=cast.leader, visit_date=timezone.localdate(), team="张三，重庆大学，教授"
    )
    inspection.save_record(
        found,
        staff,
        findings={item: {"finding": "与申报材料一致。"} for item in SiteInspection.Item.values},
        score=score,
        conclusion="现场考核通过。",
    )
    inspection.sign_off(found, cast.leader)
    return {}


def comprehensive(application, staff, cast) -> dict:
    """The conclusion ``cast.outcome`` recorded (evaluation.comprehensive), ready to be proposed."""
    _evaluation, summary = conclusion.record_conclusion(
        Application.objects.get(pk=application.pk), staff, cast.outcome, reason=cast.reason
    )
    return {"outcome": cast.outcome, "reason": summary}

"""现场考核: the inspection record, its files and the leader's sign-off (the precondition of 综合评估)."""

from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify, users_with_role
from accounts.roles import Role
from applications.models import Application, Policy, Status
from applications.services import ActionRefused, add_history, application_link, lead_unit_users
from applications.uploads import inspect
from evaluation.models import InspectionFile, SiteInspection

IMAGE_OR_PDF = "other"  # uploads.ALLOWED_TYPES key accepting PDF, JPG and PNG


def _editable(inspection: SiteInspection, user):
    if inspection.signed_off_at:
        raise ActionRefused(_("现场考核已由组长签字确认，不能再修改。"))
    if not (user.has_perm("evaluation.review", inspection.application) or user.pk == inspection.leader_id):
        raise ActionRefused(_("只有工作人员或考核组长可以填写现场考核。"))


def open_inspection(application: Application, user, *, leader, visit_date=None, team="") -> SiteInspection:
    if not user.has_perm("evaluation.review", application):
        raise ActionRefused(_("只有市经济信息委工作人员可以安排现场考核。"))
    if application.status != Status.SITE_INSPECTION:
        raise ActionRefused(
            _("该申报当前处于“%(status)s”阶段，不能安排现场考核。")
            % {"status": application.get_status_display()}
        )
    with transaction.atomic():
        existing = SiteInspection.objects.select_for_update().filter(application=application).first()
        if existing is not None and existing.signed_off_at:
            raise ActionRefused(_("现场考核已由组长签字确认，不能再修改。"))
        defaults = {"leader": leader, "visit_date": visit_date, "team": team}
        if existing is None or existing.visit_date != visit_date:
            defaults["reminded_at"] = None  # the reminder follows the (new) date
        inspection, _created = SiteInspection.objects.update_or_create(
            application=application, defaults=defaults
        )
        if leader.pk != user.pk and (existing is None or existing.leader_id != leader.pk):
            notify(
                [leader],
                "inspection_leader_appointed",
                {"application": application, "inspection": inspection},
                link=reverse("evaluation:inspection", args=[application.pk]),
            )
        if visit_date is not None and (existing is None or existing.visit_date != visit_date):
            _tell_lead_unit_of_visit(
                inspection, rearranged=existing is not None and existing.visit_date is not None
            )
    return inspection


def _tell_lead_unit_of_visit(inspection: SiteInspection, rearranged: bool) -> None:
    """The lead unit hosts the visit: it is told the date, and told again when the date moves."""
    notify(
        lead_unit_users(inspection.application),
        "inspection_arranged",
        {"application": inspection.application, "inspection": inspection, "rearranged": rearranged},
        link=application_link(inspection.application),
    )


def max_score(application: Application):
    """The site score's maximum: the policy the application is judged against (default 100)."""
    return (application.policy or Policy.current()).inspection_max_score


def save_record(
    inspection: SiteInspection, user, *, findings: dict, score, conclusion: str, visit_date=None, team=None
):
    _editable(inspection, user)
    maximum = max_score(inspection.application)
    if score is not None and not (0 <= score <= maximum):
        raise ActionRefused(_("现场考核得分应在0到%(max)s之间。") % {"max": maximum})
    valid = {key: findings.get(key, {}) for key in SiteInspection.Item.values}
    inspection.findings = valid
    inspection.score = score
    inspection.conclusion = conclusion
    moved_from = None
    if visit_date is not None and visit_date != inspection.visit_date:
        moved_from = inspection.visit_date or False
        inspection.reminded_at = None  # the reminder follows the new date
        inspection.visit_date = visit_date
    if team is not None:
        inspection.team = team
    inspection.full_clean()
    with transaction.atomic():
        inspection.save()
        if moved_from is not None:
            _tell_lead_unit_of_visit(inspection, rearranged=bool(moved_from))
    return inspection


def add_file(inspection: SiteInspection, user, upload, caption="", max_mb=20) -> InspectionFile:
    _editable(inspection, user)
    facts = inspect(upload, IMAGE_OR_PDF, max_mb)
    item = InspectionFile(
        inspection=inspection,
        original_name=facts["original_name"],
        content_type=facts["content_type"],
        caption=caption,
        uploaded_by=user,
    )
    item.file.save(facts["original_name"], upload, save=False)
    item.save()
    return item


def sign_off_problems(inspection: SiteInspection) -> list[str]:
    problems = []
    if inspection.visit_date is None:
        problems.append(_("请填写考核日期。"))
    for value, label in SiteInspection.Item.choices:
        if not (inspection.findings.get(value) or {}).get("finding", "").strip():
            problems.append(_("“%(item)s”尚未填写核查情况。") % {"item": label})
    if inspection.score is None:
        problems.append(_("请填写现场考核得分。"))
    if not inspection.conclusion.strip():
        problems.append(_("请填写考核结论。"))
    return problems


def sign_off(inspection: SiteInspection, user, ip=None) -> SiteInspection:
    """The team leader signs the record off; after that it is locked."""
    if user.pk != inspection.leader_id:
        raise ActionRefused(_("只有考核组长可以签字确认。"))
    if inspection.signed_off_at:
        raise ActionRefused(_("已经签字确认。"))
    problems = sign_off_problems(inspection)
    if problems:
        raise ActionRefused(_("现场考核记录不完整，不能签字："), details=problems)
    with transaction.atomic():
        inspection.signed_off_at = timezone.now()
        inspection.save(update_fields=["signed_off_at"])
        add_history(
            inspection.application,
            "inspection_signed_off",
            user,
            comment=_("现场考核得分%(score)s。%(conclusion)s")
            % {"score": inspection.score, "conclusion": inspection.conclusion},
            ip=ip,
        )
        # Closing 现场考核 now waits for staff.
        notify(
            users_with_role(Role.COMMISSION_STAFF).exclude(pk=user.pk),
            "inspection_signed_off",
            {"application": inspection.application, "inspection": inspection, "leader": user},
            link=reverse("evaluation:inspection", args=[inspection.application_id]),
        )
    return inspection


def leader_tasks(user) -> list[SiteInspection]:
    """The inspections ``user`` leads of applications in 现场考核, still to do first (by visit date), then
    the signed-off ones; each carries ``task``: "record", "sign_off" or "done"."""
    rows = list(
        SiteInspection.objects.filter(leader=user, application__status=Status.SITE_INSPECTION)
        .select_related("application__field", "application__lead_unit")
        .defer(*(f"application__{name}" for name in Application.LONG_TEXT_FIELDS))
        .order_by(F("signed_off_at").desc(nulls_first=True), F("visit_date").asc(nulls_last=True), "pk")
    )
    for row in rows:
        row.task = "done" if row.signed_off_at else ("sign_off" if not sign_off_problems(row) else "record")
    return rows


def closing_problems(application: Application) -> list[str]:
    inspection = SiteInspection.objects.filter(application=application).first()
    if inspection is None:
        return [_("尚未安排现场考核。")]
    if inspection.signed_off_at is None:
        return [_("现场考核记录尚未由考核组长签字确认。")]
    return []

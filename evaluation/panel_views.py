"""Pages of the expert review, the site inspection and the comprehensive evaluation."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.decorators import page_permission
from accounts.files import private_file_response
from accounts.http import client_ip
from accounts.models import User
from applications import stages
from applications.eligibility import evaluate
from applications.feedback import show_refusal
from applications.models import Application, Policy, Status
from applications.services import ActionRefused, with_contents
from config import fragments
from config.pdf import pdf_response
from evaluation import comprehensive, inspection, panels
from evaluation.forms import (
    AssignForm,
    DecisionForm,
    DeclarationForm,
    ExtendDeadlineForm,
    InspectionFileForm,
    InspectionOpenForm,
    InspectionRecordForm,
    PanelForm,
    ScoreSheetForm,
)
from evaluation.models import Assignment, InspectionFile, ScoreSheetTemplate, SiteInspection


def _staff_application(request, pk) -> Application:
    application = get_object_or_404(with_contents().select_related("policy"), pk=pk)
    if not request.user.has_perm("evaluation.review", application):
        raise PermissionDenied
    return application


# --- experts -----------------------------------------------------------------------------------------------


@page_permission("evaluation.expert_home")
def my_assignments(request):
    """我的评审任务: only this expert's assignments, open ones first, and the site inspections they lead (to
    record, to sign off); cached per expert and page until an assignment, panel, sheet or inspection
    changes (config.fragments)."""

    def context():
        queryset = (
            Assignment.objects.filter(expert=request.user)
            .select_related("panel__application__field", "sheet")
            .defer(*(f"panel__application__{name}" for name in Application.LONG_TEXT_FIELDS))
            .order_by("panel__deadline", "pk")
        )
        return {
            "page": Paginator(queryset, 30).get_page(request.GET.get("page")),
            "inspections": inspection.leader_tasks(request.user),
        }

    return fragments.page(
        request,
        _("我的评审任务"),
        "expert-assignments",
        (request.user.pk, request.GET.get("page")),
        ("review",),
        "evaluation/_expert_home.html",
        context,
        timeout=60,
    )


def _own_assignment(request, pk) -> Assignment:
    assignment = get_object_or_404(
        Assignment.objects.select_related("panel__template", "panel__application", "sheet"), pk=pk
    )
    if assignment.expert_id != request.user.pk:
        raise PermissionDenied
    return assignment


@page_permission("evaluation.expert_home")
def assignment_page(request, pk):
    """The declaration first; then the application (read-only) beside the score sheet."""
    assignment = _own_assignment(request, pk)
    application = with_contents().get(pk=assignment.panel.application_id)
    if assignment.state == Assignment.State.ASSIGNED:
        form = DeclarationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                assignment = panels.declare(assignment, request.user, form.answers(), ip=client_ip(request))
            except ActionRefused as error:
                show_refusal(request, error)
            else:
                if assignment.state == Assignment.State.WITHDRAWN:
                    messages.info(request, _("您已声明存在回避情形，本任务已回避，工作人员将另行安排专家。"))
                    return redirect("evaluation:expert_home")
                messages.success(request, _("回避声明已提交，请开始评分。"))
                return redirect("evaluation:assignment", pk=pk)
        return render(
            request,
            "evaluation/declaration.html",
            {"page_title": _("回避声明"), "assignment": assignment, "application": application, "form": form},
        )
    if assignment.state == Assignment.State.WITHDRAWN:
        messages.info(request, _("本任务已回避。"))
        return redirect("evaluation:expert_home")
    scores = list(assignment.sheet.scores.select_related("criterion").order_by("criterion__order"))
    locked = assignment.state == Assignment.State.SUBMITTED
    form = ScoreSheetForm(
        request.POST if request.method == "POST" and not locked else None,
        scores=scores,
        initial={"opinion": assignment.sheet.opinion},
    )
    if request.method == "POST" and not locked and form.is_valid():
        submit = "submit" in request.POST
        if submit and not request.POST.get("confirm_submit"):
            messages.error(request, _("提交前请勾选确认：提交后评分不能修改。"))
        else:
            try:
                panels.save_sheet(
                    assignment, request.user, form.scores(), form.cleaned_data["opinion"], submit=submit
                )
            except ActionRefused as error:
                show_refusal(request, error)
            else:
                messages.success(request, _("评分已提交，不能再修改。") if submit else _("评分草稿已保存。"))
                return redirect("evaluation:assignment", pk=pk)
    return render(
        request,
        "evaluation/score_sheet.html",
        {
            "page_title": _("专家评分"),
            "assignment": assignment,
            "application": application,
            "form": form,
            "locked": locked,
            "sheet": assignment.sheet,
            "assessment_summaries": _assessment_summaries(assignment.panel),
            "deadline_passed": assignment.panel.deadline <= timezone.now(),
        },
    )


def _assessment_summaries(panel) -> list:
    """The annual summaries attached to the three-year assessment this panel scores (reached by relation
    name: the assessment lives in a higher app), oldest year first; empty for a review panel."""
    if panel.kind != ScoreSheetTemplate.Kind.ASSESSMENT:
        return []
    assessment = getattr(panel, "assessment", None)
    if assessment is None:
        return []
    return list(assessment.summaries.select_related("reporting_year").order_by("reporting_year__year"))


# --- staff: the panel ---------------------------------------------------------------------------------------


@page_permission("evaluation.staff_home")
def panel_page(request, pk):
    """The staff panel view: assignment, progress, and (once complete) the aggregate and every sheet."""
    application = _staff_application(request, pk)
    panel = application.panels.filter(kind=ScoreSheetTemplate.Kind.EXPERT_REVIEW).first()
    if panel is None:
        form = PanelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                panel = panels.create_panel(application, request.user, deadline=form.cleaned_data["deadline"])
            except ActionRefused as error:
                show_refusal(request, error)
            else:
                messages.success(request, _("专家组已组建，请分配专家。"))
                return redirect("evaluation:panel", pk=pk)
        return render(
            request,
            "evaluation/panel_new.html",
            {"page_title": _("组建专家论证组"), "application": application, "form": form},
        )
    problems = panels.closing_problems(application) if application.status == Status.EXPERT_REVIEW else []
    return render_panel(
        request,
        panel,
        here=reverse("evaluation:panel", args=[pk]),
        back=(reverse("evaluation:application", args=[pk]), str(application)),
        close=_closing_button(application, Status.EXPERT_REVIEW, _("结束专家论证，进入%(next)s")),
        problems=problems,
    )


def _closing_button(application, status, text):
    """(URL, text) of the move closing ``status`` into the next declared stage, while the plan is in it."""
    if application.status != status:
        return None
    stage = stages.stage_of(status)
    following = stages.following(status)
    return (
        reverse("evaluation:move", args=[application.pk, stage.close.name]),
        text % {"next": str(following.label).lower()},
    )


def render_panel(request, panel, *, here, back, close, problems, extra=None):
    """The staff panel view, shared by the expert review and the three-year assessment: assignment with
    suggestions, progress, overdue flags, and once every sheet is in, the aggregate and each sheet."""
    application = panel.application
    panel = panels.panel_for_view(panel.pk)
    suggestions = panels.suggest_experts(application, panel) if not panel.closed_at else []
    extending = request.method == "POST" and "extend_deadline" in request.POST
    extend_form = ExtendDeadlineForm(request.POST if extending else None)
    if extending and extend_form.is_valid():
        try:
            panels.extend_deadline(
                panel,
                request.user,
                deadline=extend_form.cleaned_data["deadline"],
                reason=extend_form.cleaned_data["reason"],
                ip=client_ip(request),
            )
        except ActionRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("评分截止时间已延长，并已通知尚未提交评分的专家。"))
            return redirect(here)
    assign_form = AssignForm(
        request.POST if request.method == "POST" and not extending else None, suggestions=suggestions
    )
    if request.method == "POST" and not extending and assign_form.is_valid():
        experts = list(
            User.objects.filter(pk__in=assign_form.cleaned_data["experts"]).select_related(
                "expert_profile__employer"
            )
        )
        try:
            panels.assign(panel, request.user, experts)
        except ActionRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("已分配%(n)d位专家，并已通知他们。") % {"n": len(experts)})
            return redirect(here)
    elif request.method == "POST" and "experts" in assign_form.errors:
        messages.error(request, assign_form.errors["experts"][0])
    assignments = list(panel.assignments.all())
    active = [a for a in assignments if a.is_active]
    complete = bool(active) and all(a.state == Assignment.State.SUBMITTED for a in active)
    policy = application.policy or Policy.current()
    return render(
        request,
        "evaluation/panel.html",
        {
            "page_title": panel.get_kind_display(),
            "application": application,
            "panel": panel,
            "back": back,
            "close": close,
            "assignments": assignments,
            "progress": {
                "assigned": len(assignments),
                "declared": sum(
                    1
                    for a in assignments
                    if a.state in (Assignment.State.DECLARED, Assignment.State.SUBMITTED)
                ),
                "submitted": sum(1 for a in assignments if a.state == Assignment.State.SUBMITTED),
                "withdrawn": sum(1 for a in assignments if a.state == Assignment.State.WITHDRAWN),
                "outstanding": sum(1 for a in active if a.state != Assignment.State.SUBMITTED),
            },
            "overdue": [
                a for a in active if a.state != Assignment.State.SUBMITTED and panel.deadline < timezone.now()
            ],
            "complete": complete,
            "aggregate": panels.aggregate(panel, policy) if complete else None,
            "criteria": list(panel.template.criteria.all()),
            "policy": policy,
            "assign_form": assign_form,
            "extend_form": extend_form,
            "deadline_changes": list(panel.deadline_changes.select_related("changed_by")),
            "deadline_passed": panel.deadline <= timezone.now(),
            "suggestions": suggestions,
            "problems": problems,
            **(extra or {}),
        },
    )


# --- staff: site inspection ---------------------------------------------------------------------------------


def _inspection_access(request, application) -> SiteInspection | None:
    found = SiteInspection.objects.filter(application=application).select_related("leader").first()
    staff = request.user.has_perm("evaluation.review", application)
    if not staff and not (found and found.leader_id == request.user.pk):
        raise PermissionDenied
    return found


@page_permission("evaluation.inspection")
def inspection_page(request, pk):
    application = get_object_or_404(with_contents(), pk=pk)
    found = _inspection_access(request, application)
    if found is None:
        form = InspectionOpenForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                inspection.open_inspection(application, request.user, **form.cleaned_data)
            except ActionRefused as error:
                show_refusal(request, error)
            else:
                messages.success(request, _("已安排现场考核。"))
                return redirect("evaluation:inspection", pk=pk)
        return render(
            request,
            "evaluation/inspection_new.html",
            {"page_title": _("安排现场考核"), "application": application, "form": form},
        )
    return _inspection_render(request, application, found)


def _inspection_for_action(request, pk, permission):
    """The application and its inspection for one action on it, if this person holds ``permission``
    on the inspection (else 403); None for the inspection when none is arranged yet."""
    application = get_object_or_404(with_contents(), pk=pk)
    found = _inspection_access(request, application)
    if found is not None and not request.user.has_perm(permission, found):
        raise PermissionDenied
    return application, found


def _record_form(application, found, data=None):
    initial = {
        "visit_date": found.visit_date,
        "team": found.team,
        "score": found.score,
        "conclusion": found.conclusion,
    }
    for key, value in (found.findings or {}).items():
        initial[f"ok_{key}"] = value.get("ok")
        initial[f"finding_{key}"] = value.get("finding", "")
    return InspectionRecordForm(data, initial=initial, max_score=inspection.max_score(application))


def _inspection_action(request, pk, permission, bound_form, act, done: str, form_name="form"):
    """One action on the inspection: ``bound_form(application, inspection)`` (None: no form) and, when
    it is valid, ``act(inspection, form)``; on success back to the page saying ``done``, else the page
    again with the refusal and what was typed."""
    application, found = _inspection_for_action(request, pk, permission)
    if found is None:
        return redirect("evaluation:inspection", pk=pk)
    form = bound_form(application, found)
    if form is None or form.is_valid():
        try:
            act(found, form)
        except ActionRefused as error:
            show_refusal(request, error)
        except ValidationError as error:  # model validation: the typed values stay
            messages.error(request, "；".join(error.messages))
        else:
            messages.success(request, done)
            return redirect("evaluation:inspection", pk=pk)
    return _inspection_render(request, application, found, **({form_name: form} if form else {}))


@require_POST
@page_permission("evaluation.inspection")
def inspection_record(request, pk):
    """Save the inspection record (staff or its leader, until signed off)."""

    def save(found, form):
        data = form.cleaned_data
        inspection.save_record(
            found,
            request.user,
            findings=form.findings(),
            score=data["score"],
            conclusion=data["conclusion"],
            visit_date=data["visit_date"],
            team=data["team"],
        )

    return _inspection_action(
        request,
        pk,
        "evaluation.fill_inspection",
        lambda application, found: _record_form(application, found, request.POST),
        save,
        _("现场考核记录已保存。"),
    )


@require_POST
@page_permission("evaluation.inspection")
def inspection_upload(request, pk):
    """Add a photo or document to the inspection (staff or its leader, until signed off)."""

    def upload(found, form):
        data = form.cleaned_data
        max_mb = Policy.current().attachment_max_mb
        inspection.add_file(found, request.user, data["file"], data["caption"], max_mb=max_mb)

    return _inspection_action(
        request,
        pk,
        "evaluation.fill_inspection",
        lambda application, found: InspectionFileForm(request.POST, request.FILES),
        upload,
        _("已上传。"),
        form_name="file_form",
    )


@require_POST
@page_permission("evaluation.inspection")
def inspection_sign_off(request, pk):
    """The leader signs the record off (evaluation.inspection.sign_off says what is still missing)."""
    return _inspection_action(
        request,
        pk,
        "evaluation.sign_off_inspection",
        lambda application, found: None,
        lambda found, form: inspection.sign_off(found, request.user, ip=client_ip(request)),
        _("现场考核记录已签字确认。"),
    )


def _inspection_render(request, application, found, form=None, file_form=None):
    form = form or _record_form(application, found)
    file_form = file_form or InspectionFileForm()
    return render(
        request,
        "evaluation/inspection.html",
        {
            "page_title": _("现场考核"),
            "application": application,
            # the closing move and the stage it leads to (applications.stages)
            "close": stages.stage_of(Status.SITE_INSPECTION).close,
            "next_stage": stages.following(Status.SITE_INSPECTION),
            "inspection": found,
            "form": form,
            "file_form": file_form,
            "files": found.files.all(),
            "items": [
                (value, label, form[f"ok_{value}"], form[f"finding_{value}"])
                for value, label in SiteInspection.Item.choices
            ],
            "is_leader": found.leader_id == request.user.pk,
            "is_staff": request.user.has_perm("evaluation.review", application),
            "problems": inspection.sign_off_problems(found),
        },
    )


@page_permission("evaluation.inspection")
def inspection_file(request, pk, file_pk):
    application = get_object_or_404(Application, pk=pk)
    _inspection_access(request, application)
    item = get_object_or_404(InspectionFile, pk=file_pk, inspection__application=application)
    return private_file_response(
        item.file, filename=item.original_name, content_type=item.content_type, as_attachment=False
    )


# --- staff: comprehensive evaluation ---------------------------------------------------------------------


@page_permission("evaluation.staff_home")
def comprehensive_page(request, pk):
    application = _staff_application(request, pk)
    try:
        figures = comprehensive.compute(application)
    except ActionRefused as error:
        show_refusal(request, error)
        return redirect("evaluation:application", pk=pk)
    form = DecisionForm(request.POST or None, initial={"decision": figures["recommendation"]})
    if request.method == "POST" and form.is_valid():
        try:
            comprehensive.decide(
                application,
                request.user,
                form.cleaned_data["decision"],
                form.cleaned_data["reason"],
                ip=client_ip(request),
            )
        except ActionRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("综合评估结论已记录。"))
            return redirect("evaluation:application", pk=pk)
    return render(
        request,
        "evaluation/comprehensive.html",
        {
            "page_title": _("综合评估"),
            "application": application,
            "figures": figures,
            "form": form,
            "policy": application.policy or Policy.current(),
            "can_decide": application.status == Status.COMPREHENSIVE,
        },
    )


@page_permission("evaluation.staff_home")
def summary(request, pk):
    """A printable evaluation summary: eligibility, expert aggregate, inspection, composite and decision."""
    application = _staff_application(request, pk)
    panel = application.panels.filter(kind=ScoreSheetTemplate.Kind.EXPERT_REVIEW).first()
    panel = panels.panel_for_view(panel.pk) if panel else None
    policy = application.policy or Policy.current()
    context = {
        "page_title": _("评审情况汇总表"),
        "application": application,
        "checks": evaluate(application, policy),
        "panel": panel,
        "aggregate": panels.aggregate(panel, policy) if panel else None,
        "inspection": SiteInspection.objects.filter(application=application).first(),
        "evaluation": getattr(application, "comprehensive", None),
    }
    if request.GET.get("format") == "pdf":
        return pdf_response(
            request, "evaluation/summary_pdf.html", context, f"评审情况汇总表-{application.number}.pdf"
        )
    return render(request, "evaluation/summary.html", context)

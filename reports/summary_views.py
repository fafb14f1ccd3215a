"""Annual summary pages: the lead unit's list and form, staff's reporting years and review, the read-only
(printable) summary. Thin: parse, call a service in reports.summaries, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import stash
from accounts.decorators import page_permission
from accounts.files import private_file_response
from accounts.http import query_without_page
from applications.feedback import show_refusal
from applications.models import Policy
from applications.services import ActionRefused
from centres.models import Centre
from config.pdf import pdf_response
from reports import summaries
from reports.models import AnnualSummary, ReportingYear, SummaryAttachment
from reports.summary_forms import FIELDSETS, OpenYearForm, ReviewForm, SummaryForm, YearFilterForm

PAGE_SIZE = 20
YEAR_PAGE_SIZE = 50
State = AnnualSummary.State


def _summary(request, pk, permission: str = "reports.view_summary") -> AnnualSummary:
    summary = get_object_or_404(
        AnnualSummary.objects.select_related("centre__lead_unit__district", "reporting_year", "reviewed_by"),
        pk=pk,
    )
    if not request.user.has_perm(permission, summary):
        raise PermissionDenied
    return summary


def _figures(summary: AnnualSummary) -> dict:
    """The computed figures of what is stored (before a form is bound and changes the instance)."""
    return {
        "revenue_total": summary.revenue_total,
        "rd_expense_ratio": summary.rd_expense_ratio,
        "rd_staff_ratio": summary.rd_staff_ratio,
    }


def _groups(summary: AnnualSummary) -> list:
    """(legend, [(label, value, is_text)]) per fieldset, for read-only display."""
    groups = []
    for _slug, legend, names in FIELDSETS:
        rows = []
        for name in names:
            field = AnnualSummary._meta.get_field(name)
            rows.append(
                (field.verbose_name, getattr(summary, name), field.get_internal_type() == "TextField")
            )
        groups.append((legend, rows))
    return groups


# --- the lead unit -----------------------------------------------------------------------------------------


@page_permission("reports.my_summaries")
def my_summaries(request):
    """我的年度总结: every summary of the organisation's centres, newest year first, with the overdue flag."""
    queryset = summaries.with_overdue(
        AnnualSummary.objects.filter(centre__lead_unit_id=request.user.organisation_id)
        .select_related("centre", "reporting_year")
        .order_by("-reporting_year__year", "centre__name", "pk")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/summary_list.html",
        {
            "page_title": _("我的年度总结"),
            "page": page,
            "editable_states": summaries.EDITABLE_STATES,
        },
    )


@login_required
def summary_edit(request, pk):
    """Fill the summary: "save draft" keeps it editable, "submit" (with the promise) sends it to staff.
    A failed validation shows every value as typed and saves nothing."""
    summary = _summary(request, pk)
    if not request.user.has_perm("reports.edit_summary", summary):
        messages.info(
            request,
            _("该年度总结当前状态为“%(state)s”，内容已锁定。") % {"state": summary.get_state_display()},
        )
        return redirect("reports:summary", pk=pk)
    figures = _figures(summary)
    max_mb = Policy.current().attachment_max_mb
    submitting = request.method == "POST" and "submit" in request.POST
    # A browser cannot resend a file: one that passed its checks on a failed submission is kept in the
    # upload stash and used again unless another one is chosen.
    token = request.POST.get("stash") if request.method == "POST" else None
    files = None
    if request.method == "POST":
        files = request.FILES.copy()
        files.update(stash.restore(token, request.FILES))
    form = SummaryForm(
        request.POST or None,
        files or None,
        instance=summary,
        max_mb=max_mb,
        submitting=submitting,
    )
    if request.method == "POST":
        if form.is_valid():
            response = _save(request, summary, form, submitting)
            stash.discard(token)
            return response
        messages.error(request, _("有内容需要更正，尚未保存。请按提示修改后再保存。"))
        if "attachment" in request.FILES and "attachment" not in form.errors:
            token = stash.keep(token, {"attachment": request.FILES["attachment"]})
    return render(
        request,
        "reports/summary_edit.html",
        {
            "page_title": _("填写%(year)d年度工作总结") % {"year": summary.reporting_year.year},
            "summary": summary,
            "form": form,
            "figures": figures,
            "attachments": summary.attachments.order_by("uploaded_at", "pk"),
            "is_overdue": summaries.is_overdue(summary),
            "max_mb": max_mb,
            "stash_token": token or "",
            "stashed": stash.names(token),
        },
    )


def _save(request, summary, form, submitting: bool):
    try:
        summaries.save_summary(summary, request.user, form)
        upload = form.cleaned_data.get("attachment")
        if upload:
            attachment = summaries.add_attachment(summary, request.user, upload)
            messages.success(request, _("已上传：%(name)s") % {"name": attachment.original_name})
    except ActionRefused as error:
        show_refusal(request, error)
        return redirect("reports:summary", pk=summary.pk)
    if not submitting:
        messages.success(request, _("草稿已保存。"))
        return redirect("reports:summary_edit", pk=summary.pk)
    try:
        summaries.submit_summary(summary, request.user)
    except ActionRefused as error:
        messages.info(request, _("草稿已保存。"))
        show_refusal(request, error)
        return redirect("reports:summary_edit", pk=summary.pk)
    messages.success(request, _("年度工作总结已报送，内容已锁定。审核结果将通过站内通知和邮件告知。"))
    return redirect("reports:summary", pk=summary.pk)


@require_POST
@login_required
def delete_attachment(request, pk, attachment_pk):
    attachment = get_object_or_404(
        SummaryAttachment.objects.select_related("summary__centre__lead_unit"),
        pk=attachment_pk,
        summary_id=pk,
    )
    if not request.user.has_perm("reports.view_summary", attachment.summary):
        raise PermissionDenied
    try:
        summaries.remove_attachment(attachment, request.user)
    except ActionRefused as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("已删除附件：%(name)s") % {"name": attachment.original_name})
    return redirect("reports:summary_edit", pk=pk)


@login_required
def download_attachment(request, pk, attachment_pk):
    attachment = get_object_or_404(
        SummaryAttachment.objects.select_related("summary__centre__lead_unit"),
        pk=attachment_pk,
        summary_id=pk,
    )
    if not request.user.has_perm("reports.view_summary", attachment.summary):
        raise PermissionDenied
    return private_file_response(
        attachment.file, filename=attachment.original_name, content_type=attachment.content_type
    )


# --- read-only and printable, for the lead unit, its district and commission staff -------------------------


@login_required
def summary_detail(request, pk):
    summary = _summary(request, pk)
    context = {
        "page_title": _("%(centre)s %(year)d年度工作总结")
        % {"centre": summary.centre.name, "year": summary.reporting_year.year},
        "summary": summary,
        "groups": _groups(summary),
        "figures": _figures(summary),
        "attachments": summary.attachments.order_by("uploaded_at", "pk"),
        "is_overdue": summaries.is_overdue(summary),
        "can_edit": request.user.has_perm("reports.edit_summary", summary),
        "can_review": request.user.has_perm("reports.review_summary", summary)
        and summary.state == State.SUBMITTED,
        "comparison": summaries.comparison(summary.centre),
    }
    if request.GET.get("format") == "pdf":
        return pdf_response(
            request,
            "reports/summary_pdf.html",
            context,
            f"{summary.centre.name}-{summary.reporting_year.year}.pdf",
        )
    return render(request, "reports/summary_detail.html", context)


# --- commission staff --------------------------------------------------------------------------------------


@page_permission("reports.review_summary")
def summary_review(request, pk):
    summary = _summary(request, pk, "reports.review_summary")
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        decision, comment = form.cleaned_data["decision"], form.cleaned_data["comment"]
        try:
            if decision == ReviewForm.ACCEPT:
                summaries.accept_summary(summary, request.user, comment)
                messages.success(request, _("已受理该年度总结。"))
            else:
                summaries.return_summary(summary, request.user, comment)
                messages.success(request, _("已退回修改，牵头单位会收到修改意见。"))
        except ActionRefused as error:
            show_refusal(request, error)
            return redirect("reports:summary_review", pk=pk)
        return redirect("reports:year", year=summary.reporting_year.year)
    return render(
        request,
        "reports/summary_review.html",
        {
            "page_title": _("审核年度工作总结"),
            "summary": summary,
            "groups": _groups(summary),
            "figures": _figures(summary),
            "attachments": summary.attachments.order_by("uploaded_at", "pk"),
            "is_overdue": summaries.is_overdue(summary),
            "form": form if summary.state == State.SUBMITTED else None,
        },
    )


@page_permission("reports.manage_years")
def years(request):
    """年度总结报送: the reporting years with their progress, and the form that opens a new one."""
    form = OpenYearForm(
        request.POST or None, default_due=summaries.default_due_date, next_year=summaries.next_year_to_open()
    )
    if request.method == "POST" and form.is_valid():
        try:
            reporting_year = summaries.open_year(
                request.user, form.cleaned_data["year"], form.cleaned_data["due_date"]
            )
        except ActionRefused as error:
            show_refusal(request, error)
        else:
            messages.success(
                request,
                _("已开启%(year)d年度总结报送，截止日期%(due)s，共%(n)d个创新中心应报送。")
                % {
                    "year": reporting_year.year,
                    "due": reporting_year.due_date.isoformat(),
                    "n": reporting_year.summaries.count(),
                },
            )
            return redirect("reports:year", year=reporting_year.year)
    today = timezone.localdate()
    # A centre stripped of its title owes nothing: its unfiled summary is neither due nor overdue.
    not_done = ~Q(summaries__state__in=summaries.DONE_STATES) & ~Q(
        summaries__centre__status=Centre.Status.WITHDRAWN
    )
    queryset = ReportingYear.objects.select_related("opened_by").annotate(
        total=Count("summaries", filter=not_done | Q(summaries__state__in=summaries.DONE_STATES)),
        not_submitted=Count("summaries", filter=not_done),
        overdue=Count("summaries", filter=not_done & Q(due_date__lt=today)),
        waiting=Count("summaries", filter=Q(summaries__state=State.SUBMITTED)),
        accepted=Count("summaries", filter=Q(summaries__state=State.ACCEPTED)),
    )
    page = Paginator(queryset.order_by("-year"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/years.html",
        {"page_title": _("年度总结报送"), "page": page, "form": form, "today": today},
    )


@page_permission("reports.manage_years")
def year(request, year):
    """One reporting year: every centre's summary with its state and overdue flag; who has not submitted."""
    reporting_year = get_object_or_404(ReportingYear, year=year)
    today = timezone.localdate()
    base = reporting_year.summaries.all()
    owed = summaries.owed_condition()
    counts = base.aggregate(
        total=Count("pk", filter=owed | Q(state__in=summaries.DONE_STATES)),
        not_submitted=Count("pk", filter=~Q(state__in=summaries.DONE_STATES) & owed),
        waiting=Count("pk", filter=Q(state=State.SUBMITTED)),
        accepted=Count("pk", filter=Q(state=State.ACCEPTED)),
    )
    counts["overdue"] = counts["not_submitted"] if reporting_year.due_date < today else 0
    filter_form = YearFilterForm(request.GET or None)
    queryset = summaries.with_overdue(
        base.select_related("centre__lead_unit__district", "reporting_year"), today
    )
    if filter_form.is_valid():
        show, search = filter_form.cleaned_data["show"], filter_form.cleaned_data["q"].strip()
        if show == YearFilterForm.NOT_SUBMITTED:
            queryset = queryset.exclude(state__in=summaries.DONE_STATES).filter(owed)
        elif show == YearFilterForm.OVERDUE:
            queryset = queryset.filter(summaries.overdue_condition(today))
        elif show == YearFilterForm.SUBMITTED:
            queryset = queryset.filter(state=State.SUBMITTED)
        elif show == YearFilterForm.ACCEPTED:
            queryset = queryset.filter(state=State.ACCEPTED)
        if search:
            queryset = queryset.filter(
                Q(centre__name__icontains=search) | Q(centre__lead_unit__name__icontains=search)
            )
    page = Paginator(queryset.order_by("centre__name", "pk"), YEAR_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "reports/years_detail.html",
        {
            "page_title": _("%(year)d年度工作总结报送情况") % {"year": reporting_year.year},
            "reporting_year": reporting_year,
            "counts": counts,
            "filter_form": filter_form,
            "page": page,
            "query": query_without_page(request),
            "is_past_due": reporting_year.due_date < today,
        },
    )

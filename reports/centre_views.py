"""Centres' private pages (the lead unit's and staff's) and the three-year assessment."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Max
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.decorators import page_permission
from accounts.http import query_without_page
from accounts.widgets import DateInput
from applications.feedback import show_refusal
from applications.models import ApplicationEvent, Policy
from applications.services import ActionRefused
from centres import services as centre_services
from centres.filters import CentreFilter
from centres.models import Centre, Nomination
from evaluation.forms import PanelForm
from evaluation.panel_views import render_panel
from reports import assessment as assessments
from reports import summaries as summary_services
from reports.models import Assessment


class WithdrawTitleForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("撤销理由"), widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label=gettext_lazy("确认撤销该创新中心的称号。撤销后从公开名录中移除。"))


class NominationForm(forms.ModelForm):
    """A new nomination (its outcome is 待定 until recorded on it with ``NominationOutcomeForm``)."""

    class Meta:
        model = Nomination
        fields = ["kind", "nominated_on", "note"]
        widgets = {
            "nominated_on": DateInput(),
            "note": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A municipal centre is nominated for the national level only (district-level centres are
        # recommended upwards in their district's register).
        national = Nomination.Kind.TO_NATIONAL
        self.fields["kind"].choices = [(national.value, national.label)]
        self.fields["kind"].initial = national.value


class NominationOutcomeForm(forms.Form):
    """登记结果 of one pending nomination: succeeded or failed, its date and document."""

    nomination = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label=gettext_lazy("结果"),
        choices=[
            (Nomination.Outcome.SUCCEEDED, Nomination.Outcome.SUCCEEDED.label),
            (Nomination.Outcome.FAILED, Nomination.Outcome.FAILED.label),
        ],
        widget=forms.RadioSelect,
    )
    outcome_date = forms.DateField(
        label=gettext_lazy("结果日期"),
        widget=DateInput(),
    )
    outcome_document = forms.CharField(label=gettext_lazy("结果文件（文号）"), max_length=200, required=False)
    note = forms.CharField(
        label=gettext_lazy("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, nomination=None, **kwargs):
        prefix = f"outcome-{nomination.pk}" if nomination is not None else None
        super().__init__(*args, prefix=prefix, **kwargs)
        if nomination is not None:
            self.fields["nomination"].initial = nomination.pk


@page_permission("reports.my_centres")
def my_centres(request):
    centres = list(
        Centre.objects.for_list().filter(lead_unit=request.user.organisation).order_by("-award_date")
    )
    return render(
        request,
        "reports/my_centres.html",
        {"page_title": _("我的创新中心"), "centres": centres, "today": timezone.localdate()},
    )


@page_permission("reports.centres")
def centres(request):
    """All centres for staff: status, type, award date, exclusion, last assessment."""
    queryset = Centre.objects.for_list().annotate(
        last_cycle=Max("assessments__cycle"),
    )
    status = request.GET.get("status", "")
    if status in Centre.Status.values:
        queryset = queryset.filter(status=status)
    filtered = CentreFilter(request.GET, queryset=queryset.order_by("-award_date", "name"))
    page = Paginator(filtered.qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/centres.html",
        {
            "page_title": _("创新中心管理"),
            "filter": filtered,
            "page": page,
            "query": query_without_page(request),
            "statuses": Centre.Status.choices,
            "status": status,
        },
    )


def _centre(request, pk) -> Centre:
    centre = get_object_or_404(Centre.objects.for_list().select_related("application"), pk=pk)
    if not request.user.has_perm("reports.view_centre", centre):
        raise PermissionDenied
    return centre


@page_permission("reports.view_centre_page")
def centre_page(request, pk):
    centre = _centre(request, pk)
    today = timezone.localdate()
    comparison = summary_services.comparison(centre, include_unfiled=True)
    staff = request.user.has_perm("reports.manage_centres")
    withdraw_form = WithdrawTitleForm(request.POST if "withdraw_title" in request.POST else None)
    nomination_form = NominationForm(request.POST if "nominate" in request.POST else None)
    nominations = list(centre.nominations.order_by("-nominated_on", "-pk"))
    outcome_pk = request.POST.get("nomination_outcome") if request.method == "POST" else None
    outcome_forms = {
        n.pk: NominationOutcomeForm(request.POST if outcome_pk == str(n.pk) else None, nomination=n)
        for n in nominations
        if n.outcome == Nomination.Outcome.PENDING
    }
    if request.method == "POST":
        if not staff:
            raise PermissionDenied
        try:
            if "withdraw_title" in request.POST and withdraw_form.is_valid():
                assessments.withdraw_title(centre, request.user, withdraw_form.cleaned_data["reason"])
                messages.success(request, _("已撤销称号。"))
                return redirect("reports:centre", pk=pk)
            if "open_assessment" in request.POST:
                assessment = assessments.open_by_staff(centre, request.user)
                return redirect("reports:assessment", pk=assessment.pk)
            if "nominate" in request.POST and nomination_form.is_valid():
                data = nomination_form.cleaned_data
                centre_services.nominate(
                    centre,
                    request.user,
                    kind=data["kind"],
                    nominated_on=data["nominated_on"],
                    note=data["note"],
                )
                messages.success(request, _("已记录推荐升级，结果待定。结果公布后请在该条记录上登记。"))
                return redirect("reports:centre", pk=pk)
            form = outcome_forms.get(int(outcome_pk)) if (outcome_pk or "").isdigit() else None
            if outcome_pk is not None and form is None:
                raise ActionRefused(_("该推荐已登记结果或不存在，请刷新页面。"))
            if form is not None and form.is_valid():
                data = form.cleaned_data
                nomination = next(n for n in nominations if n.pk == int(outcome_pk))
                centre_services.record_outcome(
                    nomination,
                    request.user,
                    outcome=data["outcome"],
                    outcome_date=data["outcome_date"],
                    document=data["outcome_document"],
                    note=data["note"],
                )
                messages.success(request, _("已登记推荐结果。"))
                return redirect("reports:centre", pk=pk)
        except ActionRefused as error:
            show_refusal(request, error)
    return render(
        request,
        "reports/centre.html",
        {
            "page_title": centre.name,
            "centre": centre,
            "today": today,
            "support_year": centre.support_year(today),
            "support": centre.support_state(today),
            "timeline": timeline(centre, staff=request.user.has_perm("evaluation.review")),
            "summaries": comparison["summaries"],
            "comparison": comparison["rows"],
            "assessments": centre.assessments.order_by("cycle"),
            "nominations": [(n, outcome_forms.get(n.pk)) for n in nominations],
            "missing_summaries": assessments.missing_summaries(centre, today) if staff else [],
            "staff": staff,
            "withdraw_form": withdraw_form,
            "nomination_form": nomination_form,
        },
    )


def timeline(centre: Centre, *, staff: bool) -> list[dict]:
    """The whole story in one timeline: the application's history, then the centre's, by time."""
    events = ApplicationEvent.objects.filter(application_id=centre.application_id).select_related("actor")
    if not staff:
        events = events.filter(internal=False)
    rows = [
        {
            "at": e.created_at,
            "actor": e.actor,
            "what": e.action_label,
            "comment": e.comment,
            "source": "application",
        }
        for e in events
    ]
    rows += [
        {
            "at": e.created_at,
            "actor": e.actor,
            "what": e.action_label,
            "comment": e.comment,
            "source": "centre",
        }
        for e in centre.events.select_related("actor")
    ]
    return sorted(rows, key=lambda row: row["at"])


@page_permission("reports.manage_assessments")
def assessment_list(request):
    queryset = Assessment.objects.select_related("centre__lead_unit", "centre__field").order_by(
        F("closed_at").desc(nulls_first=True), F("confirmed_at").desc(nulls_first=True), "-due_on"
    )
    page = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return render(request, "reports/assessments.html", {"page_title": _("考核评估"), "page": page})


@page_permission("reports.manage_assessments")
def assessment_page(request, pk):
    assessment = get_object_or_404(
        Assessment.objects.select_related("centre__application", "centre__lead_unit", "panel"), pk=pk
    )
    if assessment.panel_id is None:
        form = PanelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                assessments.start_panel(assessment, request.user, deadline=form.cleaned_data["deadline"])
            except ActionRefused as error:
                show_refusal(request, error)
            else:
                return redirect("reports:assessment", pk=pk)
        return render(
            request,
            "reports/assessment_new.html",
            {
                "page_title": str(assessment),
                "assessment": assessment,
                "form": form,
                "summaries": assessment.summaries.select_related("reporting_year"),
            },
        )
    if request.method == "POST" and ("score" in request.POST or "confirm" in request.POST):
        try:
            if "score" in request.POST:
                assessments.score(assessment, request.user)
                messages.success(request, _("已汇总考核评分。"))
            elif assessment.grade == Assessment.Grade.FAIL and not request.POST.get("confirm_exclusion"):
                messages.error(
                    request,
                    _("确认“不合格”将使该中心及其牵头单位%(years)d年内不纳入支持范围，请先勾选确认。")
                    % {"years": Policy.current().exclusion_years},
                )
            else:
                assessments.confirm(assessment, request.user)
                messages.success(request, _("考核结果已确认。"))
        except ActionRefused as error:
            show_refusal(request, error)
        return redirect("reports:assessment", pk=pk)

    problems = (
        []
        if assessment.panel.closed_at
        else assessments.panels.panel_problems(
            assessments.panels.panel_for_view(assessment.panel_id), Policy.current()
        )
    )
    here = reverse("reports:assessment", args=[pk])
    return render_panel(
        request,
        assessment.panel,
        here=here,
        back=(reverse("reports:centre", args=[assessment.centre_id]), str(assessment.centre)),
        close=(here, _("结束评分并汇总考核得分"), "score")
        if not assessment.grade and not assessment.closed_at
        else None,
        problems=problems,
        extra={
            "assessment": assessment,
            "summaries": assessment.summaries.select_related("reporting_year"),
            "exclusion_years": Policy.current().exclusion_years,
        },
    )

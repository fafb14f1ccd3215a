"""Staff's list of centres whose annual summary is long overdue, each with the decision form."""

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.decorators import page_permission
from applications.feedback import show_refusal
from applications.models import Policy
from applications.services import ActionRefused
from reports import overdue as overdue_services
from reports.models import AnnualSummary, OverdueDecision


class DecisionForm(forms.Form):
    summary = forms.IntegerField(widget=forms.HiddenInput)
    withdraw = forms.TypedChoiceField(
        label=gettext_lazy("决定"),
        choices=[("1", gettext_lazy("撤销称号")), ("0", gettext_lazy("不撤销称号"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label=gettext_lazy("理由"), widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(
        label=gettext_lazy("我已核实该中心逾期未报送的情况。撤销称号不可恢复。"), required=False
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("withdraw") and not cleaned.get("confirm"):
            self.add_error("confirm", _("撤销称号前请勾选确认。"))
        return cleaned

    def __init__(self, *args, summary=None, **kwargs):
        super().__init__(*args, prefix=f"s{summary.pk}" if summary else None, **kwargs)
        if summary is not None:
            self.fields["summary"].initial = summary.pk


@page_permission("reports.decide_overdue")
def overdue(request):
    today = timezone.localdate()
    rows = list(overdue_services.flagged(today)[:200])
    posted_pk = next(
        (row.pk for row in rows if request.method == "POST" and f"s{row.pk}-summary" in request.POST), None
    )
    forms_by_pk = {
        row.pk: DecisionForm(request.POST if row.pk == posted_pk else None, summary=row) for row in rows
    }
    if request.method == "POST":
        form = forms_by_pk.get(posted_pk)
        if form is None:
            messages.error(request, _("该记录已处理或不存在，请刷新页面。"))
            return redirect("reports:overdue")
        if form.is_valid():
            summary = get_object_or_404(AnnualSummary, pk=posted_pk)
            try:
                overdue_services.decide(
                    summary,
                    request.user,
                    withdraw=form.cleaned_data["withdraw"],
                    reason=form.cleaned_data["reason"],
                )
            except ActionRefused as error:
                show_refusal(request, error)
            else:
                messages.success(request, _("已记录决定。"))
                return redirect("reports:overdue")
    return render(
        request,
        "reports/overdue.html",
        {
            "page_title": _("年度总结逾期待处理"),
            "rows": [(row, forms_by_pk[row.pk]) for row in rows],
            "months": Policy.current().summary_overdue_months,
            "decisions": OverdueDecision.objects.select_related(
                "centre", "reporting_year", "decided_by"
            ).order_by("-decided_at")[:50],
        },
    )

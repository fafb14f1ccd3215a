"""Forms of the support pages. The rules live in ``reports.support``; the forms check types and dates."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.filtering import BootstrapFilterMixin, YearFilter
from applications.models import Field
from applications.uploads import inspect
from reports.models import SupportGrant, SupportKind, SupportRequest

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY = forms.NumberInput(attrs={"min": "0.01", "step": "0.01", "inputmode": "decimal"})
ATTACHMENT_HELP = _("可选。PDF、JPG或PNG，按文件内容识别类型，单个文件不超过规定大小。")


class AttachmentMixin:
    """One optional attachment checked by content (``applications.uploads.inspect``)."""

    max_mb = 20

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload:
            inspect(upload, "other", self.max_mb)
        return upload


def _attachment_field(label=None):
    return forms.FileField(
        label=label or _("附件"),
        required=False,
        help_text=ATTACHMENT_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )


class PlanForm(AttachmentMixin, forms.Form):
    kind = forms.ChoiceField(label=_("支持类型"), choices=SupportKind.choices)
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    project_name = forms.CharField(label=_("项目名称"), max_length=200)
    amount = forms.DecimalField(
        label=_("金额（万元）"), min_value=0.01, max_digits=12, decimal_places=2, widget=MONEY
    )
    note = forms.CharField(label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    attachment = _attachment_field()

    def __init__(self, *args, max_mb: int = 20, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_mb = max_mb
        self.fields["year"].initial = timezone.localdate().year


class GrantForm(AttachmentMixin, forms.Form):
    line = forms.IntegerField(widget=forms.HiddenInput)
    document_number = forms.CharField(label=_("资金文件文号"), max_length=100)
    document_date = forms.DateField(label=_("资金文件日期"), widget=DATE)
    attachment = _attachment_field(_("资金文件"))

    def __init__(self, *args, line=None, max_mb: int = 20, **kwargs):
        super().__init__(*args, prefix=f"grant-{line.pk}" if line else None, **kwargs)
        self.max_mb = max_mb
        if line is not None:
            self.fields["line"].initial = line.pk


class DisburseForm(forms.Form):
    line = forms.IntegerField(widget=forms.HiddenInput)
    disbursed_on = forms.DateField(label=_("拨付日期"), widget=DATE)

    def __init__(self, *args, line=None, **kwargs):
        super().__init__(*args, prefix=f"disburse-{line.pk}" if line else None, **kwargs)
        if line is not None:
            self.fields["line"].initial = line.pk


class RequestForm(AttachmentMixin, forms.ModelForm):
    attachment = _attachment_field(_("项目方案等附件"))

    class Meta:
        model = SupportRequest
        fields = ["project_name", "goals", "budget", "amount_requested"]
        widgets = {
            "goals": forms.Textarea(attrs={"rows": 4}),
            "budget": forms.Textarea(attrs={"rows": 4}),
            "amount_requested": MONEY,
        }

    def __init__(self, *args, max_mb: int = 20, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_mb = max_mb


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结论"),
        choices=[("approve", _("同意支持")), ("refuse", _("不予支持"))],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(
        label=_("支持金额（万元）"),
        required=False,
        min_value=0.01,
        max_digits=12,
        decimal_places=2,
        widget=MONEY,
    )
    year = forms.IntegerField(label=_("支持年度"), required=False, min_value=2000, max_value=2100)
    reason = forms.CharField(
        label=_("不予支持理由"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "approve" and not cleaned.get("amount"):
            self.add_error("amount", _("同意支持须填写支持金额。"))
        if cleaned.get("decision") == "refuse" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("不予支持须写明理由。"))
        return cleaned


class LedgerFilter(BootstrapFilterMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    year = YearFilter(label=_("年度"), field_name="year")
    kind = django_filters.ChoiceFilter(
        label=_("支持类型"), choices=SupportKind.choices, empty_label=_("全部类型")
    )
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=SupportGrant.Status.choices, empty_label=_("全部状态")
    )
    field = django_filters.ModelChoiceFilter(
        label=_("领域"), field_name="centre__field", queryset=Field.objects.all(), empty_label=_("全部领域")
    )

    class Meta:
        model = SupportGrant
        fields = ["q", "year", "kind", "status", "field"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(project_name__icontains=value)
            | Q(centre__name__icontains=value)
            | Q(document_number__icontains=value)
        )

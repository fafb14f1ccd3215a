"""The plan editor's forms, one per step, and the district's opinion form."""

from django import forms
from django.forms import inlineformset_factory
from django.utils.translation import gettext_lazy as _

from accounts.forms import CreditCodeField
from accounts.widgets import DateInput
from applications.models import (
    Application,
    Attachment,
    CommitteeMember,
    DistrictOpinion,
    ExpectedOutcome,
    Field,
    MemberUnit,
)
from applications.uploads import inspect

TEXTAREA = forms.Textarea(attrs={"rows": 6})


class BasicsForm(forms.ModelForm):
    host_credit_code = CreditCodeField(label=_("依托公司统一社会信用代码"), required=False)

    class Meta:
        model = Application
        fields = list(Application.BASICS_FIELDS)
        widgets = {
            "host_founded_on": DateInput(),
            "host_board": forms.Textarea(attrs={"rows": 3}),
            "host_management": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["field"].queryset = Field.objects.filter(is_active=True)


class PlanForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = list(Application.SECTION_FIELDS)
        widgets = dict.fromkeys(fields, TEXTAREA)


class FiguresForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = list(Application.FIGURES_FIELDS)
        help_texts = {
            "investment_capital": _("成员单位以资金、设备等形式实际投入的资本，单位万元，含研发仪器设备。"),
            "investment_ip": _("成员单位以知识产权形式的投入，单位万元。"),
            "rd_staff": _("从事研发及相关工作的人员数。"),
            "rd_expense": _("上一年度研发经费支出，单位万元。"),
        }


class DeclarationsForm(forms.ModelForm):
    class Meta:
        model = Application
        fields = list(Application.DECLARATION_FIELDS)


class MemberUnitForm(forms.ModelForm):
    credit_code = CreditCodeField()

    class Meta:
        model = MemberUnit
        fields = ["name", "credit_code", "kind", "relation", "contribution", "amount", "platforms"]


OutcomeFormSet = inlineformset_factory(
    Application,
    ExpectedOutcome,
    fields=["indicator", "target", "year"],
    extra=1,
    can_delete=True,
)
CommitteeFormSet = inlineformset_factory(
    Application,
    CommitteeMember,
    fields=["name", "title", "employer", "is_chair"],
    extra=1,
    can_delete=True,
)
MemberFormSet = inlineformset_factory(Application, MemberUnit, form=MemberUnitForm, extra=1, can_delete=True)


class BaseCommitteeFormSet(CommitteeFormSet):
    def clean(self):
        super().clean()
        chairs = sum(
            1
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("is_chair")
        )
        if chairs > 1:
            raise forms.ValidationError(_("专家委员会只能有一位主任委员。"))


class BaseMemberFormSet(MemberFormSet):
    def clean(self):
        super().clean()
        seen = set()
        for form in self.forms:
            code = form.cleaned_data.get("credit_code") if form.cleaned_data else None
            if code and not form.cleaned_data.get("DELETE"):
                if code in seen:
                    form.add_error("credit_code", _("同一共建单位不能重复填写。"))
                seen.add(code)


class AttachmentsForm(forms.Form):
    """One file input per kind. Each file is checked on its own; good files are kept even when another
    file of the same submission is refused."""

    def __init__(self, *args, max_mb: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_mb = max_mb
        for kind, label in Attachment.Kind.choices:
            self.fields[kind] = forms.FileField(
                label=label,
                required=False,
                widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
            )

    def clean(self):
        cleaned = super().clean()
        for kind in Attachment.Kind.values:
            upload = cleaned.get(kind)
            if upload:
                try:
                    cleaned[kind] = (upload, inspect(upload, kind, self.max_mb))
                except forms.ValidationError as error:
                    self.add_error(kind, error)
        return cleaned

    def accepted(self):
        """(kind, upload, facts) for every file that passed, whether or not the whole form did."""
        data = getattr(self, "cleaned_data", {}) or {}
        return [(kind, *data[kind]) for kind in Attachment.Kind.values if isinstance(data.get(kind), tuple)]


class WithdrawForm(forms.Form):
    reason = forms.CharField(label=_("撤回原因"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    confirm = forms.BooleanField(label=_("我确认撤回该申报。撤回后不能恢复，如需申报须重新填写。"))


class SubmitForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("我单位承诺所填内容和所附材料真实、准确、完整。提交后内容锁定，不能再修改。")
    )


class DistrictOpinionForm(forms.ModelForm):
    class Meta:
        model = DistrictOpinion
        fields = ["recommend", "opinion", "opinion_date", "attachment"]
        widgets = {
            "opinion": forms.Textarea(attrs={"rows": 4}),
            "opinion_date": DateInput(),
        }

    def __init__(self, *args, max_mb: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_mb = max_mb

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload and hasattr(upload, "content_type"):  # a new upload, not the stored file
            inspect(upload, Attachment.Kind.OTHER, self.max_mb)
        return upload

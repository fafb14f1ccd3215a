"""Forms of the annual summaries: the lead unit's figures and narrative, an attachment, staff review, opening
a reporting year, and the filter of a year's list."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.widgets import DateInput
from applications.uploads import inspect
from reports.models import AnnualSummary

# The summary's fields in the groups the edit page and the read-only page show them in.
FIELDSETS = [
    (
        "income",
        _("收入"),
        [
            "revenue_transfer",
            "revenue_incubation",
            "revenue_contract_rd",
            "revenue_testing",
            "revenue_public_service",
        ],
    ),
    ("input", _("投入"), ["total_cost", "rd_expense"]),
    ("staff", _("人员"), ["employees", "rd_staff", "talents_recruited"]),
    (
        "results",
        _("项目与成果"),
        [
            "projects_national",
            "projects_municipal",
            "patents_filed",
            "patents_granted",
            "standards_led",
            "standards_joined",
            "technologies_transferred",
            "firms_incubated",
        ],
    ),
    ("collaboration", _("协同"), ["members", "platforms"]),
    ("narrative", _("总结与计划"), ["work_summary", "problems", "next_year_plan"]),
]
SUMMARY_FIELDS = [name for _slug, _legend, names in FIELDSETS for name in names]
MONEY_FIELDS = set(FIELDSETS[0][2]) | set(FIELDSETS[1][2])
NARRATIVE_FIELDS = set(FIELDSETS[-1][2])

SUBMIT_CONFIRM_LABEL = _("我单位承诺所填数据和材料真实、准确、完整。报送后内容锁定，退回修改后方可再次修改。")


class SummaryForm(forms.ModelForm):
    """The figures and narrative. "Save draft" needs valid figures only; "submit" also needs the promise."""

    attachment = forms.FileField(
        label=_("上传附件"),
        required=False,
        help_text=_("可选。PDF、JPG或PNG，按文件内容识别类型，单个文件不超过规定大小；保存时一并上传。"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )
    confirm = forms.BooleanField(label=SUBMIT_CONFIRM_LABEL, required=False)

    class Meta:
        model = AnnualSummary
        fields = SUMMARY_FIELDS
        widgets = {
            **{
                name: forms.NumberInput(attrs={"min": "0", "step": "0.01", "inputmode": "decimal"})
                for name in MONEY_FIELDS
            },
            **{name: forms.Textarea(attrs={"rows": 5}) for name in NARRATIVE_FIELDS},
        }
        help_texts = {
            "total_cost": _("本年度创新中心运营的全部成本支出。"),
            "rd_expense": _("本年度研发经费支出，计入总成本支出。"),
            "rd_staff": _("从事研发及相关工作的人员数，计入职工总数。"),
            "members": _("年末成员单位（股东单位和联盟成员）总数。"),
            "work_summary": _("报送时必填。"),
            "next_year_plan": _("报送时必填。"),
        }

    def __init__(self, *args, max_mb: int, submitting: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_mb = max_mb
        self.submitting = submitting
        for name in SUMMARY_FIELDS:
            if name not in NARRATIVE_FIELDS:
                self.fields[name].widget.attrs.setdefault("min", "0")

    def groups(self):
        """(slug, legend, bound fields) per fieldset, for the template."""
        return [(slug, legend, [self[name] for name in names]) for slug, legend, names in FIELDSETS]

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if upload:
            inspect(upload, "other", self.max_mb)  # raises ValidationError naming the file and the reason
        return upload

    def clean(self):
        cleaned = super().clean()
        employees, rd_staff = cleaned.get("employees"), cleaned.get("rd_staff")
        if employees is not None and rd_staff is not None and rd_staff > employees:
            self.add_error("rd_staff", _("研发人员数不能超过职工总数。"))
        total_cost, rd_expense = cleaned.get("total_cost"), cleaned.get("rd_expense")
        if total_cost is not None and rd_expense is not None and rd_expense > total_cost:
            self.add_error("rd_expense", _("研发经费支出不能超过总成本支出。"))
        if self.submitting and not cleaned.get("confirm"):
            self.add_error("confirm", _("报送前请勾选确认。"))
        return cleaned


class ReviewForm(forms.Form):
    ACCEPT = "accept"
    RETURN = "return"

    decision = forms.ChoiceField(
        label=_("审核结论"),
        choices=[(ACCEPT, _("受理")), (RETURN, _("退回修改"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("审核意见"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("退回修改时必填，牵头单位会在填报页面顶部看到。"),
    )
    confirm = forms.BooleanField(label=_("我已审阅该年度总结，确认办理。"))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.RETURN and not cleaned.get("comment", "").strip():
            self.add_error("comment", _("退回修改须写明修改意见。"))
        return cleaned


class OpenYearForm(forms.Form):
    year = forms.IntegerField(label=_("总结年度"), min_value=2017)
    due_date = forms.DateField(
        label=_("报送截止日期"),
        required=False,
        widget=DateInput(),
    )
    confirm = forms.BooleanField(
        label=_("确认开启。开启后系统为每个应报送的创新中心建立年度总结草稿，并通知其牵头单位。")
    )

    def __init__(self, *args, default_due=None, next_year=..., **kwargs):
        """``next_year``: the year to pre-fill (None: every year up to this one is open, nothing to offer)."""
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["year"].widget.attrs["max"] = str(today.year)
        year = today.year - 1 if next_year is ... else next_year
        self.fields["year"].initial = year
        if default_due is not None and year is not None:
            self.fields["due_date"].initial = default_due(year)
        self.fields["due_date"].help_text = _("留空则按政策参数取次年的默认截止日期。")

    def clean_year(self):
        year = self.cleaned_data["year"]
        if year > timezone.localdate().year:
            raise forms.ValidationError(_("%(year)d年尚未开始，不能开启该年度的总结报送。") % {"year": year})
        return year


class YearFilterForm(forms.Form):
    ALL = ""
    NOT_SUBMITTED = "not_submitted"
    OVERDUE = "overdue"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"

    show = forms.ChoiceField(
        label=_("显示"),
        required=False,
        choices=[
            (ALL, _("全部")),
            (NOT_SUBMITTED, _("未报送")),
            (OVERDUE, _("逾期未报送")),
            (SUBMITTED, _("待审核")),
            (ACCEPTED, _("已受理")),
        ],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    q = forms.CharField(label=_("创新中心或牵头单位"), required=False, max_length=100)

"""Forms of the expert pool: the public application, the expert's profile, staff's status change."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.forms import CreditCodeField
from accounts.models import Organisation, User, phone_validator
from accounts.validators import validate_id_number
from applications import uploads
from applications.models import Field, Policy
from applications.registration_forms import registration_captcha, username_taken
from evaluation.models import ExpertApplication, ExpertProfile

FILE_RULES = {  # field: (types allowed, label in messages)
    "cv": ({uploads.PDF}, _("个人简历")),
    "certificate": ({uploads.PDF, uploads.JPEG, uploads.PNG}, _("职称证书")),
}


class EmployerMixin:
    def clean(self):
        data = super().clean()
        code = data.get("employer_credit_code")
        if (
            code
            and not data.get("employer_name")
            and not Organisation.objects.filter(credit_code=code).exists()
        ):
            self.add_error("employer_name", _("平台中没有该统一社会信用代码的单位，请填写工作单位名称。"))
        return data


def fields_field():
    return forms.ModelMultipleChoiceField(
        label=_("熟悉领域"),
        queryset=Field.objects.filter(is_active=True),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("可选多个。"),
    )


class ExpertApplicationForm(EmployerMixin, forms.Form):
    full_name = forms.CharField(label=_("姓名"), max_length=60)
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=18,
        validators=[validate_id_number],
        help_text=_("加密保存，仅用于核实身份和回避审查。"),
    )
    username = forms.CharField(
        label=_("希望使用的用户名"),
        max_length=150,
        validators=[User.username_validator],
        help_text=_("审核通过后开通账号，激活链接发到下面的邮箱。"),
    )
    employer_credit_code = CreditCodeField(label=_("工作单位统一社会信用代码"))
    employer_name = forms.CharField(
        label=_("工作单位名称"),
        max_length=200,
        required=False,
        help_text=_("平台中尚无该单位时必填。"),
    )
    employer_since = forms.DateField(
        label=_("现单位入职日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    title = forms.CharField(label=_("职称/职务"), max_length=100)
    fields = fields_field()
    category = forms.ChoiceField(label=_("专家类别"), choices=ExpertProfile.Category.choices)
    mobile = forms.CharField(label=_("手机号码"), max_length=20, validators=[phone_validator])
    email = forms.EmailField(label=_("电子邮箱"))
    cv = forms.FileField(label=_("个人简历"), help_text=_("PDF。"))
    certificate = forms.FileField(label=_("职称证书"), help_text=_("PDF、JPG 或 PNG。"))
    declaration = forms.BooleanField(
        label=_("本人承诺所填信息真实；参加评审时如实申报回避事项，遵守保密和廉洁纪律。"),
        error_messages={"required": _("请阅读并勾选承诺。")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["captcha"] = registration_captcha()
        self.file_facts = {}

    def clean_username(self):
        username = self.cleaned_data["username"]
        pending = ExpertApplication.objects.filter(
            username__iexact=username, status=ExpertApplication.Status.PENDING
        )
        if username_taken(username) or pending.exists():
            raise ValidationError(_("用户名“%(name)s”已被使用，请换一个。"), params={"name": username})
        return username

    def _clean_file(self, name):
        upload = self.cleaned_data.get(name)
        if upload:
            allowed, label = FILE_RULES[name]
            self.file_facts[name] = uploads.inspect(
                upload, "other", Policy.current().attachment_max_mb, allowed=allowed, label=str(label)
            )
        return upload

    def clean_cv(self):
        return self._clean_file("cv")

    def clean_certificate(self):
        return self._clean_file("certificate")

    def files_to_store(self) -> dict:
        return {name: (self.cleaned_data[name], self.file_facts[name]) for name in FILE_RULES}


class ExpertProfileForm(EmployerMixin, forms.Form):
    title = forms.CharField(label=_("职称/职务"), max_length=100)
    employer_credit_code = CreditCodeField(label=_("工作单位统一社会信用代码"))
    employer_name = forms.CharField(
        label=_("工作单位名称"), max_length=200, required=False, help_text=_("更换到平台中尚无的单位时必填。")
    )
    employer_since = forms.DateField(
        label=_("现单位入职日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("更换单位时填写新单位的入职日期；原单位连同起止日期保留三年用于回避审查。"),
    )
    fields = fields_field()
    category = forms.ChoiceField(label=_("专家类别"), choices=ExpertProfile.Category.choices)
    mobile = forms.CharField(label=_("手机号码"), max_length=20, validators=[phone_validator], required=False)

    @classmethod
    def for_profile(cls, profile, data=None):
        initial = {
            "title": profile.title,
            "employer_credit_code": profile.employer.credit_code,
            "employer_name": profile.employer.name,
            "employer_since": profile.employer_since,
            "fields": list(profile.fields.all()),
            "category": profile.category,
            "mobile": profile.user.phone,
        }
        return cls(data, initial=initial)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("在库状态"), choices=ExpertProfile.Status.choices)
    reason = forms.CharField(label=_("原因"), max_length=300)


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("不通过原因"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("申请人会通过邮件收到这段说明。"),
    )

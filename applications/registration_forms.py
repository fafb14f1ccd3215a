"""The forms of joining the programme: an organisation's registration, its later changes, invitations."""

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.forms import CreditCodeField, captcha_field
from accounts.models import District, Organisation, User, phone_validator
from applications import uploads
from applications.models import Attachment, Policy
from applications.registration import DUPLICATE_CODE_MESSAGE, holder_of, stale_before

V = Organisation.Verification
NO_DISTRICT = "none"
LICENCE_HELP = _("营业执照（或事业单位法人证书）的扫描件或照片：PDF、JPG 或 PNG。")


def registration_captcha():
    field = captcha_field()
    field.help_text = _("请输入图中的4个字符（不区分大小写）。")
    return field


def username_taken(username: str) -> bool:
    """Taken by an account, unless that account's registration stayed unconfirmed past the limit."""
    return (
        User.objects.filter(username__iexact=username)
        .exclude(organisation__verification=V.UNCONFIRMED, organisation__created_at__lt=stale_before())
        .exists()
    )


class LicenceMixin:
    """Checks the licence by its content, as every upload (``applications.uploads``)."""

    licence_facts = None

    def clean_licence(self):
        upload = self.cleaned_data.get("licence")
        if upload:
            self.licence_facts = uploads.inspect(
                upload, Attachment.Kind.LICENCE, Policy.current().attachment_max_mb
            )
        return upload


class OrganisationDetailsForm(LicenceMixin, forms.Form):
    name = forms.CharField(label=_("单位名称"), max_length=200, help_text=_("与营业执照一致。"))
    kind = forms.ChoiceField(label=_("单位类型"), choices=Organisation.Kind.choices)
    district = forms.ChoiceField(
        label=_("所在区县"),
        help_text=_("由所选区县的经信委审核注册信息；不属于任何区县的单位由市经济信息委审核。"),
    )
    address = forms.CharField(label=_("地址"), max_length=300)
    legal_representative = forms.CharField(label=_("法定代表人"), max_length=60)
    licence = forms.FileField(label=_("营业执照"), help_text=LICENCE_HELP)
    contact_name = forms.CharField(label=_("联系人"), max_length=60)
    contact_phone = forms.CharField(label=_("联系人手机"), max_length=20, validators=[phone_validator])
    contact_email = forms.EmailField(label=_("联系邮箱"), help_text=_("确认邮件和审核结果发送到这个地址。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Chosen on purpose: "no district" is an option of its own, not what an untouched field means.
        self.fields["district"].choices = [
            ("", _("请选择")),
            (NO_DISTRICT, _("无（不属于任何区县，由市经济信息委审核）")),
            *((str(d.pk), d.name) for d in District.objects.all()),
        ]

    def clean_district(self):
        value = self.cleaned_data["district"]
        return None if value == NO_DISTRICT else District.objects.get(pk=value)


class RegistrationForm(OrganisationDetailsForm):
    """单位注册: the organisation and its first person (the administrator)."""

    credit_code = CreditCodeField()
    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        validators=[User.username_validator],
        help_text=_("登录用，字母、数字和 @/./+/-/_。"),
    )
    full_name = forms.CharField(label=_("您的姓名"), max_length=60)
    phone = forms.CharField(label=_("您的手机号码"), max_length=20, validators=[phone_validator])
    password1 = forms.CharField(
        label=_("密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_order = [
        "name",
        "credit_code",
        "kind",
        "district",
        "address",
        "legal_representative",
        "licence",
        "contact_name",
        "contact_phone",
        "contact_email",
        "username",
        "full_name",
        "phone",
        "password1",
        "password2",
    ]

    duplicate_of = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["captcha"] = registration_captcha()

    def clean_credit_code(self):
        code = self.cleaned_data["credit_code"]
        self.duplicate_of = holder_of(code)
        if self.duplicate_of is not None:
            raise ValidationError(DUPLICATE_CODE_MESSAGE, code="duplicate_credit_code")
        return code

    def clean_username(self):
        username = self.cleaned_data["username"]
        if username_taken(username):
            raise ValidationError(_("用户名“%(name)s”已被使用，请换一个。"), params={"name": username})
        return username

    def clean(self):
        data = super().clean()
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif first:
            probe = User(
                username=data.get("username", ""),
                full_name=data.get("full_name", ""),
                email=data.get("contact_email", ""),
            )
            try:
                password_validation.validate_password(first, probe)
            except ValidationError as error:
                self.add_error("password1", error)
        return data


class OrganisationChangeForm(OrganisationDetailsForm):
    """The administrator's corrections and changes (the credit code never changes)."""

    def __init__(self, *args, organisation: Organisation, **kwargs):
        initial = {
            name: getattr(organisation, name)
            for name in (
                "name",
                "kind",
                "address",
                "legal_representative",
                "contact_name",
                "contact_phone",
                "contact_email",
            )
        }
        initial["district"] = str(organisation.district_id) if organisation.district_id else NO_DISTRICT
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["licence"].required = False
        self.fields["licence"].help_text = _("已上传：%(name)s。只在营业执照变更时上传新的。") % {
            "name": organisation.licence_name or "—"
        }
        if organisation.is_verified:
            self.fields["name"].help_text = _(
                "修改单位名称、法定代表人或营业执照后需重新审核，审核期间不能提交申报。"
            )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("不通过原因"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("申请单位会收到这段说明，并据此修改后重新提交。"),
    )


class InviteForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150, validators=[User.username_validator])
    full_name = forms.CharField(label=_("姓名"), max_length=60)
    email = forms.EmailField(label=_("电子邮箱"), help_text=_("激活链接发送到这个地址，同事自己设置密码。"))
    phone = forms.CharField(label=_("手机号码"), max_length=20, required=False, validators=[phone_validator])

    def clean_username(self):
        username = self.cleaned_data["username"]
        if username_taken(username):
            raise ValidationError(_("用户名“%(name)s”已被使用，请换一个。"), params={"name": username})
        return username

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from accounts.channels import channels, choice_errors, choose_channels
from accounts.models import Organisation, phone_validator
from accounts.validators import normalise_credit_code, validate_credit_code


class CreditCodeField(forms.CharField):
    """Accepts what people type (spaces, lower case, full-width) and validates the normalised code."""

    default_validators = [validate_credit_code]

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("label", _("统一社会信用代码"))
        kwargs.setdefault("help_text", _("18位，见营业执照。"))
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalise_credit_code(super().to_python(value))


def captcha_field():
    from captcha.fields import CaptchaField, CaptchaTextInput

    class PortalCaptchaInput(CaptchaTextInput):
        # The picture with a Chinese alternative text (form widgets are found in the apps' template folders).
        template_name = "accounts/widgets/captcha.html"

    return CaptchaField(
        label=_("图形验证码"),
        widget=PortalCaptchaInput(),
        help_text=_("该账号近期登录失败，请输入图中的4个字符（不区分大小写）。"),
        error_messages={"invalid": _("图形验证码不正确或已过期，请输入新图片中的字符。")},
    )


class SignInForm(AuthenticationForm):
    """Username and password; after the first failures on the account, a graphic CAPTCHA too, solved before
    the password is tried (accounts.lockout)."""

    username = forms.CharField(
        label=_("用户名"), widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"})
    )
    password = forms.CharField(
        label=_("密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        if self.is_bound and self._needs_captcha():
            self.fields["captcha"] = captcha_field()

    def _needs_captcha(self) -> bool:
        from accounts.lockout import captcha_required

        username = str(self.data.get("username", ""))[:150]
        return bool(username) and captcha_required(username)

    def clean(self):
        if "captcha" in self.fields and "captcha" in self.errors:
            return self.cleaned_data  # the picture first: the password is not tried without it
        try:
            return super().clean()
        except forms.ValidationError:
            if "captcha" not in self.fields and self._needs_captcha():
                self.fields["captcha"] = captcha_field()  # shown with the form sent back
            raise


class OrganisationForm(forms.ModelForm):
    credit_code = CreditCodeField()

    class Meta:
        model = Organisation
        fields = [
            "name",
            "credit_code",
            "kind",
            "district",
            "address",
            "legal_representative",
            "contact_name",
            "contact_phone",
            "contact_email",
        ]


class NotificationSettingsForm(forms.Form):
    """个人设置: how the person is told (in the portal always; e-mail and SMS as they choose)."""

    channels = forms.MultipleChoiceField(
        label=_("通知渠道"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("站内通知始终保留；可另选电子邮件和手机短信。"),
    )
    phone = forms.CharField(
        label=_("手机号码"),
        required=False,
        max_length=20,
        validators=[phone_validator],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
        help_text=_("接收短信通知须填写11位手机号码。"),
    )
    sms_consent = forms.BooleanField(
        label=_("我同意平台向上述手机号码发送与本人事项相关的短信通知"),
        required=False,
        help_text=_("可随时在此取消；每人每天最多发送 %(limit)s 条。"),
    )
    language = forms.ChoiceField(label=_("通知语言"), choices=settings.LANGUAGES)

    def __init__(self, *args, user, **kwargs):
        self.user = user
        initial = {
            "channels": user.notification_channels,
            "phone": user.phone,
            "sms_consent": user.sms_consent_at is not None,
            "language": user.language,
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields["channels"].choices = [(c.name, c.label) for c in channels()]
        consent = self.fields["sms_consent"]
        consent.help_text = consent.help_text % {"limit": settings.SMS_DAILY_LIMIT}
        if user.sms_consent_at:
            consent.help_text = _("已于%(when)s同意。") % {
                "when": date_format(timezone.localtime(user.sms_consent_at), "Y-m-d H:i")
            } + str(consent.help_text)

    def clean(self):
        data = super().clean()
        if "channels" in data and "phone" in data:
            errors = choice_errors(data["channels"], data.get("sms_consent"), data["phone"])
            for field, error in errors.items():
                self.add_error(field, error)
        return data

    def save(self):
        data = self.cleaned_data
        choose_channels(
            self.user, data["channels"], data["sms_consent"], phone=data["phone"], language=data["language"]
        )

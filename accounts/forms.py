from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
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

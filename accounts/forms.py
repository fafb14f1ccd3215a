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


class SignInForm(AuthenticationForm):
    username = forms.CharField(
        label=_("用户名"), widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"})
    )
    password = forms.CharField(
        label=_("密码"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


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

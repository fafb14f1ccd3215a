"""Password rules, re-authentication before sensitive actions, and who must use two-factor sign-in."""

from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

REAUTH_SESSION_KEY = "reauth_at"


class CharacterClassValidator:
    """At least ``classes`` of: lower-case letters, upper-case letters, digits, other characters."""

    def __init__(self, classes: int = 3):
        self.classes = classes

    def validate(self, password, user=None):
        found = sum(
            (
                any(c.islower() for c in password),
                any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password),
            )
        )
        if found < self.classes:
            raise ValidationError(
                _("密码须包含小写字母、大写字母、数字和符号中的至少%(n)d类。") % {"n": self.classes},
                code="password_character_classes",
            )

    def get_help_text(self):
        return _("密码须包含小写字母、大写字母、数字和符号中的至少%(n)d类。") % {"n": self.classes}


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's length rule with the portal's own words (Django 5.2 changed the message and its Chinese
    catalogue does not have the new one yet, so people met it in English)."""

    def get_error_message(self):
        return _("密码太短，至少需要%(min_length)d个字符。") % {"min_length": self.min_length}

    def get_help_text(self):
        return _("密码至少需要%(min_length)d个字符。") % {"min_length": self.min_length}


def password_expired(user, now=None) -> bool:
    if not settings.PASSWORD_MAX_AGE_DAYS:
        return False
    changed = user.password_changed_at or user.date_joined
    return (now or timezone.now()) - changed > timedelta(days=settings.PASSWORD_MAX_AGE_DAYS)


def needs_two_factor(user) -> bool:
    return user.is_authenticated and bool(set(settings.TWO_FACTOR_ROLES) & set(user.role_codes))


def recently_authenticated(request) -> bool:
    stamp = request.session.get(REAUTH_SESSION_KEY)
    if not stamp:
        return False
    return timezone.now().timestamp() - stamp < settings.REAUTH_MINUTES * 60


def mark_reauthenticated(request) -> None:
    request.session[REAUTH_SESSION_KEY] = timezone.now().timestamp()


def recent_password_required(view):
    """Ask for the password again (once every REAUTH_MINUTES) before a sensitive page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not recently_authenticated(request):
            return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, *args, **kwargs)

    return wrapper


def mask_id_number(value: str) -> str:
    """500103199001011234 → 5001**********1234 (region kept for context, birth date hidden)."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:] if len(value) > 8 else "*" * len(value)


def mask_phone(value: str) -> str:
    digits = [i for i, c in enumerate(value) if c.isdigit()]
    if len(digits) < 7:
        return "*" * len(value)
    hidden = set(digits[3:-4])
    return "".join("*" if i in hidden else c for i, c in enumerate(value))

"""The channels a notification is delivered by: small adapters named in ``settings.NOTIFICATION_CHANNELS``.

``notify()`` names the event (a ``Notification`` of a kind, for one person); each channel decides whether it
carries that kind to that person (``prepare``: ``None`` means not at all) and later delivers it (``send``). A
channel that cannot reach its server raises ``ChannelDown`` and the delivery waits for the retry sweep; a
channel with nobody to send to (no address, no consent, the daily cap) raises ``NothingToSend`` and the
delivery is recorded as not sent, with the reason. The in-portal entry is the notification itself.
"""

import re
from datetime import date, datetime
from functools import cache
from smtplib import SMTPException

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

MOBILE = re.compile(r"^1[3-9]\d{9}$")


class ChannelDown(Exception):
    """The channel's server could not be reached or refused for now: try again later."""


class NothingToSend(Exception):
    """There is nobody to send this to by this channel: recorded as not sent, never retried."""


class Channel:
    name = ""
    label = ""

    def chosen_by(self, user) -> bool:
        return self.name in (user.notification_channels or [])

    def prepare(self, user, kind: str, context: dict) -> dict | None:
        """What the delivery must keep from the moment of the event, or None if this channel skips it."""
        return {}

    def send(self, delivery) -> str:
        """Deliver it; returns the provider's reference. Raises ChannelDown or NothingToSend."""
        raise NotImplementedError


class EmailChannel(Channel):
    """Plain-text e-mail through Django's e-mail backend (``EMAIL_URL``)."""

    name = "email"
    label = _("电子邮件")

    def send(self, delivery) -> str:
        note = delivery.notification
        if not note.recipient.email:
            raise NothingToSend("no e-mail address")
        link = f"\n\n{settings.PORTAL_BASE_URL}{note.link}\n" if note.link else ""
        try:
            send_mail(note.subject, note.body + link, None, [note.recipient.email])
        except (SMTPException, OSError) as exc:
            raise ChannelDown(str(exc)) from exc
        return ""


def mobile_number(phone: str) -> str:
    """A mainland mobile number (11 digits) from what was typed (``User.phone``), or "" if it is not one."""
    digits = re.sub(r"[\s\-()]", "", phone or "")
    digits = digits.removeprefix("+86").removeprefix("0086")
    return digits if MOBILE.match(digits) else ""


def _resolve(context: dict, path: str) -> str:
    value = context
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        if value is None:
            return ""
    if isinstance(value, datetime):
        return format_date(timezone.localtime(value), "Y-m-d H:i")
    if isinstance(value, date):
        return format_date(value, "Y-m-d")
    return str(value)


def sms_message(kind: str, context: dict) -> dict | None:
    """The provider template code, its parameters (in the template's order) and the short text of a kind,
    from ``settings.SMS_TEMPLATES``; None for a kind that does not go by SMS."""
    template = settings.SMS_TEMPLATES.get(kind)
    if not template or not template.get("code"):
        return None
    params = [_resolve(context, path) for path in template.get("params", [])]
    text = template.get("text", "")
    for position, value in enumerate(params, start=1):
        text = text.replace(f"{{{position}}}", value)
    return {"template": template["code"], "params": params, "text": text}


class SMSChannel(Channel):
    """SMS through the provider backend in ``settings.SMS_BACKEND``: only pre-approved templates, only to
    people who chose SMS, consented and have a mobile number, at most ``SMS_DAILY_LIMIT`` a day each."""

    name = "sms"
    label = _("手机短信")

    def chosen_by(self, user) -> bool:
        return super().chosen_by(user) and bool(user.sms_consent_at)

    def prepare(self, user, kind: str, context: dict) -> dict | None:
        return sms_message(kind, context)

    def send(self, delivery) -> str:
        from accounts.models import Delivery

        user = delivery.notification.recipient
        number = mobile_number(user.phone)
        if not user.sms_consent_at or self.name not in (user.notification_channels or []):
            raise NothingToSend("no consent to SMS")
        if not number:
            raise NothingToSend("no mobile number")
        with connection.cursor() as cursor:  # one sender at a time per person, so the cap holds
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [7201, user.pk])
        start_of_day = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
        sent_today = Delivery.objects.filter(
            channel=self.name, notification__recipient=user, sent_at__gte=start_of_day
        ).count()
        if sent_today >= settings.SMS_DAILY_LIMIT:
            raise NothingToSend(f"daily SMS limit reached ({settings.SMS_DAILY_LIMIT})")
        payload = delivery.payload
        return sms_backend().send(number, payload["template"], payload["params"], payload.get("text", ""))


@cache
def _load(path: str):
    return import_string(path)


def channels() -> list[Channel]:
    """The channels this deployment delivers by, in the order of the setting."""
    return [_load(path)() for path in settings.NOTIFICATION_CHANNELS.values()]


def channel(name: str) -> Channel:
    return _load(settings.NOTIFICATION_CHANNELS[name])()


def sms_backend():
    return _load(settings.SMS_BACKEND)()


def choice_errors(chosen: list[str], consent: bool, phone: str) -> dict[str, str]:
    """Why a person's choice of channels cannot be kept, by field (empty if it can): SMS needs consent and
    a mainland mobile number."""
    errors = {}
    if "sms" in chosen:
        if not consent:
            errors["sms_consent"] = _("选择短信通知须同意接收短信。")
        if not mobile_number(phone):
            errors["phone"] = _("短信通知须填写11位手机号码。")
    return errors


def choose_channels(user, chosen: list[str], consent: bool, **fields) -> None:
    """Keep a person's notification settings (channels, SMS consent with its time, and ``fields`` such as
    the mobile number and the language); refuses what ``choice_errors`` names."""
    configured = settings.NOTIFICATION_CHANNELS
    chosen = [name for name in configured if name in chosen]
    phone = fields.get("phone", user.phone)
    if errors := choice_errors(chosen, consent, phone):
        raise ValidationError(errors)
    for name, value in fields.items():
        setattr(user, name, value)
    user.notification_channels = chosen
    if not consent:
        user.sms_consent_at = None
    elif user.sms_consent_at is None:
        user.sms_consent_at = timezone.now()
    user.save(update_fields=[*fields, "notification_channels", "sms_consent_at"])

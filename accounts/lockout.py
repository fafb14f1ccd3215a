"""Sign-in lockout that an attacker cannot turn against the owner (MLPS 2.0 lockout, issue 16).

- An account is locked *for one address* after ``AXES_FAILURE_LIMIT`` failures from that address (django-axes,
  lockout parameter username + address): someone typing wrong passwords for a colleague's username locks
  only themselves out of it.
- From any address, an account is locked after the much higher ``AXES_ACCOUNT_FAILURE_LIMIT``, and an
  address after ``AXES_ADDRESS_FAILURE_LIMIT`` failures on any accounts (a spray from one place).
- After ``LOGIN_CAPTCHA_AFTER_FAILURES`` failures on an account (from anywhere) the sign-in form asks for a
  graphic CAPTCHA (django-simple-captcha) before the password is tried at all.
All counts are over the cool-off period; the security administrator sees and lifts each kind
(``accounts.security_views.security_admin_home``).
"""

from datetime import timedelta

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone


def recent_attempts():
    return AccessAttempt.objects.filter(
        attempt_time__gte=timezone.now() - timedelta(hours=settings.AXES_COOLOFF_TIME)
    )


def _sum(queryset) -> int:
    return queryset.aggregate(total=Sum("failures_since_start"))["total"] or 0


def account_failures(username: str) -> int:
    return _sum(recent_attempts().filter(username=username)) if username else 0


def captcha_required(username: str) -> bool:
    return account_failures(username) >= settings.LOGIN_CAPTCHA_AFTER_FAILURES


class PortalAxesHandler(AxesDatabaseHandler):
    """django-axes' database handler counting against the three limits above. Axes compares the number this
    returns with ``AXES_FAILURE_LIMIT``: an account or address over its own (higher) limit counts as that."""

    def get_failures(self, request, credentials=None) -> int:
        pair = super().get_failures(request, credentials)  # this account from this address
        limit = settings.AXES_FAILURE_LIMIT
        if pair >= limit:
            return pair
        recent = AccessAttempt.objects.filter(attempt_time__gte=get_cool_off_threshold(request))
        username = get_client_username(request, credentials)
        if username and _sum(recent.filter(username=username)) >= settings.AXES_ACCOUNT_FAILURE_LIMIT:
            return limit
        address = getattr(request, "axes_ip_address", None)
        if address and _sum(recent.filter(ip_address=address)) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return limit
        return pair


def locked() -> list[dict]:
    """What is locked now, for the security administrator: pairs, accounts, addresses (each with its
    failures and last attempt); unlocking a row deletes the attempts it counts."""
    recent = recent_attempts()

    def rows(fields, limit, kind):
        present = recent
        for field in fields:
            present = present.exclude(**{field: None})
        return [
            {
                "kind": kind,
                "username": row.get("username") or "",
                "ip_address": row.get("ip_address") or "",
                "failures": row["failures"],
                "last": row["last"],
            }
            for row in present.values(*fields)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
            .order_by("-last")[:200]
        ]

    return (
        rows(("username",), settings.AXES_ACCOUNT_FAILURE_LIMIT, "account")
        + rows(("ip_address",), settings.AXES_ADDRESS_FAILURE_LIMIT, "address")
        + rows(("username", "ip_address"), settings.AXES_FAILURE_LIMIT, "pair")
    )

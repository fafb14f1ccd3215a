from django.conf import settings

from accounts.navigation import navigation_for


def portal(request):
    user = getattr(request, "user", None)
    return {
        "PORTAL_NAME": settings.PORTAL_NAME,
        "navigation": navigation_for(user) if user is not None else [],
        # Counted only if the template shows it, then cached (accounts.notifications.unread_count).
        "unread_notifications": (lambda: _unread(user)) if user is not None and user.is_authenticated else 0,
    }


def _unread(user) -> int:
    from accounts.notifications import unread_count

    return unread_count(user)

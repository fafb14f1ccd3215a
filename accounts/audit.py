"""Writing the audit log. Every app calls ``record``; the sign-in signals are connected here."""

from contextvars import ContextVar

from django.contrib.auth import signals as auth_signals
from django.db.models.signals import m2m_changed, post_save

from accounts.http import client_ip
from accounts.models import AuditEvent, User

# The request being served (set by accounts.middleware.SecurityPolicyMiddleware), so that changes made by
# signal handlers (a user or a role changed in the admin) are recorded with who did it and from where.
current_request: ContextVar = ContextVar("current_request", default=None)


def record(
    action: str,
    *,
    request=None,
    actor=None,
    target: str = "",
    detail: str = "",
    success: bool = True,
    username: str = "",
    ip: str | None = None,
) -> AuditEvent:
    request = request if request is not None else current_request.get()
    if request is not None:
        actor = actor or (
            request.user if getattr(request, "user", None) and request.user.is_authenticated else None
        )
        ip = ip or client_ip(request)
    return AuditEvent.objects.create(
        actor=actor if actor is not None and getattr(actor, "pk", None) else None,
        username=username
        or (actor.get_username() if actor is not None and getattr(actor, "pk", None) else ""),
        action=action,
        target=target[:200],
        detail=detail,
        ip_address=ip,
        success=success,
    )


def target_of(instance) -> str:
    return f"{instance._meta.label}:{instance.pk}"


def _signed_in(sender, request, user, **kwargs):
    record("sign_in", request=request, actor=user)


def _signed_out(sender, request, user, **kwargs):
    if user is not None:
        record("sign_out", request=request, actor=user)


def _sign_in_failed(sender, credentials, request=None, **kwargs):
    record(
        "sign_in",
        request=request,
        username=str(credentials.get("username", ""))[:150],
        success=False,
        detail="wrong credentials or locked",
    )


def _password_event(instance) -> None:
    """Every password set or reset is its own event: who set it, for whom, from where, how."""
    request = current_request.get()
    person = getattr(request, "user", None) if request is not None else None
    target, owner = target_of(instance), instance.get_username()
    if request is None:
        record("password.set", actor=None, username="", target=target, detail=f"{owner}: command line")
    elif person is not None and person.is_authenticated and person.pk == instance.pk:
        record("password.change", request=request, target=target, detail=owner)
    elif person is not None and person.is_authenticated:
        record("password.set_for_other", request=request, target=target, detail=owner)
    else:  # through an e-mailed one-time link: the owner, proven by the link
        how = "activation link" if instance.last_login is None else "reset link"
        record("password.reset", request=request, actor=instance, target=target, detail=f"{owner}: {how}")


def _user_saved(sender, instance, created, raw=False, update_fields=None, **kwargs):
    if getattr(instance, "_password_set", False):
        instance._password_set = False
        if not raw and not created:
            _password_event(instance)
    if raw or (
        update_fields is not None
        and set(update_fields) <= {"last_login", "password", "password_changed_at", "language"}
    ):
        return
    record(
        "user.create" if created else "user.change",
        target=target_of(instance),
        detail=instance.get_username(),
    )


def _roles_changed(sender, instance, action, pk_set, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        from django.contrib.auth.models import Group

        names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
        record(
            "roles.change",
            target=target_of(instance),
            detail=f"{action}: {', '.join(names)} ({instance.get_username()})",
        )


def connect():
    auth_signals.user_logged_in.connect(_signed_in, dispatch_uid="audit-sign-in")
    auth_signals.user_logged_out.connect(_signed_out, dispatch_uid="audit-sign-out")
    auth_signals.user_login_failed.connect(_sign_in_failed, dispatch_uid="audit-sign-in-failed")
    post_save.connect(_user_saved, sender=User, dispatch_uid="audit-user-saved")
    m2m_changed.connect(_roles_changed, sender=User.groups.through, dispatch_uid="audit-roles")

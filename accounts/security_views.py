"""Two-factor sign-in (TOTP), re-authentication, the security and audit administrators' pages."""

import base64
import io

import django_filters
import qrcode
import qrcode.image.svg
from axes.utils import reset as axes_reset
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, logout
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import audit, audit_names, credentials, lockout
from accounts.decorators import page_permission
from accounts.filtering import BootstrapFilterMixin, IPAddressFilter
from accounts.http import query_without_page
from accounts.models import AuditEvent, User
from accounts.security import mark_reauthenticated
from accounts.widgets import DateInput


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("动态验证码（6位数字）"),
        max_length=6,
        min_length=6,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


def _next(request, default="accounts:home"):
    target = request.GET.get("next") or request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    from django.urls import reverse

    return reverse(default)


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@login_required
def two_factor(request):
    """Verify the second factor; the first time, set up an authenticator app from a QR code."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    setup = device is None
    if setup:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
            user=user, name="authenticator", confirmed=False
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            if setup:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                audit.record("two_factor.setup", request=request)
            otp_login(request, device)
            audit.record("two_factor.verify", request=request)
            return redirect(_next(request))
        audit.record("two_factor.verify", request=request, success=False)
        form.add_error("token", _("验证码不正确或已过期，请重新输入。"))
    return render(
        request,
        "accounts/two_factor.html",
        {
            "page_title": _("设置双因素认证") if setup else _("双因素认证"),
            "form": form,
            "setup": setup,
            "qr": _qr_svg(device.config_url) if setup else None,
            "secret": base64.b32encode(device.bin_key).decode() if setup else None,
            "next": _next(request),
        },
    )


class ReauthForm(forms.Form):
    password = forms.CharField(label=gettext_lazy("请再次输入登录密码"), widget=forms.PasswordInput)


@login_required
def reauth(request):
    """The password again. Wrong passwords count with the sign-in failures (django-axes, through the
    authentication backends); at the lockout limit the session ends."""
    form = ReauthForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = request.user
        checked = authenticate(
            request, username=person.get_username(), password=form.cleaned_data["password"]
        )
        if checked is not None and checked.pk == person.pk:
            mark_reauthenticated(request)
            audit.record("reauth", request=request)
            return redirect(_next(request))
        audit.record("reauth", request=request, success=False)
        if getattr(request, "axes_locked_out", False):
            audit.record("reauth.locked_out", request=request, actor=person, success=False)
            logout(request)
            return render(
                request, "accounts/locked_out.html", {"page_title": _("账号已暂时锁定")}, status=429
            )
        form.add_error("password", _("密码不正确。"))
    return render(
        request, "accounts/reauth.html", {"page_title": _("确认身份"), "form": form, "next": _next(request)}
    )


# --- 安全管理员: lockouts and second factors ---------------------------------------------------------


class ResetTwoFactorForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("用户名"))


CREDENTIAL_ACTIONS = ("roles.change", "user.create", "user.email_change", "password.link_sent")


def _credential_event_text(event) -> str:
    """A role change as a person reads it: "授予 市经济信息委工作人员 → wang" (the log keeps the codes)."""
    import re

    from accounts.roles import Role

    found = re.fullmatch(r"post_(add|remove|clear): (.*) \((.*)\)", event.detail)
    if event.action != "roles.change" or not found:
        return event.detail
    kind, codes, username = found.groups()
    labels = "、".join(
        str(Role(code).label) if code in Role.values else code for code in codes.split(", ") if code
    )
    verb = {"add": _("授予"), "remove": _("撤销"), "clear": _("撤销全部角色")}[kind]
    return f"{verb} {labels} → {username}".replace("  ", " ")


@page_permission("accounts.security_admin_home")
def security_admin_home(request):
    reset_form = ResetTwoFactorForm(request.POST if "reset_2fa" in request.POST else None)
    if request.method == "POST":
        if "unlock" in request.POST:
            username = request.POST.get("username") or None
            ip = request.POST.get("ip_address") or None
            # Both given: that account from that address only; one given: everything counted against it.
            count = axes_reset(username=username, ip=ip) if (username or ip) else 0
            audit.record("lockout.reset", request=request, target=username or ip or "", detail=str(count))
            messages.success(request, _("已解除锁定。"))
            return redirect("accounts:security_admin_home")
        if reset_form.is_valid():
            user = User.objects.filter(username=reset_form.cleaned_data["username"]).first()
            if user is None:
                reset_form.add_error("username", _("没有这个用户。"))
            elif not credentials.may_manage_credentials(request.user, user):
                reset_form.add_error(
                    "username", _("管理员账号的双因素认证只能由超级管理员重置（三员分立）。")
                )
            else:
                TOTPDevice.objects.filter(user=user).delete()
                audit.record("two_factor.reset", request=request, target=audit.target_of(user))
                messages.success(
                    request, _("已重置%(user)s的双因素认证，其下次登录时重新设置。") % {"user": user}
                )
                return redirect("accounts:security_admin_home")
    locked = lockout.locked()
    # Who was given which role (or lost it), by whom, from where: the security administrator watches
    # least privilege (the audit administrator reads the whole log).
    events = AuditEvent.objects.filter(action__in=CREDENTIAL_ACTIONS).order_by("-created_at", "-pk")[:30]
    role_changes = [{"event": event, "text": _credential_event_text(event)} for event in events]
    return render(
        request,
        "accounts/security_admin_home.html",
        {
            "page_title": _("安全管理"),
            "locked": locked,
            "role_changes": role_changes,
            "reset_form": reset_form,
            "policy": {
                "failure_limit": settings.AXES_FAILURE_LIMIT,
                "account_failure_limit": settings.AXES_ACCOUNT_FAILURE_LIMIT,
                "address_failure_limit": settings.AXES_ADDRESS_FAILURE_LIMIT,
                "captcha_after": settings.LOGIN_CAPTCHA_AFTER_FAILURES,
                "cooloff_minutes": int(settings.AXES_COOLOFF_TIME * 60),
                "password_max_age_days": settings.PASSWORD_MAX_AGE_DAYS,
                "session_minutes": settings.SESSION_COOKIE_AGE // 60,
                "two_factor_roles": settings.TWO_FACTOR_ROLES,
                "audit_retention_days": settings.AUDIT_RETENTION_DAYS,
            },
        },
    )


# --- 审计管理员: the audit log, read only -------------------------------------------------------------


class AuditFilter(BootstrapFilterMixin, django_filters.FilterSet):
    username = django_filters.CharFilter(label=gettext_lazy("账号"), lookup_expr="icontains")
    action = django_filters.ChoiceFilter(
        label=gettext_lazy("事项"), choices=audit_names.action_choices, empty_label=gettext_lazy("全部")
    )
    success = django_filters.BooleanFilter(
        label=gettext_lazy("结果"),
        widget=forms.Select(
            choices=[
                ("", gettext_lazy("全部")),
                ("true", gettext_lazy("成功")),
                ("false", gettext_lazy("失败")),
            ]
        ),
    )
    since = django_filters.DateFilter(
        label=gettext_lazy("起始日期"),
        field_name="created_at",
        lookup_expr="date__gte",
        widget=DateInput(),
    )
    until = django_filters.DateFilter(
        label=gettext_lazy("截止日期"),
        field_name="created_at",
        lookup_expr="date__lte",
        widget=DateInput(),
    )
    ip_address = IPAddressFilter(label=gettext_lazy("IP地址"))

    class Meta:
        model = AuditEvent
        fields = ["username", "action", "success", "since", "until", "ip_address"]


@page_permission("accounts.view_audit_log")
def audit_log(request):
    filtered = AuditFilter(request.GET, queryset=AuditEvent.objects.order_by("-created_at", "-pk"))
    page = Paginator(filtered.qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/audit_log.html",
        {
            "page_title": _("审计日志"),
            "filter": filtered,
            "page": page,
            "rows": audit_names.describe(list(page), request.user),
            "query": query_without_page(request),
        },
    )

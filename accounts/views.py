from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView
from rules.contrib.views import PermissionRequiredMixin

from accounts.roles import HOME_URL_NAMES


class RoleHomeView(LoginRequiredMixin, View):
    """After sign-in: send each person to the home page of their role."""

    def get(self, request):
        role = request.user.primary_role
        if role is not None:
            return redirect(HOME_URL_NAMES[role])
        return render(request, "accounts/no_role.html", {"page_title": _("账号尚未分配角色")})


class AdminHomeView(PermissionRequiredMixin, TemplateView):
    """The landing page of one of the three separated administrator duties (三员)."""

    duty = ""

    def get_template_names(self):
        return [f"accounts/{self.duty}_home.html"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.duty == "system_admin":
            from accounts.models import BackupRun

            context["backups"] = list(BackupRun.objects.all()[:5])
        return context


def _admin_home(duty: str, title):
    return AdminHomeView.as_view(
        duty=duty, permission_required=f"accounts.{duty}_home", extra_context={"page_title": title}
    )


system_admin_home = _admin_home("system_admin", _("系统管理"))


def set_language(request):
    """The language switch (GET or POST: changing the display language needs no CSRF protection, and a GET
    form keeps cacheable public pages free of tokens); also remembered on the account for e-mails."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils.http import url_has_allowed_host_and_scheme

    data = request.POST if request.method == "POST" else request.GET
    code = data.get("language")
    target = data.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    if code in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            code,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=getattr(settings, "LANGUAGE_COOKIE_SECURE", False),
        )
        if request.user.is_authenticated:
            get_user_model().objects.filter(pk=request.user.pk).update(language=code)  # e-mails follow
    return response


def reader_mode(request):
    """The large-text, high-contrast switch (适老化) for browsers without JavaScript: remembered in a cookie.
    A display preference, like the language, so a GET form (no token, cacheable public pages) is enough."""
    from django.conf import settings
    from django.utils.http import url_has_allowed_host_and_scheme

    data = request.POST if request.method == "POST" else request.GET
    target = data.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = redirect(target)
    response.set_cookie(
        "portal_reader",
        "1" if data.get("reader") == "1" else "0",
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=getattr(settings, "LANGUAGE_COOKIE_SECURE", False),
    )
    return response


@login_required
def notifications(request):
    """站内通知: the person's notifications, newest first; showing a page marks it read."""
    from django.core.paginator import Paginator
    from django.utils import timezone

    from accounts.models import Notification
    from accounts.notifications import forget_unread

    queryset = Notification.objects.filter(recipient=request.user).order_by("-created_at", "-pk")
    page = Paginator(queryset, 20).get_page(request.GET.get("page"))
    unread = [n.pk for n in page if n.read_at is None]
    if unread:
        Notification.objects.filter(pk__in=unread).update(read_at=timezone.now())
        forget_unread(request.user.pk)
    return render(
        request,
        "accounts/notifications.html",
        {"page_title": _("站内通知"), "page": page, "unread": set(unread)},
    )


def csrf_failure(request, reason=""):
    """A form whose page expired or was opened in another session (the CSRF check failed): say what to do.
    The technical reason goes to the log only."""
    import logging

    logging.getLogger("accounts.csrf").warning("CSRF check failed on %s: %s", request.path, reason)
    return render(request, "403_csrf.html", {"page_title": _("页面已过期")}, status=403)


def _limited(request, group: str, value: str, rate: str) -> bool:
    """django-ratelimit's counter for ``value`` in ``group``; a cache that is down limits nothing."""
    import logging

    from django_ratelimit.core import is_ratelimited

    try:
        return is_ratelimited(request, group=group, key=lambda _g, _r: value, rate=rate, increment=True)
    except Exception as error:
        logging.getLogger(__name__).warning("password reset rate limit unavailable: %s", error)
        return False


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form; an account that had its share of reset e-mails this hour gets no more, and the
    e-mail is handed to the worker, so the answer takes as long whether or not the account exists."""

    request = None

    def get_users(self, email):
        from django.conf import settings

        for user in super().get_users(email):
            rate = settings.PASSWORD_RESET_RATE_ACCOUNT
            if not _limited(self.request, "password-reset-account", str(user.pk), rate):
                yield user

    def send_mail(self, subject_template_name, email_template_name, context, from_email, to_email, **kwargs):
        import logging

        from django.template.loader import render_to_string

        from accounts.tasks import send_email

        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        try:
            send_email.delay(subject, body, [to_email])
        except Exception as error:  # no broker: send it from here rather than not at all
            logging.getLogger(__name__).warning("reset e-mail not queued (%s), sent directly", error)
            super().send_mail(
                subject_template_name, email_template_name, context, from_email, to_email, **kwargs
            )


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """找回密码, throttled per client address and per account (and per e-mail address typed). The page that
    follows is the same whether the account exists, and whether the e-mail was held back by the limit."""

    form_class = ThrottledPasswordResetForm

    def form_valid(self, form):
        from django.conf import settings

        from accounts import audit
        from accounts.http import client_ip

        address = client_ip(self.request) or ""
        if _limited(self.request, "password-reset-address", address, settings.PASSWORD_RESET_RATE_ADDRESS):
            audit.record("password.reset_throttled", request=self.request, detail="address", success=False)
            form.add_error(None, _("同一网络地址申请找回密码过于频繁，请一小时后再试。"))
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        email = form.cleaned_data["email"].strip().lower()
        if _limited(self.request, "password-reset-email", email, settings.PASSWORD_RESET_RATE_ACCOUNT):
            audit.record("password.reset_throttled", request=self.request, detail="e-mail", success=False)
            return redirect(self.get_success_url())  # the same answer as when it is sent
        form.request = self.request
        return super().form_valid(form)


@login_required
def notification_settings(request):
    """个人设置: the person's channels (e-mail, SMS with consent and a mobile number) and language."""
    from django.contrib import messages

    from accounts.forms import NotificationSettingsForm

    form = NotificationSettingsForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("通知设置已保存。"))
        return redirect("accounts:notification_settings")
    return render(
        request,
        "accounts/notification_settings.html",
        {"page_title": _("个人设置"), "form": form, "email": request.user.email},
    )

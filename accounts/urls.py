from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.utils.translation import gettext_lazy as _

from accounts import security_views, views
from accounts.forms import SignInForm

app_name = "accounts"


def titled(view_class, title, **kwargs):
    """An auth view with our template and the page title the layout shows in <title> and <h1>."""
    return view_class.as_view(extra_context={"page_title": title}, **kwargs)


urlpatterns = [
    path(
        "login/",
        titled(
            auth_views.LoginView,
            _("登录"),
            template_name="accounts/login.html",
            authentication_form=SignInForm,
            redirect_authenticated_user=True,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("home/", views.RoleHomeView.as_view(), name="home"),
    path("notifications/", views.notifications, name="notifications"),
    path("settings/", views.notification_settings, name="notification_settings"),
    path("reader-mode/", views.reader_mode, name="reader_mode"),
    path(
        "password/change/",
        titled(
            auth_views.PasswordChangeView,
            _("修改密码"),
            template_name="accounts/password_change.html",
            success_url=reverse_lazy("accounts:password_change_done"),
        ),
        name="password_change",
    ),
    path(
        "password/change/done/",
        titled(
            auth_views.PasswordChangeDoneView,
            _("密码已修改"),
            template_name="accounts/password_change_done.html",
        ),
        name="password_change_done",
    ),
    path(
        "password/reset/",
        titled(
            views.ThrottledPasswordResetView,
            _("找回密码"),
            template_name="accounts/password_reset.html",
            email_template_name="accounts/email/password_reset.txt",
            subject_template_name="accounts/email/password_reset_subject.txt",
            success_url=reverse_lazy("accounts:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        titled(
            auth_views.PasswordResetDoneView,
            _("邮件已发送"),
            template_name="accounts/password_reset_done.html",
        ),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        titled(
            auth_views.PasswordResetConfirmView,
            _("设置新密码"),
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="password_reset_confirm",
    ),
    path(
        "activate/<uidb64>/<token>/",
        titled(
            auth_views.PasswordResetConfirmView,
            _("激活账号：设置密码"),
            template_name="accounts/password_reset_confirm.html",
            success_url=reverse_lazy("accounts:password_reset_complete"),
        ),
        name="activate",
    ),
    path(
        "password/reset/complete/",
        titled(
            auth_views.PasswordResetCompleteView,
            _("密码已重设"),
            template_name="accounts/password_reset_complete.html",
        ),
        name="password_reset_complete",
    ),
    path("system-admin/", views.system_admin_home, name="system_admin_home"),
    path("security-admin/", security_views.security_admin_home, name="security_admin_home"),
    path("audit-admin/", security_views.audit_log, name="audit_admin_home"),
    path("2fa/", security_views.two_factor, name="two_factor"),
    path("reauth/", security_views.reauth, name="reauth"),
]

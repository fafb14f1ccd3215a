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


def _admin_home(duty: str, title):
    return AdminHomeView.as_view(
        duty=duty, permission_required=f"accounts.{duty}_home", extra_context={"page_title": title}
    )


system_admin_home = _admin_home("system_admin", _("系统管理"))
security_admin_home = _admin_home("security_admin", _("安全管理"))
audit_admin_home = _admin_home("audit_admin", _("审计管理"))

from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from rules.contrib.views import PermissionRequiredMixin


class LeadHomeView(PermissionRequiredMixin, TemplateView):
    """The lead unit's home; the applications issue fills it with "my applications"."""

    permission_required = "applications.lead_home"
    template_name = "applications/lead_home.html"
    extra_context = {"page_title": _("我的申报")}


class DistrictHomeView(PermissionRequiredMixin, TemplateView):
    """District staff's home; the applications issue fills it with the district's applications."""

    permission_required = "applications.district_home"
    template_name = "applications/district_home.html"
    extra_context = {"page_title": _("本区县申报")}

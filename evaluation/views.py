from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from rules.contrib.views import PermissionRequiredMixin


class StaffHomeView(PermissionRequiredMixin, TemplateView):
    """Commission staff's home; the review workflow issue turns it into the workbench."""

    permission_required = "evaluation.staff_home"
    template_name = "evaluation/staff_home.html"
    extra_context = {"page_title": _("评审工作台")}


class ExpertHomeView(PermissionRequiredMixin, TemplateView):
    """An expert's home; the expert panels issue lists their assignments here."""

    permission_required = "evaluation.expert_home"
    template_name = "evaluation/expert_home.html"
    extra_context = {"page_title": _("我的评审任务")}

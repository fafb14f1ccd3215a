from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.decorators import page_permission
from reports.dashboard import figures


@page_permission("reports.dashboard")
def dashboard(request):
    """The programme dashboard: commission staff see everything, district staff their district."""
    district = None if request.user.has_perm("reports.centres") else request.user.district
    return render(
        request,
        "reports/dashboard.html",
        {"page_title": _("工作看板"), "f": figures(district), "district": district},
    )

from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from accounts.decorators import page_permission
from config import fragments
from reports.dashboard import figures


@page_permission("reports.dashboard")
def dashboard(request):
    """The programme dashboard: commission staff see everything, district staff their district.

    The figures are cached per district until the data behind them changes (two minutes at most, for
    what follows from the date alone, such as overdue summaries)."""
    district = None if request.user.has_perm("reports.centres") else request.user.district
    context = {"page_title": _("工作看板"), "district": district}
    body = fragments.cached(
        "dashboard",
        district.pk if district else None,
        ("programme",),
        lambda: render_to_string("reports/_dashboard.html", {**context, "f": figures(district)}, request),
        timeout=120,
    )
    return render(request, "reports/dashboard.html", {**context, "body": body})

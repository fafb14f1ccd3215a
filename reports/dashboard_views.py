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
    return fragments.page(
        request,
        _("工作看板"),
        "dashboard",
        district.pk if district else None,
        ("programme",),
        "reports/_dashboard.html",
        lambda: {"district": district, "f": figures(district)},
        timeout=120,
    )

"""The public directory of recognised centres."""

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.http import query_without_page
from centres.filters import CentreFilter
from centres.models import Centre
from config.public_cache import cached_public_page


@cached_public_page
def directory(request):
    filtered = CentreFilter(
        request.GET, queryset=Centre.objects.public().for_list().order_by("-award_date", "name")
    )
    page = Paginator(filtered.qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "centres/directory.html",
        {
            "page_title": _("制造业创新中心名录"),
            "filter": filtered,
            "page": page,
            "query": query_without_page(request),
        },
    )


@cached_public_page
def centre_page(request, pk):
    """A centre's public page. A withdrawn title's old address says so, with the date (410 Gone), instead of a
    bare 404; an excluded centre's page says why and until when."""
    centre = get_object_or_404(Centre.objects.for_list(), pk=pk)
    if centre.status == Centre.Status.WITHDRAWN:
        return render(
            request,
            "centres/withdrawn.html",
            {"page_title": _("%(name)s（已撤销称号）") % {"name": centre.name}, "centre": centre},
            status=410,
        )
    return render(
        request,
        "centres/centre.html",
        {"page_title": centre.name, "centre": centre, "today": timezone.localdate()},
    )

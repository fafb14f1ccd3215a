"""Public pages of the publicity: no sign-in, no JavaScript needed."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import get_usage

from accounts import stash
from accounts.http import client_ip
from applications.models import Policy
from applications.services import ActionRefused
from centres.models import Centre
from config.public_cache import cached_public_page
from evaluation import publicity, verification
from evaluation.models import Announcement, AnnouncementEntry, VerificationCode
from evaluation.public_forms import ObjectionForm

log = logging.getLogger(__name__)


def _visitor(group, request) -> str:
    """Rate-limit by the visitor's address as the trusted proxies report it (not the proxy's own)."""
    return client_ip(request) or "unknown"


def _published():
    return Announcement.objects.filter(starts_at__lte=timezone.now())


@cached_public_page
def announcement_list(request):
    """Current announcements first (with their end time), then past ones."""
    now = timezone.now()
    current = list(_published().filter(ends_at__gt=now).annotate(n=Count("entries")).order_by("ends_at"))
    past = _published().filter(ends_at__lte=now).annotate(n=Count("entries")).order_by("-ends_at")
    page = Paginator(past, 20).get_page(request.GET.get("page"))
    return render(
        request,
        "announcements/list.html",
        {"page_title": _("公示公告"), "current": current, "page": page, "now": now},
    )


def _entries():
    return AnnouncementEntry.objects.select_related("application__lead_unit", "application__field").order_by(
        "order", "pk"
    )


@require_http_methods(["GET", "POST"])
def announcement_detail(request, pk):
    announcement = get_object_or_404(
        _published().prefetch_related(Prefetch("entries", queryset=_entries())), pk=pk
    )
    now = timezone.now()
    is_open = announcement.is_open(now)
    form = None
    token = request.POST.get("stash") if request.method == "POST" else None
    if is_open:
        files = request.FILES.copy() if request.method == "POST" else None
        if files is not None:
            files.update(stash.restore(token, request.FILES))
        form = ObjectionForm(request.POST or None, files, announcement=announcement)
    elif request.method == "POST":
        messages.error(request, _("公示期已结束，不再受理异议。"))
        return redirect("announcements:detail", pk=pk)
    if request.method == "POST" and form is not None:
        refused = _failures(request) >= settings.OBJECTION_FAILURES_PER_HOUR
        if refused:  # the form is not even read
            messages.error(request, _("同一网络地址提交失败的次数过多，请一小时后再试，或拨打监督电话。"))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                objection = publicity.lodge_objection(
                    data["entry"],
                    kind=data["kind"],
                    name=data["name"],
                    phone=data["phone"],
                    statement=data["statement"],
                    id_number=data["id_number"],
                    contact_person=data["contact_person"],
                    files=form.files_to_store(),
                    ip=client_ip(request),
                    max_mb=Policy.current().attachment_max_mb,
                )
            except ActionRefused as error:  # closed meanwhile, or the limit of accepted objections
                messages.error(request, error.message)
                refused = True
            except ValidationError as error:  # a file whose content is not PDF, JPG or PNG
                form.add_error(None, error)
            else:
                stash.discard(token)
                return render(
                    request,
                    "announcements/objection_received.html",
                    {"page_title": _("异议已受理"), "objection": objection, "announcement": announcement},
                )
        errors = form.errors if hasattr(form, "cleaned_data") else {}  # only if it was read
        if errors:
            _failures(request, count=True)
        if errors or refused:
            token = stash.keep_passed(request, token, errors, ("evidence", "sealed_letter"))
    return render(
        request,
        "announcements/detail.html",
        {
            "page_title": announcement.title,
            "announcement": announcement,
            "is_open": is_open,
            "now": now,
            "form": form,
            "stash_token": token or "",
            "stashed": stash.names(token),
        },
        status=200,
    )


def _failures(request, count=False) -> int:
    """Refused objection forms from the visitor's address this hour (``count``: one more). The limit of
    accepted objections is the service's (``publicity.lodge_objection``); this one stops form-filling
    robots without blocking an office behind one address whose people mistype."""
    try:
        usage = get_usage(
            request,
            group="objection-failures",
            key=_visitor,
            rate=f"{settings.OBJECTION_FAILURES_PER_HOUR}/h",
            method="POST",
            increment=count,
        )
    except Exception as error:  # the cache is down: accept the objection (fail open), never a 500
        log.warning("objection failure count unavailable: %s", error)
        return 0
    return usage["count"] if usage else 0


def verify_document(request, token):
    """A printed document's QR code lands here: the centre, the document's number and date, and the centre's
    status today. A wrong or revoked token is a plain 404 that says nothing more."""
    code = verification.find(token)
    if code is None:
        raise Http404
    application = code.application
    centre = Centre.objects.filter(application=application).first()
    approval = getattr(application, "approval", None)
    if code.kind == VerificationCode.Kind.PLAQUE and centre is not None:
        number, date = centre.plaque_number, centre.award_date
    else:
        number, date = (approval.document_number, approval.document_date) if approval else ("", None)
    response = render(
        request,
        "announcements/verify.html",
        {
            "page_title": _("文件核验"),
            "code": code,
            "application": application,
            "centre": centre,
            "number": number,
            "date": date,
            "today": timezone.localdate(),
        },
    )
    response["Cache-Control"] = "no-store"  # the status is today's
    response["X-Robots-Tag"] = "noindex"
    return response

"""The support pages: the staff's ledger, a centre's support (staff record; its lead unit and district read),
the lead unit's request form, a request's page with the staff's decision, attachment downloads."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import stash
from accounts.decorators import page_permission
from accounts.files import private_file_response
from accounts.http import query_without_page
from applications.feedback import show_refusal
from applications.models import Policy
from applications.services import ActionRefused
from centres.models import Centre
from reports import support
from reports.models import SupportAttachment, SupportEvent, SupportGrant, SupportKind, SupportRequest
from reports.support_forms import DecisionForm, DisburseForm, GrantForm, LedgerFilter, PlanForm, RequestForm


def _centre(request, pk) -> Centre:
    centre = get_object_or_404(Centre.objects.for_list(), pk=pk)
    if not request.user.has_perm("reports.view_support", centre):
        raise PermissionDenied
    return centre


@page_permission("reports.support_ledger")
def ledger(request):
    """Every ledger line, filtered; the requests waiting for a decision on top."""
    filtered = LedgerFilter(request.GET, queryset=support.ledger().order_by("-year", "-planned_on", "-pk"))
    page = Paginator(filtered.qs, 50).get_page(request.GET.get("page"))
    waiting = list(
        SupportRequest.objects.filter(status=SupportRequest.Status.SUBMITTED)
        .select_related("centre", "centre__lead_unit")
        .order_by("requested_at")[:50]
    )
    return render(
        request,
        "reports/support_ledger.html",
        {
            "page_title": _("专项支持台账"),
            "filter": filtered,
            "page": page,
            "query": query_without_page(request),
            "waiting": waiting,
        },
    )


@page_permission("reports.view_support_page")
def centre_support(request, pk):
    centre = _centre(request, pk)
    staff = request.user.has_perm("reports.manage_support")
    max_mb = Policy.current().attachment_max_mb
    lines = list(
        centre.support_grants.select_related("planned_by", "granted_by", "disbursed_by")
        .prefetch_related(
            "attachments", Prefetch("events", queryset=SupportEvent.objects.select_related("actor"))
        )
        .order_by("-year", "-planned_on", "-pk")
    )
    posted = request.POST if request.method == "POST" else None
    # A browser cannot resend a file: one that passed its checks on a failed submission is kept in the
    # upload stash (under the field's prefixed name) and used again unless another one is chosen.
    token = posted.get("stash") if posted else None
    files = None
    if posted is not None:
        files = request.FILES.copy()
        files.update(stash.restore(token, request.FILES))
    plan_form = PlanForm(
        posted if posted and "plan" in posted else None,
        files if posted and "plan" in posted else None,
        max_mb=max_mb,
    )
    forms = {}
    for line in lines:
        if line.status == SupportGrant.Status.PLANNED:
            key = f"grant-{line.pk}-line"
            bound = posted is not None and key in posted
            forms[line.pk] = GrantForm(
                posted if bound else None, files if bound else None, line=line, max_mb=max_mb
            )
        elif line.status == SupportGrant.Status.GRANTED:
            key = f"disburse-{line.pk}-line"
            forms[line.pk] = DisburseForm(posted if posted is not None and key in posted else None, line=line)
    if request.method == "POST":
        if not staff:
            raise PermissionDenied
        try:
            if "plan" in request.POST:
                if plan_form.is_valid():
                    data = plan_form.cleaned_data
                    upload = data.get("attachment")
                    support.plan(
                        centre,
                        request.user,
                        kind=data["kind"],
                        year=data["year"],
                        project_name=data["project_name"],
                        amount=data["amount"],
                        note=data["note"],
                        attachments=[upload] if upload else [],
                    )
                    stash.discard(token)
                    messages.success(request, _("已登记拟支持。"))
                    return redirect("reports:centre_support", pk=pk)
            else:
                form = next((f for f in forms.values() if f.is_bound), None)
                if form is None:
                    raise ActionRefused(_("该记录已办理或不存在，请刷新页面。"))
                if form.is_valid():
                    line = next(x for x in lines if x.pk == form.cleaned_data["line"])
                    if isinstance(form, GrantForm):
                        upload = form.cleaned_data.get("attachment")
                        support.grant(
                            line,
                            request.user,
                            document_number=form.cleaned_data["document_number"],
                            document_date=form.cleaned_data["document_date"],
                            attachments=[upload] if upload else [],
                        )
                        messages.success(request, _("已登记下达。"))
                    else:
                        support.disburse(line, request.user, disbursed_on=form.cleaned_data["disbursed_on"])
                        messages.success(request, _("已登记拨付。"))
                    stash.discard(token)
                    return redirect("reports:centre_support", pk=pk)
        except ActionRefused as error:
            show_refusal(request, error)
        token = _keep_files(
            request, token, [plan_form, *(f for f in forms.values() if "attachment" in f.fields)]
        )
    today = timezone.localdate()
    return render(
        request,
        "reports/centre_support.html",
        {
            "page_title": _("%(centre)s · 专项支持") % {"centre": centre.name},
            "centre": centre,
            "staff": staff,
            "lines": [(line, forms.get(line.pk)) for line in lines],
            "requests": centre.support_requests.select_related("requested_by").order_by("-requested_at"),
            "plan_form": plan_form,
            "construction_refusal": support.refusal(centre, SupportKind.CONSTRUCTION, today),
            "innovation_refusal": support.refusal(centre, SupportKind.INNOVATION, today),
            "may_request": request.user.has_perm("reports.request_support", centre),
            "support_year": centre.support_year(today),
            "max_mb": max_mb,
            "stash_token": token or "",
            "stashed": stash.names(token),
        },
    )


def _keep_files(request, token, bound_forms) -> str | None:
    """Keep each file of a bound form that passed its own checks (the submission failed elsewhere)."""
    keep = {}
    for form in bound_forms:
        name = form.add_prefix("attachment")
        if form.is_bound and name in request.FILES and "attachment" not in form.errors:
            keep[name] = request.FILES[name]
    return stash.keep(token, keep) if keep else token


@page_permission("reports.view_support_page")
def request_new(request, pk):
    """The lead unit's request for innovation-project support. A failed form keeps what was typed and the
    file that passed its checks (upload stash)."""
    centre = _centre(request, pk)
    if not request.user.has_perm("reports.request_support", centre):
        raise PermissionDenied
    max_mb = Policy.current().attachment_max_mb
    refusal = support.refusal(centre, SupportKind.INNOVATION)
    token = request.POST.get("stash") if request.method == "POST" else None
    files = None
    if request.method == "POST":
        files = request.FILES.copy()
        files.update(stash.restore(token, request.FILES))
    form = RequestForm(request.POST or None, files or None, max_mb=max_mb)
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            upload = data.get("attachment")
            try:
                req = support.request_support(
                    centre,
                    request.user,
                    project_name=data["project_name"],
                    goals=data["goals"],
                    budget=data["budget"],
                    amount_requested=data["amount_requested"],
                    attachments=[upload] if upload else [],
                )
            except ActionRefused as error:
                show_refusal(request, error)
            else:
                stash.discard(token)
                messages.success(request, _("申请已提交，审核结果将通过站内通知和邮件告知。"))
                return redirect("reports:support_request", pk=req.pk)
        else:
            messages.error(request, _("有内容需要更正，尚未提交。请按提示修改后再提交。"))
        if "attachment" in request.FILES and "attachment" not in form.errors:
            token = stash.keep(token, {"attachment": request.FILES["attachment"]})
    return render(
        request,
        "reports/support_request_new.html",
        {
            "page_title": _("申请创新项目支持"),
            "centre": centre,
            "form": form,
            "refusal": refusal,
            "max_mb": max_mb,
            "stash_token": token or "",
            "stashed": stash.names(token),
        },
    )


@page_permission("reports.view_support_page")
def request_page(request, pk):
    req = get_object_or_404(
        SupportRequest.objects.select_related(
            "centre", "centre__lead_unit", "centre__field", "requested_by", "decided_by"
        ),
        pk=pk,
    )
    if not request.user.has_perm("reports.view_support", req.centre):
        raise PermissionDenied
    deciding = request.user.has_perm("reports.decide_support")
    form = DecisionForm(request.POST or None, initial={"amount": req.amount_requested})
    if request.method == "POST":
        if not deciding:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["decision"] == "approve":
                    support.approve_request(req, request.user, amount=data["amount"], year=data["year"])
                    messages.success(request, _("已同意支持，台账已登记拟支持。"))
                else:
                    support.refuse_request(req, request.user, reason=data["reason"])
                    messages.success(request, _("已决定不予支持，牵头单位已收到理由。"))
            except ActionRefused as error:
                show_refusal(request, error)
            else:
                return redirect("reports:support_request", pk=pk)
    return render(
        request,
        "reports/support_request.html",
        {
            "page_title": _("创新项目支持申请：%(project)s") % {"project": req.project_name},
            "req": req,
            "form": form,
            "deciding": deciding and req.status == SupportRequest.Status.SUBMITTED,
            "events": req.events.select_related("actor"),
            "attachments": req.attachments.all(),
            "refusal": support.refusal(req.centre, SupportKind.INNOVATION),
        },
    )


@page_permission("reports.view_support_page")
def download_attachment(request, pk):
    attachment = get_object_or_404(
        SupportAttachment.objects.select_related("centre", "centre__lead_unit"), pk=pk
    )
    if not request.user.has_perm("reports.view_support", attachment.centre):
        raise PermissionDenied
    return private_file_response(
        attachment.file, filename=attachment.original_name, content_type=attachment.content_type
    )

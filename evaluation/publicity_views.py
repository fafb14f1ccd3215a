"""Staff pages of the publicity: opening an announcement, objections, approval, award."""

from collections import Counter

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts import audit
from accounts.decorators import page_permission
from accounts.files import private_file_response
from accounts.http import client_ip
from accounts.security import recent_password_required
from applications.feedback import show_refusal
from applications.services import ActionRefused
from config.pdf import pdf_response
from evaluation import publicity, verification, workflow
from evaluation.forms import ApprovalForm, AwardForm, OpenPublicityForm, ResolveObjectionForm
from evaluation.models import Announcement, Approval, Objection, VerificationCode
from evaluation.panel_views import _staff_application


@page_permission("evaluation.staff_home")
def announcements(request):
    queryset = Announcement.objects.annotate(
        n=Count("entries", distinct=True),
        pending=Count(
            "entries__objections", filter=Q(entries__objections__state=Objection.State.PENDING), distinct=True
        ),
        objections=Count("entries__objections", distinct=True),
    ).order_by("-starts_at", "-pk")
    page = Paginator(queryset, 30).get_page(request.GET.get("page"))
    return render(request, "evaluation/announcements.html", {"page_title": _("公示管理"), "page": page})


@page_permission("evaluation.staff_home")
def open_publicity(request):
    candidates = list(workflow.approved_for_publicity().select_related("lead_unit").order_by("number"))
    last = Announcement.objects.order_by("-pk").first()
    initial = {}
    if last:
        initial = {
            k: getattr(last, k)
            for k in ("contact_person", "contact_phone", "contact_address", "supervision_phone")
        }
    form = OpenPublicityForm(request.POST or None, candidates=candidates, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            announcement = publicity.open_publicity(
                request.user,
                form.selected(),
                title=data["title"],
                list_type=data["list_type"],
                starts_at=data["starts_at"],
                contact_person=data["contact_person"],
                contact_phone=data["contact_phone"],
                contact_address=data["contact_address"],
                supervision_phone=data["supervision_phone"],
                ip=client_ip(request),
            )
        except ActionRefused as error:
            show_refusal(request, error)
        else:
            messages.success(
                request,
                _("公示已发布，截止时间%(end)s。") % {"end": announcement.ends_at.strftime("%Y-%m-%d %H:%M")},
            )
            return redirect("announcements:detail", pk=announcement.pk)
    return render(
        request,
        "evaluation/publicity_new.html",
        {
            "page_title": _("发布公示"),
            "form": form,
            "candidates": candidates,
            "calendar_problem": publicity.calendar_problem(),
        },
    )


@page_permission("evaluation.staff_home")
@recent_password_required
def objections(request, pk):
    """The objections of one announcement. Objectors' ID numbers and phones are masked; one objection's
    identity is shown whole on request (the password was re-entered; the reading is audited)."""
    announcement = get_object_or_404(Announcement, pk=pk)
    shown = request.GET.get("show", "")
    shown = int(shown) if shown.isascii() and shown.isdigit() else None  # "²" is a digit int() refuses
    if shown and Objection.objects.filter(pk=shown, entry__announcement=announcement).exists():
        audit.record("objection.identity_viewed", request=request, target=f"evaluation.Objection:{shown}")
    rows = list(
        Objection.objects.filter(entry__announcement=announcement)
        .select_related("entry__application", "resolved_by")
        .prefetch_related("files")
        .order_by("created_at")
    )
    if request.method == "POST":
        objection = get_object_or_404(
            Objection, pk=request.POST.get("objection"), entry__announcement=announcement
        )
        form = ResolveObjectionForm(request.POST, prefix=f"o{objection.pk}")
        if form.is_valid():
            try:
                publicity.resolve_objection(
                    objection, request.user, form.cleaned_data["state"], form.cleaned_data["resolution"]
                )
            except ActionRefused as error:
                show_refusal(request, error)
            else:
                messages.success(request, _("异议%(ref)s已处理。") % {"ref": objection.reference})
                return redirect("evaluation:objections", pk=pk)
        else:
            messages.error(request, _("请选择异议是否成立并写明处理意见。"))
    forms_by_id = {
        o.pk: ResolveObjectionForm(prefix=f"o{o.pk}") for o in rows if o.state == Objection.State.PENDING
    }
    # One person's several objections (the same ID number, found by its keyed hash: it is stored encrypted).
    per_person = Counter(o.id_number_hash for o in rows if o.id_number_hash)
    for o in rows:
        o.same_person = per_person[o.id_number_hash] if o.id_number_hash else 0
    return render(
        request,
        "evaluation/objections.html",
        {
            "page_title": _("异议处理"),
            "announcement": announcement,
            "rows": [(o, forms_by_id.get(o.pk)) for o in rows],
            "shown": shown,
        },
    )


@page_permission("evaluation.staff_home")
@recent_password_required
def objection_file(request, pk, file_pk):
    """An objection's evidence or sealed letter. It names the objector (a sealed letter *is* the
    organisation's identity), so it asks for the password again like the identity, and each download is
    audited."""

    from evaluation.models import ObjectionFile

    item = get_object_or_404(ObjectionFile.objects.select_related("objection"), pk=file_pk, objection_id=pk)
    audit.record(
        "objection.file_downloaded",
        request=request,
        target=f"evaluation.ObjectionFile:{item.pk}",
        detail=f"{item.objection.reference} {item.get_kind_display()}",
    )
    return private_file_response(
        item.file, filename=item.original_name, content_type=item.content_type, as_attachment=False
    )


@page_permission("evaluation.staff_home")
def approval_and_award(request, pk):
    application = _staff_application(request, pk)
    approval = Approval.objects.filter(application=application).first()
    approval_form = ApprovalForm(
        request.POST if "record_approval" in request.POST else None,
        initial={"document_number": approval.document_number, "document_date": approval.document_date}
        if approval
        else None,
    )
    award_form = AwardForm(
        request.POST if "award" in request.POST else None,
        approval_date=approval.document_date if approval else None,
    )
    try:
        if "record_approval" in request.POST and approval_form.is_valid():
            publicity.record_approval(
                application, request.user, ip=client_ip(request), **approval_form.cleaned_data
            )
            messages.success(request, _("批复已登记。"))
            return redirect("evaluation:approval", pk=pk)
        if "award" in request.POST and award_form.is_valid():
            centre = publicity.award(
                application,
                request.user,
                plaque_number=award_form.cleaned_data["plaque_number"],
                award_date=award_form.cleaned_data["award_date"],
                ip=client_ip(request),
            )
            messages.success(request, _("已授牌，%(name)s已列入创新中心名录。") % {"name": centre.name})
            return redirect("centres:detail", pk=centre.pk)
    except ActionRefused as error:
        show_refusal(request, error)
        application = _staff_application(
            request, pk
        )  # the refused move left nothing behind: show the stored state
    return render(
        request,
        "evaluation/approval.html",
        {
            "page_title": _("批复与授牌"),
            "application": application,
            "approval": approval,
            "approval_form": approval_form,
            "award_form": award_form,
        },
    )


@page_permission("evaluation.staff_home")
def approval_notice(request, pk):
    """The approval notice, laid out as an official document, for printing."""
    application = _staff_application(request, pk)
    approval = get_object_or_404(Approval, application=application)
    context = {
        "page_title": _("批复通知"),
        "application": application,
        "approval": approval,
        **verification.qr_context(request, application, VerificationCode.Kind.APPROVAL_NOTICE),
    }
    if request.GET.get("format") == "pdf":
        return pdf_response(
            request, "evaluation/approval_notice_pdf.html", context, f"批复-{application.number}.pdf"
        )
    return render(request, "evaluation/approval_notice.html", context)


@page_permission("evaluation.staff_home")
def plaque_sheet(request, pk):
    """The printable plaque sheet of an awarded centre, with the QR code that verifies it."""
    application = _staff_application(request, pk)
    centre = getattr(application, "centre", None)
    if centre is None:
        raise Http404
    context = {
        "page_title": _("牌匾"),
        "application": application,
        "centre": centre,
        **verification.qr_context(request, application, VerificationCode.Kind.PLAQUE),
    }
    return render(request, "evaluation/plaque_sheet.html", context)

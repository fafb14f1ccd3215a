"""Pages of joining the programme: registration, e-mail confirmation, verification, the organisation's
own page with its people. The rules are in ``applications.registration``; views only name permissions."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import stash
from accounts.decorators import page_permission
from accounts.files import private_file_response
from accounts.http import client_ip
from accounts.models import Organisation, User
from accounts.views import _limited
from applications import registration
from applications.feedback import show_refusal
from applications.registration_forms import InviteForm, OrganisationChangeForm, ReasonForm, RegistrationForm
from applications.services import ActionRefused


def too_many(request, group: str) -> bool:
    """Registration-type forms: a number of tries per client address and hour (django-ratelimit)."""
    return _limited(request, group, client_ip(request) or "", settings.REGISTRATION_RATE_ADDRESS)


@require_http_methods(["GET", "POST"])
def register(request):
    token = request.POST.get("stash") if request.method == "POST" else None
    form = RegistrationForm(request.POST or None, stash.files_with_stash(request, token))
    status = 200
    if request.method == "POST":
        if too_many(request, "registration-address"):
            form.add_error(None, _("同一网络地址提交注册过于频繁，请一小时后再试。"))
            status = 429
        elif form.is_valid():
            try:
                organisation, _user = registration.register(
                    form.cleaned_data, form.cleaned_data["licence"], form.licence_facts, ip=client_ip(request)
                )
            except ActionRefused as error:
                form.add_error(None, error.message)
            else:
                stash.discard(token)
                return render(
                    request,
                    "join/registered.html",
                    {
                        "page_title": _("注册信息已提交"),
                        "organisation": organisation,
                        "days": settings.REGISTRATION_CONFIRM_DAYS,
                    },
                )
        if form.duplicate_of is not None:
            registration.report_duplicate(form.duplicate_of, ip=client_ip(request))
        token = stash.keep_passed(request, token, form.errors, ["licence"])
    return render(
        request,
        "join/register.html",
        {
            "page_title": _("单位注册"),
            "form": form,
            "stash_token": token or "",
            "stashed": stash.names(token),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def confirm(request, token):
    """The link of the confirmation e-mail: a button (a mail scanner's GET confirms nothing)."""
    if request.method == "POST":
        try:
            organisation = registration.confirm(token, ip=client_ip(request))
        except ActionRefused as error:
            return render(
                request, "join/message.html", {"page_title": _("无法确认邮箱"), "message": error.message}
            )
        return render(
            request, "join/confirmed.html", {"page_title": _("邮箱已确认"), "organisation": organisation}
        )
    return render(request, "join/confirm.html", {"page_title": _("确认注册邮箱")})


@page_permission("accounts.verify_organisations")
def queue(request):
    pending = list(registration.queue_for(request.user))
    return render(request, "join/queue.html", {"page_title": _("待审核的注册单位"), "pending": pending})


@page_permission("accounts.verify_organisations")
@require_http_methods(["GET", "POST"])
def verify(request, pk):
    organisation = get_object_or_404(Organisation.objects.select_related("district"), pk=pk)
    if not request.user.has_perm("accounts.verify_organisation", organisation):
        raise PermissionDenied
    reject_form = ReasonForm(request.POST if request.POST.get("action") == "reject" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "approve":
                registration.verify(organisation, request.user, ip=client_ip(request))
                messages.success(request, _("已审核通过：%(name)s。") % {"name": organisation.name})
                return redirect("registration:queue")
            if reject_form.is_valid():
                registration.reject(
                    organisation, request.user, reject_form.cleaned_data["reason"], ip=client_ip(request)
                )
                messages.success(
                    request, _("已退回：%(name)s，单位已收到原因。") % {"name": organisation.name}
                )
                return redirect("registration:queue")
        except ActionRefused as error:
            show_refusal(request, error)
            return redirect("registration:verify", pk=pk)
    return render(
        request,
        "join/verify.html",
        {
            "page_title": _("审核注册单位：%(name)s") % {"name": organisation.name},
            "organisation": organisation,
            "events": organisation.events.select_related("actor"),
            "people": registration.colleagues(organisation),
            "reject_form": reject_form,
            "pending": organisation.verification == Organisation.Verification.PENDING,
        },
    )


@login_required
def licence(request, pk):
    organisation = get_object_or_404(Organisation, pk=pk)
    if not request.user.has_perm("accounts.view_licence", organisation):
        raise PermissionDenied
    if not organisation.licence:
        raise Http404
    return private_file_response(
        organisation.licence,
        filename=organisation.licence_name or "licence",
        content_type=organisation.licence_type,
        as_attachment=False,
    )


@page_permission("accounts.my_organisation")
def my_organisation(request):
    organisation = request.user.organisation
    return render(
        request,
        "join/organisation.html",
        {
            "page_title": _("本单位信息"),
            "organisation": organisation,
            "events": organisation.events.select_related("actor"),
            "people": registration.colleagues(organisation),
            "is_admin": request.user.has_perm("accounts.manage_organisation"),
        },
    )


@page_permission("accounts.manage_organisation")
@require_http_methods(["GET", "POST"])
def edit_organisation(request):
    organisation = request.user.organisation
    token = request.POST.get("stash") if request.method == "POST" else None
    form = OrganisationChangeForm(
        request.POST or None, stash.files_with_stash(request, token), organisation=organisation
    )
    if request.method == "POST":
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "licence"}
            try:
                updated = registration.update_details(
                    organisation,
                    request.user,
                    data,
                    form.cleaned_data.get("licence"),
                    form.licence_facts,
                    ip=client_ip(request),
                )
            except ActionRefused as error:
                form.add_error(None, error.message)
            else:
                stash.discard(token)
                if updated.verification == Organisation.Verification.PENDING:
                    messages.success(request, _("已保存，并已提交审核。审核通过前不能提交申报。"))
                else:
                    messages.success(request, _("已保存。"))
                return redirect("registration:organisation")
        token = stash.keep_passed(request, token, form.errors, ["licence"])
    return render(
        request,
        "join/organisation_edit.html",
        {
            "page_title": _("修改单位信息"),
            "form": form,
            "organisation": organisation,
            "stash_token": token or "",
            "stashed": stash.names(token),
        },
    )


@page_permission("accounts.manage_organisation")
@require_http_methods(["GET", "POST"])
def invite(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            colleague = registration.invite(request.user, **form.cleaned_data, request=request)
        except ActionRefused as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request,
                _("已邀请%(name)s，激活链接已发送到%(email)s。")
                % {"name": colleague, "email": colleague.email},
            )
            return redirect("registration:organisation")
    return render(request, "join/invite.html", {"page_title": _("邀请同事"), "form": form})


def _colleague_step(request, pk, *, action, title, question):
    colleague = get_object_or_404(User, pk=pk, organisation__isnull=False)
    if not request.user.has_perm("accounts.manage_colleague", colleague):
        raise PermissionDenied
    if request.method == "POST":
        try:
            action(request.user, colleague, request=request)
        except ActionRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("已办理：%(title)s。") % {"title": title})
        return redirect("registration:organisation")
    return render(
        request,
        "join/colleague_confirm.html",
        {"page_title": title, "colleague": colleague, "question": question},
    )


@page_permission("accounts.manage_organisation")
@require_http_methods(["GET", "POST"])
def deactivate(request, pk):
    return _colleague_step(
        request,
        pk,
        action=registration.deactivate,
        title=_("停用同事账号"),
        question=_("停用后该同事不能再登录，也不能再代表本单位办理。确定停用吗？"),
    )


@page_permission("accounts.manage_organisation")
@require_http_methods(["GET", "POST"])
def hand_over(request, pk):
    return _colleague_step(
        request,
        pk,
        action=registration.hand_over,
        title=_("移交单位管理员"),
        question=_("移交后您不再是单位管理员，不能再邀请或停用同事。确定移交吗？"),
    )

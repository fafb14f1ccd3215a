"""Pages of the expert pool (rules in ``evaluation.pool``)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import stash
from accounts.decorators import page_permission
from accounts.files import private_file_response
from accounts.http import client_ip
from applications.feedback import show_refusal
from applications.registration_views import too_many
from applications.services import ActionRefused
from evaluation import pool
from evaluation.models import ExpertApplication, ExpertProfile
from evaluation.pool_forms import FILE_RULES, ExpertApplicationForm, ExpertProfileForm, RejectForm, StatusForm


@require_http_methods(["GET", "POST"])
def apply(request):
    token = request.POST.get("stash") if request.method == "POST" else None
    form = ExpertApplicationForm(request.POST or None, stash.files_with_stash(request, token))
    status = 200
    if request.method == "POST":
        if too_many(request, "expert-application-address"):
            form.add_error(None, _("同一网络地址提交申请过于频繁，请一小时后再试。"))
            status = 429
        elif form.is_valid():
            try:
                application = pool.apply(form.cleaned_data, form.files_to_store(), ip=client_ip(request))
            except ActionRefused as error:
                form.add_error(None, error.message)
            else:
                stash.discard(token)
                return render(
                    request,
                    "pool/applied.html",
                    {"page_title": _("入库申请已提交"), "application": application},
                )
        token = stash.keep_passed(request, token, form.errors, list(FILE_RULES))
    return render(
        request,
        "pool/apply.html",
        {
            "page_title": _("申请加入专家库"),
            "form": form,
            "stash_token": token or "",
            "stashed": stash.names(token),
        },
        status=status,
    )


@page_permission("evaluation.manage_pool")
def pool_home(request):
    pending = ExpertApplication.objects.filter(status=ExpertApplication.Status.PENDING).select_related(
        "employer"
    )
    experts = ExpertProfile.objects.select_related("user", "employer").order_by("status", "user__full_name")
    return render(
        request,
        "pool/home.html",
        {
            "page_title": _("专家库"),
            "pending": list(pending.order_by("created_at")),
            "experts": experts[:500],
        },
    )


@page_permission("evaluation.manage_pool")
@require_http_methods(["GET", "POST"])
def application_page(request, pk):
    application = get_object_or_404(ExpertApplication.objects.select_related("employer"), pk=pk)
    reject_form = RejectForm(request.POST if request.POST.get("action") == "reject" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "approve":
                profile = pool.approve(application, request.user, request=request)
                messages.success(request, _("%(name)s已入库，激活链接已发送。") % {"name": profile.user})
                return redirect("pool:home")
            if reject_form.is_valid():
                pool.reject(application, request.user, reject_form.cleaned_data["reason"], request=request)
                messages.success(request, _("已退回，申请人已收到原因。"))
                return redirect("pool:home")
        except ActionRefused as error:
            show_refusal(request, error)
            return redirect("pool:application", pk=pk)
    return render(
        request,
        "pool/application.html",
        {
            "page_title": _("专家入库申请：%(name)s") % {"name": application.full_name},
            "application": application,
            "reject_form": reject_form,
        },
    )


@page_permission("evaluation.manage_pool")
def application_file(request, pk, name):
    application = get_object_or_404(ExpertApplication, pk=pk)
    if name not in FILE_RULES or not getattr(application, name):
        raise Http404
    return private_file_response(getattr(application, name), filename=getattr(application, f"{name}_name"))


@page_permission("evaluation.manage_pool")
@require_http_methods(["GET", "POST"])
def expert_page(request, pk):
    profile = get_object_or_404(ExpertProfile.objects.select_related("user", "employer"), pk=pk)
    form = StatusForm(request.POST or None, initial={"status": profile.status})
    if request.method == "POST" and form.is_valid():
        try:
            pool.set_status(
                profile,
                request.user,
                form.cleaned_data["status"],
                form.cleaned_data["reason"],
                request=request,
            )
        except ActionRefused as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("已变更%(name)s的在库状态。") % {"name": profile.user})
            return redirect("pool:expert", pk=pk)
    return render(
        request,
        "pool/expert.html",
        {
            "page_title": _("专家：%(name)s") % {"name": profile.user},
            "profile": profile,
            "past": profile.past_employers.select_related("organisation"),
            "form": form,
        },
    )


@page_permission("evaluation.my_expert_profile")
@require_http_methods(["GET", "POST"])
def my_profile(request):
    profile = getattr(request.user, "expert_profile", None)
    if profile is None:
        raise Http404
    form = ExpertProfileForm.for_profile(profile, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pool.update_profile(profile, request.user, form.cleaned_data)
        except ActionRefused as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("专家档案已保存。"))
            return redirect("pool:my_profile")
    return render(
        request,
        "pool/my_profile.html",
        {
            "page_title": _("我的专家档案"),
            "profile": profile,
            "past": profile.past_employers.select_related("organisation"),
            "form": form,
        },
    )

"""The lead unit's and the district's pages. Thin: parse, call a service, render."""

from itertools import pairwise

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_POST

from accounts.decorators import page_permission
from accounts.files import private_file_response
from accounts.http import client_ip, query_without_page
from applications import services
from applications.editor import STEP_BY_SLUG, STEPS, next_step, progress, step_states
from applications.eligibility import all_passed, evaluate, field_clash, missing_for_submission
from applications.feedback import show_refusal
from applications.filters import DistrictApplicationFilter
from applications.forms import AttachmentsForm, DistrictOpinionForm, SubmitForm, WithdrawForm
from applications.models import Application, ApplicationEvent, ApplicationVersion, Attachment, Policy, Status
from applications.snapshots import diff

PAGE_SIZE = 20


def _application(request, pk):
    return get_object_or_404(services.with_contents(), pk=pk)


# --- the lead unit ---------------------------------------------------------------------------------------


@page_permission("applications.lead_home")
def lead_home(request):
    """我的申报: the organisation's applications, newest first."""
    queryset = (
        Application.objects.of_organisation(request.user.organisation_id)
        .select_related("field")
        .order_by("-updated_at")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/lead_home.html",
        {
            "page_title": _("我的申报"),
            "page": page,
            "excluded": services.exclusion(request.user.organisation),
            "withdrawn_titles": list(services.withdrawn_titles(request.user.organisation)),
        },
    )


@require_POST
@page_permission("applications.create")
def create(request):
    try:
        application = services.create_draft(request.user, ip=client_ip(request))
    except services.ActionRefused as error:
        show_refusal(request, error)
        return redirect("applications:lead_home")
    messages.success(request, _("已新建建设方案草稿，可随时保存，稍后继续填写。"))
    return redirect("applications:edit", pk=application.pk, step=STEPS[0].slug)


def _can_edit(request, application):
    return request.user.has_perm("applications.edit", application)


@method_decorator(login_required, name="dispatch")
class EditStepView(View):
    """One step of the plan editor. "Save" keeps you here, "Save and continue" moves on; a failed
    validation shows every value as typed and saves nothing of that step."""

    template_name = "applications/editor.html"

    def dispatch(self, request, pk, step):
        self.application = _application(request, pk)
        require(request.user, "applications.view", self.application)
        self.step = STEP_BY_SLUG.get(step)
        if self.step is None:
            raise Http404
        if not _can_edit(request, self.application):
            messages.info(
                request,
                _("该申报当前处于“%(status)s”阶段，内容已锁定。")
                % {"status": self.application.get_status_display()},
            )
            return redirect("applications:detail", pk=pk)
        return super().dispatch(request, pk, step)

    def build(self, data=None, files=None):
        step, application = self.step, self.application
        if step.form_class:
            return step.form_class(data, files, instance=application, prefix=step.slug)
        if step.formset_class:
            return step.formset_class(data, files, instance=application, prefix=step.slug)
        return AttachmentsForm(data, files, max_mb=Policy.current().attachment_max_mb, prefix=step.slug)

    def get(self, request, pk, step):
        return self.render(self.build())

    def post(self, request, pk, step):
        form = self.build(request.POST, request.FILES)
        if self.step.slug == "attachments":
            return self.post_attachments(form)
        if not form.is_valid():
            messages.error(request, _("有内容需要更正，本步骤尚未保存。请按提示修改后再保存。"))
            return self.render(form, status=200)
        try:
            services.save_content(self.application, request.user, [form])
        except services.ActionRefused as error:
            show_refusal(request, error)
            return redirect("applications:detail", pk=pk)
        messages.success(request, _("“%(step)s”已保存。") % {"step": self.step.title})
        return self.after_save()

    def post_attachments(self, form):
        request = self.request
        valid = form.is_valid()
        accepted = form.accepted()
        try:
            stored = services.add_attachments(self.application, request.user, accepted)
        except services.ActionRefused as error:
            show_refusal(request, error)
            return redirect("applications:detail", pk=self.application.pk)
        for attachment in stored:
            messages.success(request, _("已上传：%(name)s") % {"name": attachment.original_name})
        if not valid:
            messages.error(request, _("有文件未能上传，请查看下方提示。"))
            self.application = _application(request, self.application.pk)
            return self.render(form)
        return self.after_save()

    def after_save(self):
        slug = self.step.slug
        if "save_next" in self.request.POST:
            following = next_step(slug)
            if following:
                return redirect("applications:edit", pk=self.application.pk, step=following)
            return redirect("applications:submit", pk=self.application.pk)
        return redirect("applications:edit", pk=self.application.pk, step=slug)

    def render(self, form, status=200):
        application = self.application
        policy = Policy.current()
        checks = evaluate(application, policy)
        states = step_states(application)
        return render(
            self.request,
            self.template_name,
            {
                "progress": progress(states),
                "page_title": _("填写建设方案 · %(step)s") % {"step": self.step.title},
                "application": application,
                "step": self.step,
                "steps": states,
                "form": form,
                "is_formset": self.step.formset_class is not None,
                "checks": checks,
                "eligible": all_passed(checks),
                "clash": field_clash(application),
                "return_comments": _latest_return_comments(application),
                "attachments": application.attachments.all(),
            },
            status=status,
        )


def _latest_return_comments(application) -> dict:
    if application.status != Status.RETURNED:
        return {}
    event = application.events.filter(to_status=Status.RETURNED).order_by("-pk").first()
    if event is None:
        return {}
    return {
        "comment": event.comment,
        "sections": event.section_comments,
        "at": event.created_at,
        "by": event.actor,
    }


def require(user, permission: str, application) -> None:
    if not user.has_perm(permission, application):
        raise PermissionDenied


@require_POST
@login_required
def delete_attachment(request, pk, attachment_pk):
    attachment = get_object_or_404(
        Attachment.objects.select_related("application"), pk=attachment_pk, application_id=pk
    )
    require(request.user, "applications.view", attachment.application)
    try:
        services.remove_attachment(attachment, request.user)
    except services.ActionRefused as error:
        show_refusal(request, error)
    else:
        messages.success(request, _("已删除附件：%(name)s") % {"name": attachment.original_name})
    return redirect("applications:edit", pk=pk, step="attachments")


@login_required
def download_attachment(request, pk, attachment_pk):
    attachment = get_object_or_404(
        Attachment.objects.select_related("application"), pk=attachment_pk, application_id=pk
    )
    require(request.user, "applications.view", attachment.application)
    return private_file_response(
        attachment.file, filename=attachment.original_name, content_type=attachment.content_type
    )


def _viewable(request, pk):
    application = _application(request, pk)
    require(request.user, "applications.view", application)
    return application


@login_required
def detail(request, pk):
    application = _viewable(request, pk)
    events = ApplicationEvent.objects.filter(application=application).select_related("actor")
    if not request.user.has_perm("evaluation.review", application):
        events = events.filter(internal=False)  # who sits on a panel is for staff only
    events = events.order_by("created_at", "pk")
    versions = application.versions.only("pk", "revision", "submitted_at").order_by("revision")
    return render(
        request,
        "applications/detail.html",
        {
            "page_title": str(application),
            "application": application,
            "events": events,
            "versions": versions,
            "checks": evaluate(application, application.policy or Policy.current()),
            "stored_eligibility": application.eligibility,
            "clash": field_clash(application),
            "can_edit": _can_edit(request, application),
            "can_withdraw": request.user.has_perm("applications.withdraw_now", application),
            "can_recommend": request.user.has_perm("applications.recommend_now", application),
            "opinion": getattr(application, "district_opinion", None),
            "return_comments": _latest_return_comments(application),
        },
    )


@login_required
def print_view(request, pk):
    application = _viewable(request, pk)
    return render(
        request,
        "applications/print.html",
        {
            "page_title": str(application),
            "application": application,
            "checks": evaluate(application, application.policy or Policy.current()),
        },
    )


@login_required
def submit(request, pk):
    application = _application(request, pk)
    require(request.user, "applications.view", application)
    if not request.user.has_perm("applications.edit", application):
        messages.info(
            request,
            _("该申报当前处于“%(status)s”阶段，不能提交。") % {"status": application.get_status_display()},
        )
        return redirect("applications:detail", pk=pk)
    form = SubmitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit(application, request.user, ip=client_ip(request))
        except services.ActionRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("建设方案已提交，内容已锁定。办理进展将通过站内通知和邮件告知。"))
            return redirect("applications:detail", pk=pk)
    checks = evaluate(application, Policy.current())
    return render(
        request,
        "applications/submit.html",
        {
            "page_title": _("核对并提交"),
            "application": application,
            "steps": step_states(application),
            "form": form,
            "checks": checks,
            "eligible": all_passed(checks),
            "missing": missing_for_submission(application),
            "clash": field_clash(application),
        },
    )


@login_required
def withdraw(request, pk):
    application = _application(request, pk)
    require(request.user, "applications.withdraw", application)
    form = WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw(application, request.user, form.cleaned_data["reason"], ip=client_ip(request))
        except services.ActionRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("申报已撤回。"))
        return redirect("applications:detail", pk=pk)
    return render(
        request,
        "applications/withdraw.html",
        {"page_title": _("撤回申报"), "application": application, "form": form},
    )


@login_required
def versions(request, pk):
    application = _viewable(request, pk)
    snapshots = list(ApplicationVersion.objects.filter(application=application).order_by("revision"))
    comparisons = [
        {"old": old, "new": new, "changes": diff(old.content, new.content)}
        for old, new in pairwise(snapshots)
    ]
    return render(
        request,
        "applications/versions.html",
        {
            "page_title": _("版本比较"),
            "application": application,
            "versions": snapshots,
            "comparisons": comparisons[::-1],
        },
    )


# --- the district ----------------------------------------------------------------------------------------


@page_permission("applications.district_home")
def district_home(request):
    base = (
        Application.objects.in_district(request.user.district_id)
        .for_list()
        .select_related("district_opinion")
    )
    filtered = DistrictApplicationFilter(request.GET, queryset=base.order_by("-submitted_at", "-pk"))
    page = Paginator(filtered.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "applications/district_home.html",
        {
            "page_title": _("本区县申报"),
            "filter": filtered,
            "page": page,
            "query": query_without_page(request),
        },
    )


@login_required
def recommend(request, pk):
    application = _application(request, pk)
    require(request.user, "applications.recommend", application)
    instance = getattr(application, "district_opinion", None)
    form = DistrictOpinionForm(
        request.POST or None,
        request.FILES or None,
        instance=instance,
        max_mb=Policy.current().attachment_max_mb,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_district_opinion(application, request.user, form, ip=client_ip(request))
        except services.ActionRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("推荐意见已保存。"))
            return redirect("applications:detail", pk=pk)
    return render(
        request,
        "applications/recommend.html",
        {"page_title": _("填写推荐意见"), "application": application, "form": form},
    )

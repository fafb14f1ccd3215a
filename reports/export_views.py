"""Starting an export, watching its progress (the page refreshes itself, no script), downloading it."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts import audit
from accounts.decorators import page_permission
from reports.exports import KINDS
from reports.models import ExportJob
from reports.tasks import build_export


@page_permission("reports.export")
def export_new(request, kind):
    if kind not in KINDS:
        raise Http404
    staff = request.user.has_perm("reports.centres")
    if kind == "panel_scores" and not staff:
        raise PermissionDenied
    query = request.GET.urlencode() if request.method == "GET" else request.POST.get("query", "")
    if request.method == "POST":
        params = {"query": query}
        for key in ("panel", "year"):
            value = request.POST.get(key, "")
            if value:
                if not value.isdigit():
                    return HttpResponseBadRequest(_("参数无效。"))
                params[key] = int(value)
        if kind == "summaries" and "year" not in params:
            raise Http404
        if kind == "panel_scores" and "panel" not in params:
            raise Http404
        if not staff:
            params["district"] = request.user.district_id  # district staff export their district only
        with transaction.atomic():
            job = ExportJob.objects.create(owner=request.user, kind=kind, params=params)
            audit.record(
                "export", request=request, target=f"reports.ExportJob:{job.pk}", detail=f"{kind} {params}"
            )
            transaction.on_commit(lambda: build_export.delay(job.pk))
        return redirect("reports:export_job", pk=job.pk)
    return render(
        request,
        "reports/export_new.html",
        {
            "page_title": _("导出Excel"),
            "kind": kind,
            "label": KINDS[kind][1],
            "query": query,
            "panel": request.GET.get("panel", ""),
            "year": request.GET.get("year", ""),
        },
    )


def _own_job(request, pk) -> ExportJob:
    job = get_object_or_404(ExportJob, pk=pk)
    if job.owner_id != request.user.pk:
        raise PermissionDenied
    return job


@page_permission("reports.export")
def export_job(request, pk):
    job = _own_job(request, pk)
    return render(
        request,
        "reports/export_job.html",
        {"page_title": _("导出进度"), "job": job, "label": KINDS[job.kind][1]},
    )


@page_permission("reports.export")
def export_download(request, pk):
    job = _own_job(request, pk)
    if job.state != ExportJob.State.DONE or not job.file:
        raise Http404
    return FileResponse(
        job.file.open("rb"),
        as_attachment=True,
        filename=job.file.name.rsplit("/", 1)[-1].split("-", 1)[-1],
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )

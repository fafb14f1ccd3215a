"""Excel exports (openpyxl): Chinese headers, a frozen header row, real number and date cells.

Each export is an ``ExportJob`` built by a Celery task that records its progress; the page shows the
progress and offers the download when done. District staff's exports are limited to their district.
"""

import io
from datetime import datetime

from django.core.files.base import ContentFile
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from applications.models import Application, Status
from evaluation.filters import WorkbenchFilter
from evaluation.models import Assignment, Panel
from reports.models import AnnualSummary, Assessment, ExportJob
from reports.support import ledger
from reports.support_forms import LedgerFilter

CHUNK = 500


def _applications(job: ExportJob):
    base = Application.objects.exclude(status=Status.DRAFT).for_list()
    district_id = job.params.get("district")
    if district_id:
        base = base.filter(district_id=district_id)
    query = QueryDict(job.params.get("query", ""))
    queryset = WorkbenchFilter(query, queryset=base.order_by("-submitted_at", "-pk")).qs
    headers = [
        _("申报编号"),
        _("创新中心名称"),
        _("牵头单位"),
        _("统一社会信用代码"),
        _("领域"),
        _("区县"),
        _("阶段"),
        _("基本条件"),
        _("实际投资总额（万元）"),
        _("提交时间"),
    ]
    formats = [None, None, None, None, None, None, None, None, "#,##0.00", "yyyy-mm-dd hh:mm"]

    def rows():
        for a in queryset.iterator(chunk_size=CHUNK):
            yield [
                a.number,
                a.centre_name,
                a.lead_unit.name,
                a.lead_unit.credit_code,
                str(a.field or ""),
                a.district.name if a.district else "",
                a.get_status_display(),
                _("符合") if (a.eligibility or {}).get("passed") else _("有不符合项"),
                a.total_investment,
                _local(a.submitted_at),
            ]

    return _("申报清单"), headers, formats, queryset.count(), rows()


def _panel_scores(job: ExportJob):
    panel = Panel.objects.select_related("template", "application").get(pk=job.params["panel"])
    criteria = list(panel.template.criteria.order_by("order"))
    assignments = (
        Assignment.objects.filter(panel=panel, state=Assignment.State.SUBMITTED)
        .select_related("expert", "sheet")
        .prefetch_related("sheet__scores")
        .order_by("pk")
    )
    headers = [_("专家"), *[f"{c.name}（{c.max_points}）" for c in criteria], _("总分"), _("提交时间")]
    formats = [None, *["0.0"] * len(criteria), "0.0", "yyyy-mm-dd hh:mm"]

    def rows():
        for a in assignments:
            points = {s.criterion_id: s.points for s in a.sheet.scores.all()}
            yield [
                str(a.expert),
                *[points.get(c.pk) for c in criteria],
                a.sheet.total,
                _local(a.sheet.submitted_at),
            ]

    return f"{panel.application.centre_name}"[:28], headers, formats, assignments.count(), rows()


SUMMARY_FIELDS = AnnualSummary.FIGURE_FIELDS


def _summaries(job: ExportJob):
    queryset = (
        AnnualSummary.objects.filter(reporting_year__year=job.params["year"])
        .select_related("centre__lead_unit", "reporting_year")
        .order_by("centre__name")
    )
    if job.params.get("district"):
        queryset = queryset.filter(centre__lead_unit__district_id=job.params["district"])
    opts = AnnualSummary._meta
    headers = [
        _("创新中心"),
        _("牵头单位"),
        _("状态"),
        *[str(opts.get_field(f).verbose_name) for f in SUMMARY_FIELDS],
        _("报送时间"),
        _("逾期报送"),
    ]
    formats = [
        None,
        None,
        None,
        *[
            "#,##0.00" if f.startswith("revenue") or f in ("total_cost", "rd_expense") else "0"
            for f in SUMMARY_FIELDS
        ],
        "yyyy-mm-dd hh:mm",
        None,
    ]

    def rows():
        # A summary not filed (draft, returned) has no figures yet: blank cells, never zeros.
        for s in queryset.iterator(chunk_size=CHUNK):
            yield [
                s.centre.name,
                s.centre.lead_unit.name,
                s.get_state_display(),
                *[getattr(s, f) if s.is_filed else None for f in SUMMARY_FIELDS],
                _local(s.submitted_at) if s.is_filed else None,
                _("是") if s.is_late else "",
            ]

    return (
        _("%(year)s年度工作总结") % {"year": job.params["year"]},
        headers,
        formats,
        queryset.count(),
        rows(),
    )


def _assessments(job: ExportJob):
    queryset = Assessment.objects.select_related("centre__lead_unit").order_by("-due_on", "centre__name")
    if job.params.get("district"):
        queryset = queryset.filter(centre__lead_unit__district_id=job.params["district"])
    headers = [
        _("创新中心"),
        _("牵头单位"),
        _("轮次"),
        _("应考核日期"),
        _("考核得分"),
        _("考核等级"),
        _("确认时间"),
    ]
    formats = [None, None, "0", "yyyy-mm-dd", "0.00", None, "yyyy-mm-dd hh:mm"]

    def rows():
        for a in queryset.iterator(chunk_size=CHUNK):
            yield [
                a.centre.name,
                a.centre.lead_unit.name,
                a.cycle,
                a.due_on,
                a.total,
                a.get_grade_display(),
                _local(a.confirmed_at),
            ]

    return _("考核评估结果"), headers, formats, queryset.count(), rows()


def _support(job: ExportJob):
    """The support ledger, filtered as the ledger page was (``LedgerFilter``)."""
    base = ledger()
    if job.params.get("district"):
        base = base.filter(centre__lead_unit__district_id=job.params["district"])
    query = QueryDict(job.params.get("query", ""))
    queryset = LedgerFilter(query, queryset=base.order_by("-year", "centre__name", "pk")).qs
    headers = [
        _("年度"),
        _("创新中心"),
        _("牵头单位"),
        _("领域"),
        _("区县"),
        _("支持类型"),
        _("支持年度（第几年）"),
        _("项目名称"),
        _("金额（万元）"),
        _("状态"),
        _("资金文件文号"),
        _("资金文件日期"),
        _("拟定日期"),
        _("下达日期"),
        _("拨付日期"),
    ]
    formats = [
        "0",
        None,
        None,
        None,
        None,
        None,
        "0",
        None,
        "#,##0.00",
        None,
        None,
        "yyyy-mm-dd",
        "yyyy-mm-dd",
        "yyyy-mm-dd",
        "yyyy-mm-dd",
    ]

    def rows():
        for g in queryset.iterator(chunk_size=CHUNK):
            district = g.centre.lead_unit.district
            yield [
                g.year,
                g.centre.name,
                g.centre.lead_unit.name,
                str(g.centre.field),
                district.name if district else "",
                g.get_kind_display(),
                g.support_year,
                g.project_name,
                g.amount,
                g.get_status_display(),
                g.document_number,
                g.document_date,
                g.planned_on,
                g.granted_on,
                g.disbursed_on,
            ]

    return _("专项支持台账"), headers, formats, queryset.count(), rows()


KINDS = {
    "applications": (_applications, "申报清单"),
    "panel_scores": (_panel_scores, "专家评分"),
    "summaries": (_summaries, "年度工作总结"),
    "assessments": (_assessments, "考核评估结果"),
    "support": (_support, "专项支持台账"),
}


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BAD_TITLE = str.maketrans(dict.fromkeys("/\\?*:[]", "_"))


def _cell(value):
    """Text typed by users is written as text: a leading =, +, - or @ would make Excel run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _local(moment):
    # Excel has no time zones: write Asia/Shanghai wall time.
    return timezone.localtime(moment).replace(tzinfo=None) if isinstance(moment, datetime) else moment


def build(job: ExportJob) -> ExportJob:
    """Write the workbook for ``job``, updating its progress every CHUNK rows."""
    builder, filename = KINDS[job.kind]
    title, headers, formats, total, rows = builder(job)
    ExportJob.objects.filter(pk=job.pk).update(state=ExportJob.State.RUNNING, total_rows=total)
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = title.translate(BAD_TITLE)[:31] or "Sheet"
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    done = 0
    for done, row in enumerate(rows, start=1):
        sheet.append(row)
        # Cells by their coordinates: ``sheet[n]`` would measure the whole sheet for every row (quadratic).
        for column, number_format in enumerate(formats + [None] * (len(row) - len(formats)), start=1):
            cell = sheet.cell(row=done + 1, column=column)
            if cell.data_type == "f":  # text typed by people that starts with "=" stays text, never a formula
                cell.data_type = "s"
            if number_format:
                cell.number_format = number_format
        if done % CHUNK == 0:
            ExportJob.objects.filter(pk=job.pk).update(done_rows=done)
    for column, header in enumerate(headers, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = max(10, min(40, len(str(header)) * 2 + 2))
    buffer = io.BytesIO()
    workbook.save(buffer)
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    job.file.save(f"{filename}-{stamp}.xlsx", ContentFile(buffer.getvalue()), save=False)
    job.state, job.done_rows, job.total_rows, job.finished_at = (
        ExportJob.State.DONE,
        done,
        total,
        timezone.now(),
    )
    job.save(update_fields=["file", "state", "done_rows", "total_rows", "finished_at"])
    return job

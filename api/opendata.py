"""Open data (政府信息公开): the centre directory and the announcements as CSV and JSON at stable addresses,
each carrying the time the data was produced. The same records as the public pages and the API."""

import csv
import io
import json

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from api import views
from api.serializers import AnnouncementSerializer, CentreSerializer
from config.public_cache import cached_public_page

CENTRE_COLUMNS = [
    ("id", "编号"),
    ("name", "创新中心名称"),
    ("field", "领域"),
    ("kind_label", "类型"),
    ("lead_unit", "牵头单位"),
    ("approval_number", "批复文号"),
    ("approval_date", "批复日期"),
    ("plaque_number", "牌匾编号"),
    ("award_date", "授牌日期"),
    ("status_label", "状态"),
    ("excluded_until", "暂停支持至"),
    ("national", "国家级"),
]
ANNOUNCEMENT_COLUMNS = [
    ("id", "公示编号"),
    ("title", "公示标题"),
    ("list_type_label", "名单类型"),
    ("starts_at", "公示开始"),
    ("ends_at", "公示截止"),
    ("working_days", "公示期（工作日）"),
    ("order", "序号"),
    ("centre_name", "创新中心名称"),
    ("lead_unit", "牵头单位"),
    ("field", "领域"),
    ("supervision_phone", "监督电话"),
]
PRODUCED = "数据生成时间"


@cached_public_page
def index(request):
    return render(request, "api/open_data.html", {"page_title": _("开放数据")})


def _centres():
    return CentreSerializer(views.CentreList().get_queryset(), many=True).data


def _announcement_rows(records):
    for record in records:
        for entry in record["entries"] or [{}]:
            yield {**record, **entry}


def _respond(fmt: str, name: str, records: list, columns, rows=None):
    produced = timezone.localtime().replace(microsecond=0)
    stamp = produced.strftime("%Y%m%d")
    if fmt == "json":
        body = json.dumps(
            {"dataset": name, "produced_at": produced.isoformat(), "count": len(records), "records": records},
            ensure_ascii=False,
            default=str,
        )
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    elif fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")  # so that spreadsheet programs read UTF-8
        writer = csv.writer(buffer)
        writer.writerow([label for _key, label in columns] + [PRODUCED])
        for row in rows if rows is not None else records:
            writer.writerow([_cell(row.get(key)) for key, _label in columns] + [produced.isoformat()])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        raise Http404
    response["Content-Disposition"] = f'inline; filename="{name}-{stamp}.{fmt}"'
    return response


def _cell(value):
    if value is True:
        return "是"
    if value is False:
        return "否"
    return "" if value is None else value


@cached_public_page
def centres(request, fmt):
    return _respond(fmt, "centres", _centres(), CENTRE_COLUMNS)


@cached_public_page
def announcements(request, fmt):
    records = AnnouncementSerializer(views.AnnouncementList().get_queryset(), many=True).data
    return _respond(
        fmt, "announcements", records, ANNOUNCEMENT_COLUMNS, rows=list(_announcement_rows(records))
    )

"""The API's endpoints: read-only. Public ones need no sign-in and are cached like the public pages;
the others need a token with the endpoint's scope. Every call made with a token is audited."""

from functools import wraps

import django_filters
from django.db.models import Prefetch
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers

from accounts import audit
from api import serializers as s
from api.models import Scope
from applications.models import Application, Status
from centres.filters import CentreFilter
from centres.models import Centre
from config.public_cache import cached_public_page
from evaluation.filters import WorkbenchFilter
from evaluation.models import Announcement, AnnouncementEntry
from reports.models import AnnualSummary, Assessment

ERROR = inline_serializer("Error", {"detail": serializers.CharField()})
REFUSED = {
    400: OpenApiResponse(description="参数无效（JSON：各参数及其错误）"),
    429: OpenApiResponse(ERROR, description="调用过于频繁"),
    401: OpenApiResponse(ERROR, description="提供的令牌无效、已吊销或已过期（公开接口也可不带令牌）"),
}
TOKEN_REFUSED = {
    **REFUSED,
    401: OpenApiResponse(ERROR, description="缺少令牌，或令牌无效、已吊销、已过期"),
    403: OpenApiResponse(ERROR, description="令牌没有该接口的权限范围"),
}


class AuditedMixin:
    """Every call that presents a token is audited with its outcome, refused ones too."""

    required_scope = None

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        raw = request._request
        if getattr(raw, "api_token_presented", False):
            token = (
                request.auth
                if request.auth is not None
                else getattr(getattr(raw, "api_token_refused", None), "token", None)
            )
            audit.record(
                "api.call",
                request=raw,
                username=f"api:{token.account.name}" if token is not None else "api:unknown",
                target=raw.path[:200],
                detail=f"{raw.method} {raw.get_full_path()} -> {response.status_code}"
                + (f"; token {token.prefix}" if token is not None else ""),
                success=response.status_code < 400,
            )
            response["Cache-Control"] = "private, no-store"
        return response


def public(view_class):
    """A public endpoint's view, served from the public page cache for callers without a token."""
    view = view_class.as_view()
    cached = cached_public_page(view)

    @wraps(view)
    def dispatch(request, *args, **kwargs):
        if "HTTP_AUTHORIZATION" in request.META:
            return view(request, *args, **kwargs)
        return cached(request, *args, **kwargs)

    return dispatch


def _published():
    return Announcement.objects.filter(starts_at__lte=timezone.now())


def _announcements():
    entries = AnnouncementEntry.objects.select_related(
        "application__lead_unit", "application__field"
    ).order_by("order", "pk")
    return _published().prefetch_related(Prefetch("entries", queryset=entries)).order_by("-ends_at", "-pk")


class AnnouncementFilter(django_filters.FilterSet):
    list_type = django_filters.ChoiceFilter(choices=Announcement.ListType.choices)
    is_open = django_filters.BooleanFilter(method="filter_open")

    class Meta:
        model = Announcement
        fields = ["list_type", "is_open"]

    def filter_open(self, queryset, name, value):
        now = timezone.now()
        return queryset.filter(ends_at__gt=now) if value else queryset.filter(ends_at__lte=now)


@extend_schema_view(
    get=extend_schema(
        summary="公示公告（含名单与公示期）",
        tags=["公开"],
        responses={200: s.AnnouncementSerializer(many=True), **REFUSED},
    )
)
class AnnouncementList(AuditedMixin, generics.ListAPIView):
    serializer_class = s.AnnouncementSerializer
    filterset_class = AnnouncementFilter
    queryset = Announcement.objects.none()

    def get_queryset(self):
        return _announcements()


@extend_schema_view(
    get=extend_schema(
        summary="一则公示公告",
        tags=["公开"],
        responses={200: s.AnnouncementSerializer, 404: ERROR, 429: REFUSED[429], 401: REFUSED[401]},
    )
)
class AnnouncementDetail(AuditedMixin, generics.RetrieveAPIView):
    serializer_class = s.AnnouncementSerializer
    queryset = Announcement.objects.none()

    def get_queryset(self):
        return _announcements()


@extend_schema_view(
    get=extend_schema(
        summary="创新中心名录",
        description="与公开名录页面相同：已授牌且未撤销称号的创新中心，可按名称/牵头单位、领域、类型、授牌年度筛选。",
        tags=["公开"],
        responses={200: s.CentreSerializer(many=True), **REFUSED},
    )
)
class CentreList(AuditedMixin, generics.ListAPIView):
    serializer_class = s.CentreSerializer
    filterset_class = CentreFilter
    queryset = Centre.objects.none()

    def get_queryset(self):
        return Centre.objects.public().for_list().order_by("-award_date", "name")


@extend_schema_view(
    get=extend_schema(
        summary="一个创新中心（含已撤销称号的）",
        tags=["公开"],
        responses={200: s.CentreSerializer, 404: ERROR, 429: REFUSED[429], 401: REFUSED[401]},
    )
)
class CentreDetail(AuditedMixin, generics.RetrieveAPIView):
    serializer_class = s.CentreSerializer
    queryset = Centre.objects.none()

    def get_queryset(self):
        return Centre.objects.for_list()


class ApplicationFilter(WorkbenchFilter):
    """The staff workbench's filters, less the one that means "waiting for me"."""

    class Meta(WorkbenchFilter.Meta):
        fields = ["q", "status", "field", "district", "year", "eligible"]


del ApplicationFilter.base_filters["waiting"]


@extend_schema_view(
    get=extend_schema(
        summary="申报的阶段和关键指标",
        description="需要 applications:read 权限范围。草稿不列出。",
        tags=["令牌"],
        responses={200: s.ApplicationSerializer(many=True), **TOKEN_REFUSED},
    )
)
class ApplicationList(AuditedMixin, generics.ListAPIView):
    required_scope = Scope.APPLICATIONS
    serializer_class = s.ApplicationSerializer
    filterset_class = ApplicationFilter
    queryset = Application.objects.none()

    def get_queryset(self):
        return (
            Application.objects.exclude(status=Status.DRAFT)
            .select_related("field", "lead_unit", "district")
            .defer(*Application.LONG_TEXT_FIELDS)
            .order_by("-submitted_at", "-pk")
        )


class CentreRecordFilter(django_filters.FilterSet):
    centre = django_filters.NumberFilter(field_name="centre_id", min_value=1, max_value=2**62)


@extend_schema_view(
    get=extend_schema(
        summary="年度工作总结（已报送的）",
        description="需要 centres:read 权限范围。",
        tags=["令牌"],
        responses={200: s.SummarySerializer(many=True), **TOKEN_REFUSED},
    )
)
class SummaryList(AuditedMixin, generics.ListAPIView):
    required_scope = Scope.CENTRES
    serializer_class = s.SummarySerializer
    filterset_class = CentreRecordFilter
    queryset = AnnualSummary.objects.none()

    def get_queryset(self):
        return (
            AnnualSummary.objects.exclude(state=AnnualSummary.State.DRAFT)
            .select_related("centre", "reporting_year")
            .order_by("-reporting_year__year", "centre__name", "pk")
        )


@extend_schema_view(
    get=extend_schema(
        summary="三年考核评估（等级与得分，不含专家）",
        description="需要 centres:read 权限范围。",
        tags=["令牌"],
        responses={200: s.AssessmentSerializer(many=True), **TOKEN_REFUSED},
    )
)
class AssessmentList(AuditedMixin, generics.ListAPIView):
    required_scope = Scope.CENTRES
    serializer_class = s.AssessmentSerializer
    filterset_class = CentreRecordFilter
    queryset = Assessment.objects.none()

    def get_queryset(self):
        return Assessment.objects.select_related("centre").order_by("-due_on", "pk")


def not_found(request, *args, **kwargs):
    return JsonResponse({"detail": _("没有这个接口或记录。")}, status=404)

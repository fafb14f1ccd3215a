import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.filtering import BootstrapFilterMixin, YearFilter
from accounts.models import District
from applications import stages
from applications.models import Application, Field, Status

# Where an application waits for commission staff to act (declared per stage in applications.stages).
WAITING_FOR_STAFF = tuple(Status(stage.status) for stage in stages.STAGES if stage.waits_for == stages.STAFF)


class WorkbenchFilter(BootstrapFilterMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    status = django_filters.ChoiceFilter(
        label=_("阶段"),
        choices=[c for c in Status.choices if c[0] != Status.DRAFT],
        empty_label=_("全部阶段"),
    )
    field = django_filters.ModelChoiceFilter(
        label=_("领域"), queryset=Field.objects.all(), empty_label=_("全部领域")
    )
    district = django_filters.ModelChoiceFilter(
        label=_("区县"), queryset=District.objects.all(), empty_label=_("全部区县")
    )
    year = YearFilter(label=_("年度"))
    eligible = django_filters.ChoiceFilter(
        label=_("基本条件"),
        choices=[("yes", _("全部符合")), ("no", _("有不符合项"))],
        method="filter_eligible",
        empty_label=_("不限"),
    )
    waiting = django_filters.BooleanFilter(
        label=_("只看待我办理"), method="filter_waiting", widget=django_filters.widgets.BooleanWidget()
    )
    ordering = django_filters.OrderingFilter(
        label=_("排序"),
        fields=(
            ("submitted_at", "submitted_at"),
            ("updated_at", "updated_at"),
            ("number", "number"),
            ("centre_name", "centre_name"),
        ),
        # Descending labels given here: django-filter would build them once, at import, in no language.
        field_labels={
            "submitted_at": _("提交时间"),
            "-submitted_at": _("提交时间（降序）"),
            "updated_at": _("更新时间"),
            "-updated_at": _("更新时间（降序）"),
            "number": _("申报编号"),
            "-number": _("申报编号（降序）"),
            "centre_name": _("名称"),
            "-centre_name": _("名称（降序）"),
        },
        empty_label=_("默认（最近提交在前）"),
    )

    class Meta:
        model = Application
        fields = ["q", "status", "field", "district", "year", "eligible", "waiting"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(centre_name__icontains=value) | Q(number__icontains=value) | Q(lead_unit__name__icontains=value)
        )

    def filter_eligible(self, queryset, name, value):
        if value == "yes":
            return queryset.filter(eligibility__passed=True)
        if value == "no":
            return queryset.filter(eligibility__passed=False)
        return queryset

    def filter_waiting(self, queryset, name, value):
        return queryset.filter(status__in=WAITING_FOR_STAFF) if value else queryset

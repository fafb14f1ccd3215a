import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.filtering import BootstrapFilterMixin, YearFilter
from applications.models import Application, Field, Status


class DistrictApplicationFilter(BootstrapFilterMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("搜索"), method="search", help_text=_("创新中心名称、申报编号或牵头单位")
    )
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=[c for c in Status.choices if c[0] != Status.DRAFT]
    )
    field = django_filters.ModelChoiceFilter(label=_("领域"), queryset=Field.objects.all())
    year = YearFilter(label=_("年度"))

    class Meta:
        model = Application
        fields = ["q", "status", "field", "year"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(centre_name__icontains=value) | Q(number__icontains=value) | Q(lead_unit__name__icontains=value)
        )

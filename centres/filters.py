import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.filtering import BootstrapFilterMixin, YearFilter
from applications.models import Field
from centres.models import Centre


class CentreFilter(BootstrapFilterMixin, django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("搜索"), method="search")
    field = django_filters.ModelChoiceFilter(
        label=_("领域"), queryset=Field.objects.all(), empty_label=_("全部领域")
    )
    kind = django_filters.ChoiceFilter(
        label=_("类型"), choices=Centre.Kind.choices, empty_label=_("全部类型")
    )
    year = YearFilter(label=_("授牌年度"), field_name="award_date", lookup_expr="year")

    class Meta:
        model = Centre
        fields = ["q", "field", "kind", "year"]

    def search(self, queryset, name, value):
        value = value.strip()
        return (
            queryset.filter(Q(name__icontains=value) | Q(lead_unit__name__icontains=value))
            if value
            else queryset
        )

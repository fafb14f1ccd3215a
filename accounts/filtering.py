"""The shared filter machinery of the list pages (django-filter).

Filter forms are rendered cheaply: Bootstrap classes set on the widgets once, plain templates render them.
(Rendering each filter field through crispy-forms cost about 30 ms a page on the staff workbench.)

No query parameter may cause a server error: a value the form refuses is left out of the query and named
on the page (``ignored``); values the database cannot take are refused by the form fields themselves
(``YearFilter`` for years, ``IPAddressFilter`` for address columns), never passed on to PostgreSQL.
"""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

MIN_YEAR, MAX_YEAR = 1900, 2999


class BootstrapFilterMixin:
    """For django-filter FilterSets: gives every widget of ``self.form`` its Bootstrap class, and lists the
    parameters whose values were refused (django-filter filters with the valid ones only)."""

    @property
    def form(self):
        form = super().form
        if not getattr(form, "_bootstrapped", False):
            for field in form.fields.values():
                widget = field.widget
                css = "form-select" if isinstance(widget, forms.Select) else "form-control"
                widget.attrs.setdefault("class", css)
                # An empty choice in a filter means "any": 全部, and 不限 for yes/no (not "---------", 未知).
                if isinstance(widget, forms.NullBooleanSelect):
                    widget.choices = [("unknown", _("不限")), ("true", _("是")), ("false", _("否"))]
                elif isinstance(widget, django_filters.widgets.BooleanWidget):
                    widget.choices = [("", _("不限")), ("true", _("是")), ("false", _("否"))]
                elif isinstance(field, forms.ModelChoiceField):
                    if str(field.empty_label or "").startswith("---"):
                        field.empty_label = _("全部")
                elif isinstance(field, forms.ChoiceField) and not isinstance(widget, forms.SelectMultiple):
                    field.choices = [
                        (value, _("全部") if value in ("", None) and str(label).startswith("---") else label)
                        for value, label in field.choices
                    ]
            form._bootstrapped = True
        return form

    @property
    def ignored(self) -> list[str]:
        """Labels of the filters whose values were invalid and are not applied."""
        if not self.is_bound:
            return []
        return [str(self.form.fields[name].label) for name in self.form.errors if name in self.form.fields]


class YearFilter(django_filters.NumberFilter):
    """A calendar year: a whole number within what a date column holds (a year lookup on -1 or 10^20
    would make Django build an impossible date)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", MIN_YEAR)
        kwargs.setdefault("max_value", MAX_YEAR)
        super().__init__(*args, **kwargs)


class IPAddressFilter(django_filters.CharFilter):
    """An exact IPv4/IPv6 address (PostgreSQL refuses to compare an ``inet`` column with other text)."""

    field_class = forms.GenericIPAddressField

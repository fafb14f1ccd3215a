"""The shared filter machinery of the list pages (django-filter).

Filter forms are rendered cheaply: Bootstrap classes set on the widgets once, plain templates render them.
(Rendering each filter field through crispy-forms cost about 30 ms a page on the staff workbench.)

No query parameter may cause a server error: a value the form refuses is left out of the query and named
on the page (``ignored``); values the database cannot take are refused by the form fields themselves
(``YearFilter`` for years, ``IPAddressFilter`` for address columns), never passed on to PostgreSQL.
"""

import django_filters
from django import forms

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

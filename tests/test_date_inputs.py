"""Every date and date-time input of the portal renders its value as browsers read it (ISO 8601): a value
such as 2026/12/04 (Django's default in Chinese) shows an empty field, and saving again clears the date.
The browser reads the fields back in tests/browser/test_date_fields.py."""

import importlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import django_filters
import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone, translation

from accounts.roles import Role
from evaluation import publicity
from tests.factories import application_approved, application_in, user_with_role

MODULES = [
    "accounts.forms",
    "accounts.security_views",
    "applications.forms",
    "applications.filters",
    "centres.filters",
    "evaluation.forms",
    "evaluation.filters",
    "evaluation.public_forms",
    "reports.summary_forms",
    "reports.centre_views",
]


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def date_widgets() -> list[tuple[str, forms.Widget]]:
    for name in MODULES:
        importlib.import_module(name)
    found = []
    for form in _subclasses(forms.BaseForm):
        if form.__module__ in MODULES:
            found += [(f"{form.__name__}.{n}", f.widget) for n, f in form.base_fields.items()]
    for filterset in _subclasses(django_filters.FilterSet):
        if filterset.__module__ in MODULES:
            found += [
                (f"{filterset.__name__}.{n}", f.field.widget) for n, f in filterset.base_filters.items()
            ]
    return [
        (name, widget)
        for name, widget in found
        if widget.attrs.get("type", getattr(widget, "input_type", None)) in ("date", "datetime-local")
    ]


def test_every_date_input_of_the_portal_renders_iso_values_in_every_language():
    widgets = date_widgets()
    assert len(widgets) >= 14, [name for name, _w in widgets]
    moment = datetime(2026, 12, 4, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for name, widget in widgets:
                if widget.attrs.get("type", widget.input_type) == "date":
                    assert widget.format_value(date(2026, 12, 4)) == "2026-12-04", (language, name)
                else:
                    assert widget.format_value(moment) == "2026-12-04T09:30", (language, name)


@pytest.mark.django_db
def test_the_saved_dates_are_on_the_pages_in_iso_form(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    client.force_login(staff)
    approved = application_approved(staff=staff)
    publicity.record_approval(
        approved, staff, document_number="渝经信发〔2026〕60号", document_date=date(2026, 11, 20)
    )
    application_in("leadership", staff=staff)

    approval = client.get(reverse("evaluation:approval", args=[approved.pk])).content.decode()
    assert 'name="document_date" value="2026-11-20"' in approval
    leadership = client.get(reverse("evaluation:leadership")).content.decode()
    assert f'name="meeting_date" value="{timezone.localdate():%Y-%m-%d}"' in leadership

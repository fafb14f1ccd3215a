"""What people see on a phone: list pages carry one shared mechanism (portal.css ``table-stack``) that turns
each row into a card whose cells are led by their column's name (``data-label``); wide tables that must stay
tables scroll inside a region a keyboard can reach. The browser tests check the look at 375 px."""

import re

import pytest
from django.urls import reverse

from accounts.roles import Role
from tests.factories import application_in, awarded_centre, user_with_role

pytestmark = pytest.mark.django_db


def stacked_tables(body: str) -> list[tuple[list[str], list[str]]]:
    """(column names, labels of the first row's cells) of each stacked table in the page."""
    tables = []
    for table in re.findall(r'<table class="table table-stack[^"]*">(.*?)</table>', body, re.S):
        heads = [
            re.sub(r"<[^>]+>", "", h).strip()
            for h in re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", table, re.S)
        ]
        first_row = re.search(r"<tbody>\s*<tr[^>]*>(.*?)</tr>", table, re.S).group(1)
        labels = re.findall(r'<td data-label="([^"]*)"', first_row)
        tables.append((heads, labels))
    return tables


def assert_every_named_column_labels_its_cells(body: str) -> None:
    tables = stacked_tables(body)
    assert tables, "no stacked list on the page"
    for heads, labels in tables:
        named = [h for h in heads if h and h != "操作"]
        assert labels == named, (heads, labels)


def test_the_public_directory_and_announcement_are_stacked_rows_on_a_phone(client):
    awarded_centre(name="重庆市名录甲创新中心")
    body = client.get(reverse("centres:directory")).content.decode()
    assert_every_named_column_labels_its_cells(body)
    assert 'data-label="授牌日期">2024-06-01<' in body


def test_the_workbench_and_the_lead_units_list_are_stacked_rows_on_a_phone(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    application = application_in("submitted", staff=staff)
    client.force_login(staff)
    body = client.get(reverse("evaluation:staff_home")).content.decode()
    assert_every_named_column_labels_its_cells(body)
    # the export button is a normal outlined button, not a grey one that looks switched off
    assert re.search(r'class="btn btn-outline-primary" href="[^"]*export[^"]*">导出Excel<', body)
    client.force_login(application.lead_unit.users.first())
    assert_every_named_column_labels_its_cells(client.get(reverse("applications:lead_home")).content.decode())


def test_a_wide_table_that_stays_a_table_scrolls_in_a_named_focusable_region(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    application = application_in("submitted", staff=staff)
    client.force_login(staff)
    body = client.get(reverse("evaluation:application", args=[application.pk])).content.decode()
    assert '<div class="table-responsive" tabindex="0" role="region" aria-label="共建单位列表">' in body

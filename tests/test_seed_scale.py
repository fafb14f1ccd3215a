"""``manage.py seed_scale``: the benchmark's large data set, here at a small size, spread as documented and
usable by the pages (which stay within their query budgets on it)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.roles import Role
from applications.models import Application, Status
from centres.models import Centre
from evaluation.models import Objection, ScoreSheet
from reports.models import AnnualSummary
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def scaled(db):
    call_command("seed_scale", applications=260, experts=12, centres=8, objections=30, stdout=StringIO())


def test_the_data_set_is_spread_over_every_stage_with_sheets_centres_and_objections(scaled):
    statuses = set(Application.objects.values_list("status", flat=True))
    assert statuses == {s.value for s in Status}
    assert Application.objects.count() == 260
    assert ScoreSheet.objects.filter(submitted_at__isnull=False).exists()
    assert Centre.objects.count() == 8
    assert AnnualSummary.objects.values("reporting_year").distinct().count() == 5
    assert AnnualSummary.objects.count() == 8 * 5
    assert Objection.objects.count() == 30
    with connection.cursor() as cursor:  # statistics gathered for the planner after the bulk load
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [Application._meta.db_table])
        assert cursor.fetchone()[0] >= 200


def test_the_workbench_on_the_data_set_stays_within_its_budget(scaled, client):
    client.force_login(user_with_role(Role.COMMISSION_STAFF))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("evaluation:staff_home"), {"status": "rejected"})
    assert response.status_code == 200
    assert len(queries.captured_queries) <= 12
    rejected = Application.objects.filter(status=Status.REJECTED).count()
    assert rejected > 20
    assert response.content.decode().count('href="/review/applications/') == min(50, rejected)

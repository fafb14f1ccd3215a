"""The API's OpenAPI schema walked property-based with schemathesis (through WSGI, inside the suite): for an
anonymous caller and for a caller with a token holding every scope, no response is a 500 and every response
matches the schema (status documented, body valid, content type), and the token's endpoints refuse callers
without one. Bounded: a few examples per operation. Left out: schemathesis' "schema-valid request accepted"
check, since an id of a field or district that does not exist is schema-valid and refused (400) by design."""

import datetime

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.roles import Role
from api import tokens
from api.models import Scope, SystemAccount
from reports.models import ReportingYear
from tests.factories import (
    annual_summary,
    application_in,
    application_in_publicity,
    awarded_centre,
    graded_assessment,
    user_with_role,
)

EXAMPLES = settings(
    max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None
)


@pytest.fixture
def api_schema(db):
    staff = user_with_role(Role.COMMISSION_STAFF)
    centre = awarded_centre()
    awarded_centre(excluded_until=datetime.date(2099, 1, 1), status="excluded")
    year = ReportingYear.objects.create(year=2025, due_date=datetime.date(2026, 3, 31), opened_by=staff)
    annual_summary(centre, year, state="accepted")
    graded_assessment(centre, 1, 85, "good", confirmed_by=staff)
    application_in("submitted", staff=staff)  # an application before any outcome (blank fields)
    application_in_publicity(staff=staff)  # an announcement with its entry, and an application in publicity
    # Django's test client keeps the connection (and its test transaction) across requests; a bare WSGI
    # call would close it at the end of each request, as a server does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(db):
    account = SystemAccount.objects.create(name="测试系统")
    admin = user_with_role(Role.SYSTEM_ADMIN)
    _token, raw = tokens.issue(account, scopes=Scope.values, by=admin)
    return {"Authorization": f"Bearer {raw}"}


def walk(schema, headers=None) -> int:
    """Every operation of ``schema``, a bounded number of generated requests each; returns the count."""
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @EXAMPLES
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()
    return len(operations)


def test_anonymous_callers(api_schema):
    assert walk(api_schema) == 7


def test_callers_with_a_token(api_schema, bearer):
    assert walk(api_schema, headers=bearer) == 7

"""Numbers of the programme live in the versioned policy, not in code (issue 15, item 10): the summary
reminders' days, the site inspection's maximum, the sheets the trimmed mean needs; and the policy's minimum
panel is odd and at least 5 (DOMAIN.md)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.roles import Role
from applications.models import Policy
from applications.services import ActionRefused
from evaluation import comprehensive, inspection, panels
from evaluation.models import SiteInspection
from reports import summaries
from reports.models import SummaryReminder
from tests.factories import (
    application_in,
    application_in_expert_review,
    awarded_centre,
    panel_with_experts,
    policy_version,
    stamp_policy,
    submit_sheet,
    user_with_role,
)

pytestmark = pytest.mark.django_db

FINDINGS = {item: {"finding": "与申报材料一致。"} for item in SiteInspection.Item.values}


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


# --- the minimum panel -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3, 4, 6])
def test_a_policy_cannot_ask_for_a_panel_below_five_or_even(size):
    candidate = Policy(**{**_current_values(), "min_panel_size": size})
    with pytest.raises(ValidationError) as invalid:
        candidate.full_clean()
    assert invalid.value.message_dict == {"min_panel_size": ["专家组最少人数应为不少于5人的奇数。"]}
    with pytest.raises(IntegrityError), transaction.atomic():
        policy_version(min_panel_size=size)


def test_a_policy_of_seven_is_accepted_and_the_floor_is_five():
    assert Policy.current().min_panel_size == 5
    assert policy_version(min_panel_size=7).min_panel_size == 7


def test_the_policy_admin_refuses_a_panel_of_three(client):
    staff = user_with_role(Role.COMMISSION_STAFF, is_staff=True)
    client.force_login(staff)
    url = reverse("admin:applications_policy_add")
    form = client.get(url).context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update(min_panel_size="3", note="测试", effective_from_0="2026-12-05", effective_from_1="09:00:00")
    count = Policy.objects.count()
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "min_panel_size": ["专家组最少人数应为不少于5人的奇数。"]
    }
    assert Policy.objects.count() == count


def _current_values() -> dict:
    current = Policy.current()
    skip = {"id", "version", "effective_from", "created_at", "created_by", "note"}
    return {f.name: getattr(current, f.name) for f in Policy._meta.concrete_fields if f.name not in skip}


# --- the summary reminders' days ---------------------------------------------------------------------------


def test_summary_reminders_follow_the_policys_days(staff):
    lead = user_with_role(Role.LEAD_UNIT)
    awarded_centre(lead_user=lead, award_date=datetime.date(2023, 5, 20))
    due = datetime.date(2025, 3, 31)
    summaries.open_year(staff, 2024, due)
    policy_version(summary_reminder_days="14，3")  # a full-width comma is read as a comma
    assert Policy.current().reminder_days == (14, 3)
    sent = {days: summaries.remind_due(due - datetime.timedelta(days=days)) for days in (30, 15, 14, 7, 3, 1)}
    assert sent == {30: 0, 15: 0, 14: 1, 7: 0, 3: 1, 1: 0}
    assert set(SummaryReminder.objects.values_list("days_before", flat=True)) == {14, 3}


@pytest.mark.parametrize("days", ["", "30,,x", "0,7", "-1"])
def test_reminder_days_must_be_positive_whole_numbers(days):
    candidate = Policy(**{**_current_values(), "summary_reminder_days": days})
    with pytest.raises(ValidationError) as invalid:
        candidate.full_clean()
    assert "summary_reminder_days" in invalid.value.message_dict


# --- the site inspection's maximum -------------------------------------------------------------------------


def _inspection(staff, policy=None):
    application = application_in("site_inspection", staff=staff)
    if policy is not None:
        application = stamp_policy(application, policy)
    record = inspection.open_inspection(
        application, staff, leader=staff, visit_date=datetime.date(2026, 12, 1), team="张三"
    )
    return application, record


def test_the_site_score_maximum_is_the_policys(staff):
    _other, default = _inspection(staff)  # judged against the version in force: maximum 100
    _application, record = _inspection(staff, policy_version(inspection_max_score=120))
    inspection.save_record(record, staff, findings=FINDINGS, score=Decimal("110"), conclusion="通过。")
    assert SiteInspection.objects.get(pk=record.pk).score == Decimal("110")
    with pytest.raises(ActionRefused) as refused:
        inspection.save_record(record, staff, findings=FINDINGS, score=Decimal("121"), conclusion="通过。")
    assert refused.value.message == "现场考核得分应在0到120之间。"

    # Under the first version the maximum stays 100.
    with pytest.raises(ActionRefused, match="0到100之间"):
        inspection.save_record(default, staff, findings=FINDINGS, score=Decimal("101"), conclusion="通过。")


def test_the_composite_counts_the_site_score_on_a_scale_of_100(staff):
    application, record = _inspection(staff, policy_version(inspection_max_score=120))
    inspection.save_record(record, staff, findings=FINDINGS, score=Decimal("102"), conclusion="通过。")
    inspection.sign_off(record, staff)
    figures = comprehensive.compute(application)
    # expert 90.00 (factories: 0.9 of every maximum); site 102 / 120 = 85 of 100; (60 × 90 + 40 × 85) / 100
    assert figures["expert_score"] == Decimal("90.00")
    assert figures["composite"] == Decimal("88.00")


def test_the_inspection_page_takes_a_score_up_to_the_policys_maximum(client, staff):
    application, record = _inspection(staff, policy_version(inspection_max_score=120))
    client.force_login(staff)
    url = reverse("evaluation:inspection", args=[application.pk])
    page = client.get(url).content.decode()
    assert "现场考核得分（0-120）" in page and 'max="120"' in page
    data = {
        "save_record": "1",
        "visit_date": "2026-12-01",
        "team": "张三",
        "score": "115",
        "conclusion": "通过",
    }
    data |= {f"finding_{item}": "一致" for item in SiteInspection.Item.values}
    save = reverse("evaluation:inspection_record", args=[application.pk])
    assert client.post(save, data).status_code == 302
    assert SiteInspection.objects.get(pk=record.pk).score == Decimal("115")
    response = client.post(save, {**data, "score": "125"})
    assert response.status_code == 200 and 'value="125"' in response.content.decode()
    assert SiteInspection.objects.get(pk=record.pk).score == Decimal("115")


# --- the trimmed mean's sheets -----------------------------------------------------------------------------


def _scored(staff, totals, **policy):
    application = application_in_expert_review(staff=staff)
    application = stamp_policy(application, policy_version(score_aggregate="trimmed_mean", **policy))
    panel, assignments = panel_with_experts(application, staff, size=max(5, len(totals)))
    for assignment, total in zip(assignments, totals, strict=False):
        submit_sheet(assignment, total=total)
    return panels.aggregate(panels.panel_for_view(panel.pk), application.policy)


def test_the_trimmed_mean_needs_the_policys_number_of_sheets(staff):
    # Policy: trim from 7 sheets. Five sheets 70, 70, 80, 95, 95: the plain mean, 410 / 5 = 82.00.
    result = _scored(staff, [70, 70, 80, 95, 95], trimmed_mean_min_sheets=7)
    assert (result["method"], result["used"], result["trimmed_mean"]) == ("mean", Decimal("82.00"), None)
    # Policy: trim from 3. Four sheets 60, 80, 85, 95: (80 + 85) / 2 = 82.50.
    result = _scored(staff, [60, 80, 85, 95], trimmed_mean_min_sheets=3)
    assert (result["method"], result["used"]) == ("trimmed_mean", Decimal("82.50"))


def test_the_trimmed_mean_cannot_be_asked_of_fewer_than_three_sheets():
    with pytest.raises(IntegrityError), transaction.atomic():
        policy_version(trimmed_mean_min_sheets=2)


def test_the_migration_raises_a_stored_panel_of_three_to_five():
    """A database that stored a version asking for 3 (allowed until now) is raised to the floor, saying so."""
    import importlib

    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    migration = importlib.import_module("applications.migrations.0008_policy_numbers_and_panel_floor")
    with connection.cursor() as cursor:  # undone with the test's transaction
        cursor.execute("ALTER TABLE applications_policy DROP CONSTRAINT policy_panel_size_odd_at_least_5")
    old = Policy.objects.create(**{**_current_values(), "min_panel_size": 3}, note="旧版本")
    state = MigrationLoader(connection).project_state(("applications", "0008_policy_numbers_and_panel_floor"))
    migration.raise_small_panels(state.apps, None)
    raised = Policy.objects.get(pk=old.pk)
    assert raised.min_panel_size == 5
    assert raised.note == "旧版本（专家组最少人数由3调整为5：应为不少于5人的奇数）"

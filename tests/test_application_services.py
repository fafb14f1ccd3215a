"""The lead unit's steps on an application: create, submit, withdraw; history and concurrency."""

import re
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from applications import services
from applications.models import (
    Application,
    ApplicationEvent,
    ApplicationVersion,
    Policy,
    Status,
    SubmissionCounter,
)
from applications.services import ActionRefused
from applications.snapshots import snapshot
from tests.factories import ApplicationFactory, UserFactory, complete_application, user_with_role

NUMBER = re.compile(r"^CQ-ZZCX-(\d{4})-(\d{4})$")
IP = "203.0.113.7"


def reload(application) -> Application:
    return Application.objects.get(pk=application.pk)


def state(application) -> dict:
    """Everything a step may change, read from the database."""
    row = Application.objects.filter(pk=application.pk).values(
        "status", "number", "revision", "year", "submitted_at", "policy_id", "eligibility", "updated_at"
    )[0]
    return {
        **row,
        "events": list(
            ApplicationEvent.objects.filter(application_id=application.pk).values_list("pk", "action")
        ),
        "versions": ApplicationVersion.objects.filter(application_id=application.pk).count(),
        "notifications": Notification.objects.count(),
        "counters": list(SubmissionCounter.objects.values_list("year", "last")),
    }


def sequence(number: str) -> int:
    match = NUMBER.match(number)
    assert match, number
    return int(match.group(2))


# --- create_draft ----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in Role if r != Role.LEAD_UNIT])
def test_create_draft_is_refused_for_other_roles(role):
    user = user_with_role(role)
    with pytest.raises(ActionRefused):
        services.create_draft(user, ip=IP)
    assert not Application.objects.exists()
    assert not ApplicationEvent.objects.exists()


@pytest.mark.django_db
def test_create_draft_is_refused_for_a_lead_unit_user_without_an_organisation():
    user = UserFactory(roles=[Role.LEAD_UNIT])
    with pytest.raises(ActionRefused):
        services.create_draft(user)
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_create_draft_is_refused_for_an_inactive_lead_unit_user():
    user = user_with_role(Role.LEAD_UNIT, is_active=False)
    with pytest.raises(ActionRefused):
        services.create_draft(user)
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_create_draft_sets_the_lead_unit_district_and_author_and_records_it():
    user = user_with_role(Role.LEAD_UNIT)
    application = reload(services.create_draft(user, ip=IP))
    assert application.status == Status.DRAFT
    assert application.lead_unit == user.organisation
    assert application.district == user.organisation.district
    assert application.created_by == user
    assert application.number is None
    assert application.revision == 0
    [event] = ApplicationEvent.objects.filter(application=application)
    assert (event.action, event.from_status, event.to_status) == ("create", Status.DRAFT, Status.DRAFT)
    assert event.actor == user
    assert event.ip_address == IP


# --- submit: refused -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_submitting_an_incomplete_draft_is_refused_with_details_and_changes_nothing():
    application = ApplicationFactory(centre_name="只写了名称")
    user = application.created_by
    user_with_role(Role.COMMISSION_STAFF)
    before = state(application)
    with pytest.raises(ActionRefused) as refused:
        services.submit(application, user, ip=IP)
    assert refused.value.details  # the list of what is missing
    assert "创新中心名称" not in refused.value.details  # filled in, so not named
    assert "重点布局领域" in refused.value.details
    assert state(application) == before
    after = reload(application)
    assert after.status == Status.DRAFT
    assert after.number is None
    assert not ApplicationVersion.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_a_lead_unit_user_of_another_organisation_cannot_submit_or_withdraw():
    application = complete_application()
    stranger = user_with_role(Role.LEAD_UNIT)
    assert stranger.organisation_id != application.lead_unit_id
    before = state(application)
    with pytest.raises(ActionRefused):
        services.submit(application, stranger, ip=IP)
    with pytest.raises(ActionRefused):
        services.withdraw(application, stranger, reason="不是我的", ip=IP)
    assert state(application) == before

    services.submit(application, application.created_by)
    before = state(application)
    with pytest.raises(ActionRefused):
        services.withdraw(application, stranger, reason="不是我的", ip=IP)
    assert state(application) == before


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.COMMISSION_STAFF, Role.DISTRICT_STAFF, Role.SYSTEM_ADMIN, Role.EXPERT])
def test_staff_cannot_submit_an_application(role):
    application = complete_application()
    before = state(application)
    with pytest.raises(ActionRefused):
        services.submit(application, user_with_role(role), ip=IP)
    assert state(application) == before


@pytest.mark.django_db
def test_a_submitted_application_cannot_be_submitted_again():
    application = complete_application()
    user = application.created_by
    services.submit(application, user)
    before = state(application)
    with pytest.raises(ActionRefused) as refused:
        services.submit(application, user)
    assert str(Status.SUBMITTED.label) in refused.value.message  # names the stage it is in
    assert state(application) == before


@pytest.mark.django_db
@pytest.mark.parametrize("status", [Status.PRELIMINARY, Status.WITHDRAWN, Status.REJECTED, Status.AWARDED])
def test_an_application_past_the_draft_cannot_be_submitted(status):
    application = complete_application()
    Application.objects.filter(pk=application.pk).update(status=status)
    before = state(application)
    with pytest.raises(ActionRefused) as refused:
        services.submit(application, application.created_by)
    assert str(status.label) in refused.value.message
    assert state(application) == before


# --- submit: done ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_submitting_a_complete_draft():
    staff = user_with_role(Role.COMMISSION_STAFF)
    application = complete_application()
    user = application.created_by
    colleague = user_with_role(Role.LEAD_UNIT, organisation=application.lead_unit)
    stranger = user_with_role(Role.LEAD_UNIT)
    # A newer policy than the first: the one in force at submission must be stamped.
    Policy.objects.create(note="测试：第二版")
    policy = Policy.current()
    started = timezone.now()

    services.submit(application, user, ip=IP)

    application = reload(application)
    assert application.status == Status.SUBMITTED
    match = NUMBER.match(application.number)
    assert match, application.number
    assert int(match.group(1)) == application.year == timezone.localdate().year
    assert application.revision == 1
    assert started <= application.submitted_at <= timezone.now()
    assert application.policy == policy
    assert application.eligibility["passed"] is True
    assert [item["passed"] for item in application.eligibility["items"]] == [True] * 8

    [version] = ApplicationVersion.objects.filter(application=application)
    assert version.revision == 1
    assert version.submitted_by == user
    assert version.submitted_at == application.submitted_at
    assert version.content == snapshot(services.with_contents().get(pk=application.pk))
    assert version.content["fields"]["centre_name"] == application.centre_name
    assert len(version.content["attachments"]) == 4

    [event] = ApplicationEvent.objects.filter(application=application, action="submit")
    assert (event.from_status, event.to_status) == (Status.DRAFT, Status.SUBMITTED)
    assert event.actor == user
    assert event.ip_address == IP

    recipients = set(Notification.objects.values_list("recipient_id", flat=True))
    assert recipients == {user.pk, colleague.pk, staff.pk}
    assert stranger.pk not in recipients


@pytest.mark.django_db
def test_numbers_increase_with_each_submission_in_a_year():
    numbers = []
    for _ in range(3):
        application = complete_application()
        numbers.append(services.submit(application, application.created_by).number)
    assert len(set(numbers)) == 3
    sequences = [sequence(n) for n in numbers]
    assert sequences == [sequences[0], sequences[0] + 1, sequences[0] + 2]
    assert {NUMBER.match(n).group(1) for n in numbers} == {str(timezone.localdate().year)}


@pytest.mark.django_db
def test_a_refused_submission_does_not_use_up_a_number():
    first = complete_application()
    number_one = services.submit(first, first.created_by).number
    incomplete = ApplicationFactory()
    with pytest.raises(ActionRefused):
        services.submit(incomplete, incomplete.created_by)
    second = complete_application()
    assert sequence(services.submit(second, second.created_by).number) == sequence(number_one) + 1


@pytest.mark.django_db
def test_a_failed_threshold_warns_but_does_not_block_submission():
    policy = Policy.current()
    application = complete_application(
        investment_capital=policy.min_total_investment / 2, investment_ip=0, employees=100, rd_staff=1
    )
    services.submit(application, application.created_by)
    application = reload(application)
    assert application.status == Status.SUBMITTED
    assert application.eligibility["passed"] is False
    failed = {item["code"] for item in application.eligibility["items"] if item["passed"] is not True}
    assert failed == {"4", "5"}


@pytest.mark.django_db
def test_resubmitting_a_returned_plan_keeps_the_number_and_adds_a_version():
    application = complete_application()
    user = application.created_by
    number = services.submit(application, user).number
    Application.objects.filter(pk=application.pk).update(status=Status.RETURNED, centre_name="改过的名称")

    services.submit(application, user, ip=IP)

    application = reload(application)
    assert application.status == Status.SUBMITTED
    assert application.number == number
    assert application.revision == 2
    versions = list(ApplicationVersion.objects.filter(application=application).order_by("revision"))
    assert [v.revision for v in versions] == [1, 2]
    assert versions[1].content["fields"]["centre_name"] == "改过的名称"
    assert versions[0].content["fields"]["centre_name"] != "改过的名称"
    event = ApplicationEvent.objects.filter(application=application).order_by("-pk").first()
    assert (event.action, event.from_status, event.to_status) == (
        "resubmit",
        Status.RETURNED,
        Status.SUBMITTED,
    )


# --- withdraw --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_withdrawing_a_draft():
    user_with_role(Role.COMMISSION_STAFF)
    application = complete_application()
    user = application.created_by
    services.withdraw(application, user, reason="方案需重新论证", ip=IP)
    assert reload(application).status == Status.WITHDRAWN
    event = ApplicationEvent.objects.get(application=application, action="withdraw")
    assert (event.from_status, event.to_status) == (Status.DRAFT, Status.WITHDRAWN)
    assert (event.actor, event.comment, event.ip_address) == (user, "方案需重新论证", IP)
    # Staff never saw the draft: nobody needs telling.
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_withdrawing_a_submitted_application_tells_the_staff():
    staff = user_with_role(Role.COMMISSION_STAFF)
    application = complete_application()
    user = application.created_by
    services.submit(application, user)
    Notification.objects.all().delete()

    services.withdraw(application, user, reason="牵头单位调整", ip=IP)

    assert reload(application).status == Status.WITHDRAWN
    event = ApplicationEvent.objects.get(application=application, action="withdraw")
    assert (event.from_status, event.to_status) == (Status.SUBMITTED, Status.WITHDRAWN)
    assert (event.actor, event.comment, event.ip_address) == (user, "牵头单位调整", IP)
    [note] = Notification.objects.all()
    assert note.recipient == staff
    assert "牵头单位调整" in note.body
    assert [e.action for e in ApplicationEvent.objects.filter(application=application)] == [
        "submit",
        "withdraw",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "status", [Status.PRELIMINARY, Status.EXPERT_REVIEW, Status.PUBLICITY, Status.WITHDRAWN]
)
def test_withdrawing_once_the_review_has_started_is_refused(status):
    application = complete_application()
    services.submit(application, application.created_by)
    Application.objects.filter(pk=application.pk).update(status=status)
    before = state(application)
    with pytest.raises(ActionRefused) as refused:
        services.withdraw(application, application.created_by, reason="来不及了")
    assert str(status.label) in refused.value.message
    assert state(application) == before


# --- concurrency -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_stale_copy_cannot_repeat_a_move_already_made():
    application = complete_application()
    user = application.created_by
    first = Application.objects.get(pk=application.pk)
    second = Application.objects.get(pk=application.pk)
    assert first is not second

    services.submit(first, user)
    before = state(application)

    assert second.status == Status.DRAFT  # stale: still thinks it is a draft
    with pytest.raises(ActionRefused, match="已由") as refused, services.guarded(second):
        services.move(second, "submit", user)
    assert str(user) in refused.value.message
    assert str(Status.SUBMITTED.label) in refused.value.message
    assert state(application) == before


def _start_submitters(pk, users):
    """Each user submits ``pk`` in a thread of its own (own database connection), all released together."""
    return _start_threads([(pk, user) for user in users])


def _start_threads(jobs):
    """Run ``services.submit(pk, user)`` for each job in its own thread, all released together."""
    barrier = threading.Barrier(len(jobs))
    results = [None] * len(jobs)

    def run(i, pk, user):
        try:
            barrier.wait(timeout=10)
            services.submit(Application.objects.get(pk=pk), user)
            results[i] = "ok"
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, pk, u)) for i, (pk, u) in enumerate(jobs)]
    for t in threads:
        t.start()
    return threads, results


def _join(threads):
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a submitting thread hung"


def _assert_exactly_one_submission(application, results):
    assert results.count("ok") == 1, results
    losers = [r for r in results if r != "ok"]
    assert all(isinstance(r, ActionRefused) for r in losers), losers
    application = reload(application)
    assert application.status == Status.SUBMITTED
    assert application.revision == 1
    assert ApplicationEvent.objects.filter(application=application, action="submit").count() == 1
    assert ApplicationVersion.objects.filter(application=application).count() == 1
    # The loser's number was rolled back with it: no gap in the sequence.
    assert SubmissionCounter.objects.get(year=application.year).last == sequence(application.number)
    return losers


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_submits_make_exactly_one_submission():
    application = complete_application()
    colleague = user_with_role(Role.LEAD_UNIT, organisation=application.lead_unit)
    threads, results = _start_submitters(application.pk, [application.created_by, colleague])
    _join(threads)
    _assert_exactly_one_submission(application, results)


def _wait_for_blocked_backends(count, timeout=15):
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # Inside a transaction the statistics views keep their first snapshot unless cleared.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.02)
    pytest.fail(f"{count} submitting threads never reached the numbering lock")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_loser_of_a_race_past_the_checks_is_told_who_moved_it():
    """Both threads pass the status check before either commits (the test holds the year's counter row
    until both wait for it), so the second save meets django-fsm's ConcurrentTransition, which must turn
    into a clear refusal naming who moved the application."""
    application = complete_application()
    colleague = user_with_role(Role.LEAD_UNIT, organisation=application.lead_unit)
    year = timezone.localdate().year
    SubmissionCounter.objects.get_or_create(year=year)

    with transaction.atomic():
        SubmissionCounter.objects.select_for_update().get(year=year)
        threads, results = _start_submitters(application.pk, [application.created_by, colleague])
        _wait_for_blocked_backends(2)
    # The lock goes with the commit: one thread numbers and submits, the other runs into the moved row.
    _join(threads)

    [loser] = _assert_exactly_one_submission(application, results)
    assert "已由" in loser.message
    assert str(Status.SUBMITTED.label) in loser.message


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_applications_submitted_at_the_same_time_get_distinct_consecutive_numbers():
    """Two lead units submit at the same moment; the year's counter must hand out two numbers, not one."""
    first, second = complete_application(), complete_application()
    year = timezone.localdate().year
    SubmissionCounter.objects.get_or_create(year=year)
    start = SubmissionCounter.objects.get(year=year).last

    with transaction.atomic():
        SubmissionCounter.objects.select_for_update().get(year=year)
        threads, results = _start_threads([(first.pk, first.created_by), (second.pk, second.created_by)])
        _wait_for_blocked_backends(2)
    _join(threads)

    assert results == ["ok", "ok"]
    numbers = sorted(sequence(reload(a).number) for a in (first, second))
    assert numbers == [start + 1, start + 2]
    assert SubmissionCounter.objects.get(year=year).last == start + 2


# --- the history is append-only --------------------------------------------------------------------------


@pytest.mark.django_db
def test_history_cannot_be_changed_or_deleted():
    application = complete_application()
    services.submit(application, application.created_by, ip=IP)
    event = ApplicationEvent.objects.get(application=application, action="submit")
    count = ApplicationEvent.objects.count()

    event.comment = "改写历史"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    with pytest.raises(ValidationError):
        ApplicationEvent.objects.filter(pk=event.pk).update(comment="改写历史")
    with pytest.raises(ValidationError):
        ApplicationEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(ValidationError):
        ApplicationEvent.objects.all().delete()

    assert ApplicationEvent.objects.count() == count
    assert ApplicationEvent.objects.get(pk=event.pk).comment == ""

"""What makes the busy pages fast stays correct: cached fragments follow every change of the data they show,
the roles come with the user in one query, the header's badge follows the notifications, choice labels
come from a dictionary in the reader's language, and a Redis that stops answering only costs speed.
"""

import socket

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from accounts.backends import PortalModelBackend
from accounts.notifications import notify
from accounts.roles import Role
from applications import services
from applications.models import Application, Status
from config import fragments
from config.after_commit import Gathered
from evaluation.models import Assignment
from tests.factories import (
    application_in,
    application_in_expert_review,
    declare_no_conflict,
    panel_with_experts,
    user_with_role,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def queries_of(client, url, data=None) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


# --- fragments: served from the cache, and fresh after every change ----------------------------------------


def test_the_workbench_is_served_from_the_cache_until_an_application_changes(staff_client, staff):
    application = application_in(Status.SUBMITTED, staff=staff)
    url = reverse("evaluation:staff_home")
    cold, body = queries_of(staff_client, url)
    warm, again = queries_of(staff_client, url)
    assert application.centre_name in body and application.centre_name in again
    assert warm < cold  # the rows, counts and choices were not read again
    application.centre_name = "改名后的创新中心"
    application.save(update_fields=["centre_name"])
    _, renamed = queries_of(staff_client, url)
    assert "改名后的创新中心" in renamed


def test_the_workbench_shows_a_new_submission_and_each_query_has_its_own_fragment(staff_client, staff):
    url = reverse("evaluation:staff_home")
    first = application_in(Status.SUBMITTED, staff=staff, centre_name="甲创新中心")
    assert "甲创新中心" in queries_of(staff_client, url)[1]
    assert "甲创新中心" not in queries_of(staff_client, url, {"q": "乙"})[1]
    application_in(Status.SUBMITTED, staff=staff, centre_name="乙创新中心")
    assert "乙创新中心" in queries_of(staff_client, url, {"q": "乙"})[1]
    body = queries_of(staff_client, url)[1]
    assert "甲创新中心" in body and "乙创新中心" in body
    assert first.pk


def test_a_renamed_lead_unit_shows_on_the_cached_workbench(staff_client, staff):
    application = application_in(Status.SUBMITTED, staff=staff)
    url = reverse("evaluation:staff_home")
    queries_of(staff_client, url)
    organisation = application.lead_unit
    organisation.name = "更名后的牵头单位有限公司"
    organisation.save(update_fields=["name"])
    assert "更名后的牵头单位有限公司" in queries_of(staff_client, url)[1]


def test_the_workbench_fragment_is_kept_per_language(staff_client, staff):
    application_in(Status.SUBMITTED, staff=staff)
    url = reverse("evaluation:staff_home")
    chinese = queries_of(staff_client, url)[1]
    staff_client.post(reverse("set_language"), {"language": "en", "next": url})
    english = queries_of(staff_client, url)[1]
    assert '<html lang="en">' in english
    assert "申报编号" in chinese
    assert "申报编号" not in english


def test_the_application_page_shows_a_move_made_after_it_was_cached(staff_client, staff):
    application = application_in(Status.SUBMITTED, staff=staff)
    url = reverse("evaluation:application", args=[application.pk])
    cold, _ = queries_of(staff_client, url)
    warm, _ = queries_of(staff_client, url)
    assert warm < cold
    services.add_history(application, "checklist", staff, comment="缓存之后写下的核对记录")
    assert "缓存之后写下的核对记录" in queries_of(staff_client, url)[1]


def test_a_cached_application_page_is_still_behind_the_permission(client, staff):
    """The plan and history are cached for all staff; the permission is checked before the cache is read,
    and the buttons (the viewer's own moves) are never part of the cached fragment."""
    application = application_in(Status.SUBMITTED, staff=staff)
    url = reverse("evaluation:application", args=[application.pk])
    client.force_login(staff)
    assert (
        reverse("evaluation:move", args=[application.pk, "start_preliminary"])
        in client.get(url).content.decode()
    )
    body = client.get(url).content.decode()  # from the cache this time
    assert reverse("evaluation:move", args=[application.pk, "start_preliminary"]) in body
    client.force_login(user_with_role(Role.EXPERT))
    assert client.get(url).status_code == 403
    client.force_login(user_with_role(Role.LEAD_UNIT))
    assert client.get(url).status_code == 403


def test_an_experts_cached_list_follows_the_assignment(client, staff):
    application = application_in_expert_review(staff=staff)
    _panel, assignments = panel_with_experts(application, staff)
    assignment = assignments[0]
    client.force_login(assignment.expert)
    url = reverse("evaluation:expert_home")
    cold, body = queries_of(client, url)
    assert "回避声明</a>" in body and "评分</a>" not in body
    assert queries_of(client, url)[0] < cold  # cached
    declare_no_conflict(assignment)
    assert Assignment.objects.get(pk=assignment.pk).state == Assignment.State.DECLARED
    body = queries_of(client, url)[1]
    assert "评分</a>" in body and "回避声明</a>" not in body


def test_one_experts_cached_list_is_not_shown_to_another(client, staff):
    application = application_in_expert_review(staff=staff)
    _panel, assignments = panel_with_experts(application, staff)
    mine = assignments[0]
    client.force_login(mine.expert)
    assert application.centre_name in client.get(reverse("evaluation:expert_home")).content.decode()
    client.force_login(user_with_role(Role.EXPERT))
    body = client.get(reverse("evaluation:expert_home")).content.decode()
    assert application.centre_name not in body


def stage_count(body: str, stage: str) -> int:
    marker = f'data-stage="{stage}">'
    start = body.index(marker) + len(marker)
    return int(body[start : body.index("<", start)])


def test_the_dashboard_follows_a_move_and_says_when_it_was_counted(staff_client, staff):
    application = application_in(Status.SUBMITTED, staff=staff)
    url = reverse("reports:dashboard")
    first = staff_client.get(url)
    assert "f" in first.context  # counted
    second = staff_client.get(url)
    assert "f" not in second.context  # served from the cache
    body = second.content.decode()
    assert "数据统计于" in body
    assert (stage_count(body, "submitted"), stage_count(body, "preliminary")) == (1, 0)
    with services.guarded(application):
        services.check_allowed(application, "start_preliminary", staff)
        services.move(application, "start_preliminary", staff)
    body = staff_client.get(url).content.decode()
    assert (stage_count(body, "submitted"), stage_count(body, "preliminary")) == (0, 1)


def test_a_lost_version_starts_from_the_clock_so_no_old_fragment_matches():
    fragments.bump("applications")
    before = fragments.versions(["applications"])[0]
    cache.delete("data-version:applications")
    after = fragments.versions(["applications"])[0]
    assert after != before
    assert after > 10**15  # microseconds since 1970, not 1


def test_a_transaction_gathers_its_bumps_in_one_callback(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        for _ in range(3):
            application_in(Status.SUBMITTED, staff=staff)
    gathered = [c for c in callbacks if isinstance(c, Gathered) and c.kind == "fragment-scopes"]
    assert len(gathered) == 1
    assert {"applications", "review", "programme"} <= gathered[0].items


def test_a_bump_inside_a_rolled_back_savepoint_does_not_stop_later_bumps(staff):
    with transaction.atomic():
        try:
            with transaction.atomic():
                fragments.bump("review")
                raise RuntimeError
        except RuntimeError:
            pass
        before = fragments.versions(["review"])[0]
        fragments.bump("review")
        assert fragments.versions(["review"])[0] > before


# --- the user and the roles: one query ------------------------------------------------------------------


def test_the_user_and_the_roles_come_in_one_query(staff):
    with CaptureQueriesContext(connection) as ctx:
        user = PortalModelBackend().get_user(staff.pk)
        roles = user.role_codes
    assert len(ctx.captured_queries) == 1
    assert roles == {Role.COMMISSION_STAFF}


def test_a_user_with_no_role_and_a_deactivated_or_missing_user():
    nobody = user_with_role(Role.EXPERT)
    nobody.groups.clear()
    assert PortalModelBackend().get_user(nobody.pk).role_codes == frozenset()
    nobody.is_active = False
    nobody.save(update_fields=["is_active"])
    assert PortalModelBackend().get_user(nobody.pk) is None
    assert PortalModelBackend().get_user(10**9) is None
    assert PortalModelBackend().get_user("not a number") is None


def test_a_role_taken_away_applies_on_the_next_request(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    client.force_login(staff)
    assert client.get(reverse("evaluation:staff_home")).status_code == 200
    staff.groups.clear()
    assert client.get(reverse("evaluation:staff_home")).status_code == 403


# --- the header's unread badge ---------------------------------------------------------------------------


def unread_badge(client) -> str:
    body = client.get(reverse("accounts:home"), follow=True).content.decode()
    start = body.index(reverse("accounts:notifications"))
    return body[start : body.index("</a>", start)]


def test_the_unread_badge_follows_new_and_read_notifications(client, staff):
    application = application_in(Status.SUBMITTED)  # staff are told of the submission
    client.force_login(staff)
    assert ">1<" in unread_badge(client)
    assert ">1<" in unread_badge(client)  # from the cache
    notify([staff], "district_opinion", {"application": application}, link="/")
    assert ">2<" in unread_badge(client)
    client.get(reverse("accounts:notifications"))
    assert "badge" not in unread_badge(client)


# --- choice labels --------------------------------------------------------------------------------------


def test_choice_labels_come_in_the_readers_language(staff):
    application = application_in(Status.SUBMITTED, staff=staff)
    with translation.override("zh-hans"):
        assert application.get_status_display() == "已提交"
    with translation.override("en"):
        assert application.get_status_display() == str(Status.SUBMITTED.label)
        assert application.get_status_display() != "已提交"
    organisation = application.lead_unit
    organisation.kind = "no-such-kind"  # not a choice: shown as stored, as Django does
    assert organisation.get_kind_display() == "no-such-kind"


# --- Redis not answering -----------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_with_redis_not_answering_signed_in_pages_still_render(client, staff, settings):
    application = application_in(Status.SUBMITTED, staff=staff)
    client.force_login(staff)
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.PortalRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    for url in (
        reverse("evaluation:staff_home"),
        reverse("evaluation:application", args=[application.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert application.centre_name in response.content.decode()
    dashboard = client.get(reverse("reports:dashboard")).content.decode()
    assert 'data-stage="submitted">1<' in dashboard


def test_the_cache_keeps_one_redis_client_per_pool():
    client = cache._cache
    assert client.get_client(write=True) is client.get_client(write=True)
    cache.set("one-client", 1)
    assert cache.get("one-client") == 1


def test_list_rows_leave_the_plans_long_text_unread(staff):
    application_in(Status.SUBMITTED, staff=staff)
    row = Application.objects.for_list().get()
    assert set(Application.LONG_TEXT_FIELDS) <= row.get_deferred_fields()


def test_the_bumps_after_a_commit_go_in_one_round_trip_and_survive_a_lost_version():
    before = fragments.versions(["review", "programme"])
    cache.delete("data-version:programme")
    fragments._incr_all({"review", "programme"})
    review, programme = fragments.versions(["review", "programme"])
    assert review == before[0] + 1
    assert programme > 10**15 and programme != before[1]

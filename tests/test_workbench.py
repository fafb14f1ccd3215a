"""Commission staff's workbench and review pages: what they list, filters and sorting, counts per stage,
query counts that do not grow with the rows, and who may open them."""

import re

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import District
from accounts.roles import Role
from applications import services
from applications.models import Application, Attachment, Field, Policy, Status
from evaluation.filters import WAITING_FOR_STAFF
from tests.factories import (
    OrganisationFactory,
    UserFactory,
    all_checklist_items,
    application_in,
    make_attachment,
    user_with_role,
)

pytestmark = pytest.mark.django_db

WORKBENCH = "evaluation:staff_home"


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def rows(response) -> list[Application]:
    assert response.status_code == 200
    return list(response.context["page"].object_list)


def pks(response) -> set[int]:
    return {a.pk for a in rows(response)}


def lead_in(district_code: str, name: str = ""):
    extra = {"name": name} if name else {}
    organisation = OrganisationFactory(district=District.objects.get(code=district_code), **extra)
    return user_with_role(Role.LEAD_UNIT, organisation=organisation)


@pytest.fixture
def spread(staff):
    """Applications across stages, fields, districts, years and eligibility (and one draft)."""
    field_a, field_b = Field.objects.order_by("pk")[:2]
    other_district = District.objects.exclude(code="500112").order_by("code").first()
    policy = Policy.current()
    failing = {"investment_capital": policy.min_total_investment / 2, "investment_ip": 0}
    apps = {
        "draft": application_in(Status.DRAFT, centre_name="重庆市草稿创新中心", field=field_a),
        "submitted": application_in(
            Status.SUBMITTED,
            staff=staff,
            lead_user=lead_in("500112", "重庆甲乙丙科技有限公司"),
            centre_name="重庆市智能网联汽车创新中心",
            field=field_a,
        ),
        "preliminary": application_in(
            Status.PRELIMINARY,
            staff=staff,
            lead_user=lead_in(other_district.code),
            centre_name="重庆市先进材料创新中心",
            field=field_b,
            **failing,
        ),
        "returned": application_in(
            Status.RETURNED, staff=staff, centre_name="重庆市工业软件创新中心", field=field_a
        ),
        "withdrawn": application_in(
            Status.WITHDRAWN, staff=staff, centre_name="重庆市生物医药创新中心", field=field_b
        ),
        "rejected": application_in(
            Status.REJECTED,
            staff=staff,
            lead_user=lead_in(other_district.code),
            centre_name="重庆市电子信息创新中心",
            field=field_a,
            **failing,
        ),
    }
    # An application of an earlier year's call (the year is stamped at submission).
    Application.objects.filter(pk=apps["returned"].pk).update(year=2025)
    return {
        "apps": {k: Application.objects.get(pk=v.pk) for k, v in apps.items()},
        "field_a": field_a,
        "field_b": field_b,
        "other_district": other_district,
    }


def test_the_workbench_lists_every_application_but_drafts(staff_client, spread):
    apps = spread["apps"]
    response = staff_client.get(reverse(WORKBENCH))
    assert pks(response) == {a.pk for k, a in apps.items() if k != "draft"}
    body = response.content.decode()
    assert "重庆市草稿创新中心" not in body
    for key, application in apps.items():
        if key != "draft":
            assert application.number in body
            assert reverse("evaluation:application", args=[application.pk]) in body
    assert reverse("evaluation:application", args=[apps["draft"].pk]) not in body


def test_the_workbench_counts_per_stage(staff_client, spread):
    response = staff_client.get(reverse(WORKBENCH))
    counts = {value: n for value, _label, n in response.context["stages"]}
    assert Status.DRAFT not in counts
    expected = dict.fromkeys(counts, 0)
    expected.update(
        {
            Status.SUBMITTED: 1,
            Status.PRELIMINARY: 1,
            Status.RETURNED: 1,
            Status.WITHDRAWN: 1,
            Status.REJECTED: 1,
        }
    )
    assert counts == expected
    assert response.context["waiting_count"] == 2  # submitted and preliminary wait for staff
    body = response.content.decode()
    assert (
        f'href="?status=submitted">{Status.SUBMITTED.label} <span class="badge text-bg-light">1</span>'
        in body
    )
    badge = '<span class="badge text-bg-light">0</span>'
    assert f'href="?status=expert_review">{Status.EXPERT_REVIEW.label} {badge}' in body


@pytest.mark.parametrize(
    "status,expected",
    [
        ("submitted", {"submitted"}),
        ("preliminary", {"preliminary"}),
        ("returned", {"returned"}),
        ("withdrawn", {"withdrawn"}),
        ("rejected", {"rejected"}),
        ("expert_review", set()),
    ],
)
def test_filter_by_status(staff_client, spread, status, expected):
    response = staff_client.get(reverse(WORKBENCH), {"status": status})
    assert pks(response) == {spread["apps"][k].pk for k in expected}


def test_the_draft_status_is_not_a_filter_choice(staff_client, spread):
    response = staff_client.get(reverse(WORKBENCH), {"status": "draft"})
    assert response.status_code == 200
    assert spread["apps"]["draft"].pk not in pks(response)


def test_filter_by_field(staff_client, spread):
    apps = spread["apps"]
    response = staff_client.get(reverse(WORKBENCH), {"field": spread["field_b"].pk})
    assert pks(response) == {apps["preliminary"].pk, apps["withdrawn"].pk}
    response = staff_client.get(reverse(WORKBENCH), {"field": spread["field_a"].pk})
    assert pks(response) == {apps["submitted"].pk, apps["returned"].pk, apps["rejected"].pk}


def test_filter_by_district(staff_client, spread):
    apps = spread["apps"]
    response = staff_client.get(reverse(WORKBENCH), {"district": spread["other_district"].pk})
    assert pks(response) == {apps["preliminary"].pk, apps["rejected"].pk}
    home = District.objects.get(code="500112")
    response = staff_client.get(reverse(WORKBENCH), {"district": home.pk})
    assert pks(response) == {apps["submitted"].pk, apps["returned"].pk, apps["withdrawn"].pk}


def test_filter_by_year(staff_client, spread):
    apps = spread["apps"]
    this_year = apps["submitted"].year
    response = staff_client.get(reverse(WORKBENCH), {"year": 2025})
    assert pks(response) == {apps["returned"].pk}
    response = staff_client.get(reverse(WORKBENCH), {"year": this_year})
    assert pks(response) == {a.pk for k, a in apps.items() if k not in ("draft", "returned")}
    assert pks(staff_client.get(reverse(WORKBENCH), {"year": 1999})) == set()


def test_filter_by_eligibility(staff_client, spread):
    apps = spread["apps"]
    assert apps["preliminary"].eligibility["passed"] is False
    assert apps["submitted"].eligibility["passed"] is True
    response = staff_client.get(reverse(WORKBENCH), {"eligible": "no"})
    assert pks(response) == {apps["preliminary"].pk, apps["rejected"].pk}
    response = staff_client.get(reverse(WORKBENCH), {"eligible": "yes"})
    assert pks(response) == {apps["submitted"].pk, apps["returned"].pk, apps["withdrawn"].pk}
    body = response.content.decode()
    assert "✓" in body


def test_filter_waiting_for_staff(staff_client, spread):
    apps = spread["apps"]
    response = staff_client.get(reverse(WORKBENCH), {"waiting": "true"})
    assert pks(response) == {apps["submitted"].pk, apps["preliminary"].pk}
    assert all(a.status in WAITING_FOR_STAFF for a in rows(response))
    # "false" does not filter.
    response = staff_client.get(reverse(WORKBENCH), {"waiting": "false"})
    assert len(pks(response)) == 5


@pytest.mark.parametrize(
    "query,expected",
    [
        ("智能网联", {"submitted"}),  # part of the centre's name
        ("创新中心", {"submitted", "preliminary", "returned", "withdrawn", "rejected"}),
        ("甲乙丙科技", {"submitted"}),  # part of the lead unit's name
        ("草稿", set()),  # drafts never show, not even when searched for
        ("  先进材料  ", {"preliminary"}),  # surrounding blanks are ignored
        ("不存在的名称", set()),
    ],
)
def test_search_by_name_and_lead_unit(staff_client, spread, query, expected):
    response = staff_client.get(reverse(WORKBENCH), {"q": query})
    assert pks(response) == {spread["apps"][k].pk for k in expected}


def test_search_by_number(staff_client, spread):
    target = spread["apps"]["rejected"]
    response = staff_client.get(reverse(WORKBENCH), {"q": target.number})
    assert pks(response) == {target.pk}
    response = staff_client.get(reverse(WORKBENCH), {"q": target.number.lower()})
    assert pks(response) == {target.pk}


def test_filters_combine(staff_client, spread):
    apps = spread["apps"]
    response = staff_client.get(
        reverse(WORKBENCH), {"eligible": "no", "district": spread["other_district"].pk, "waiting": "true"}
    )
    assert pks(response) == {apps["preliminary"].pk}


def test_filtering_keeps_the_form_values(staff_client, spread):
    response = staff_client.get(reverse(WORKBENCH), {"q": "智能网联", "status": "submitted"})
    body = response.content.decode()
    assert 'value="智能网联"' in body
    assert '<option value="submitted" selected>' in body


def numbers(response) -> list[str]:
    return [a.number for a in rows(response)]


def test_default_order_is_latest_submission_first(staff_client, spread):
    listed = rows(staff_client.get(reverse(WORKBENCH)))
    stamps = [a.submitted_at for a in listed]
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize("ordering", ["number", "-number"])
def test_order_by_number(staff_client, spread, ordering):
    listed = numbers(staff_client.get(reverse(WORKBENCH), {"ordering": ordering}))
    assert len(listed) == 5
    assert listed == sorted(listed, reverse=ordering.startswith("-"))


@pytest.mark.parametrize("ordering", ["centre_name", "-centre_name", "submitted_at", "-updated_at"])
def test_order_by_other_columns(staff_client, spread, ordering):
    listed = rows(staff_client.get(reverse(WORKBENCH), {"ordering": ordering}))
    name = ordering.lstrip("-")
    expected = list(
        Application.objects.exclude(status=Status.DRAFT).order_by(ordering).values_list("pk", flat=True)
    )
    assert [a.pk for a in listed] == expected
    values = [getattr(a, name) for a in listed]
    if name != "centre_name":  # the database collation decides the order of Chinese names
        assert values == sorted(values, reverse=ordering.startswith("-"))


def test_ordering_and_filter_combine(staff_client, spread):
    listed = numbers(
        staff_client.get(reverse(WORKBENCH), {"ordering": "-number", "field": spread["field_a"].pk})
    )
    assert len(listed) == 3
    assert listed == sorted(listed, reverse=True)


# --- query counts ----------------------------------------------------------------------------------------


def _count_queries(client, url, data=None) -> int:
    cache.clear()  # the uncached path: the page renders in full
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, data or {})
        assert response.status_code == 200
    return len(ctx.captured_queries)


def _submitted(staff, n):
    for _ in range(n):
        application_in(Status.SUBMITTED, staff=staff)


# Measured: session, user, roles; row count, stage counts, unread notifications; the field and district
# choices of the filter form; the rows (one query with lead unit, field, district); session refresh (3).
WORKBENCH_QUERY_BUDGET = 12


def test_workbench_queries_do_not_grow_with_rows(staff_client, staff):
    _submitted(staff, 1)
    one = _count_queries(staff_client, reverse(WORKBENCH))
    filtered_one = _count_queries(staff_client, reverse(WORKBENCH), {"q": "创新", "eligible": "yes"})
    _submitted(staff, 49)
    fifty = _count_queries(staff_client, reverse(WORKBENCH))
    assert Application.objects.exclude(status=Status.DRAFT).count() == 50
    assert fifty == one
    assert _count_queries(staff_client, reverse(WORKBENCH), {"q": "创新", "eligible": "yes"}) == filtered_one


@pytest.mark.parametrize("n", [1, 50])
def test_workbench_query_budget(staff_client, staff, n, django_assert_max_num_queries):
    _submitted(staff, n)
    with django_assert_max_num_queries(WORKBENCH_QUERY_BUDGET):
        response = staff_client.get(reverse(WORKBENCH))
    assert len(rows(response)) == n


def test_workbench_pages_beyond_fifty_rows(staff_client, staff):
    _submitted(staff, 51)
    first = rows(staff_client.get(reverse(WORKBENCH)))
    second = rows(staff_client.get(reverse(WORKBENCH), {"page": 2}))
    assert (len(first), len(second)) == (50, 1)
    assert {a.pk for a in first}.isdisjoint({a.pk for a in second})
    body = staff_client.get(reverse(WORKBENCH), {"status": "submitted"}).content.decode()
    assert "status=submitted&amp;page=2" in body


def _grow(application, staff, events: int, attachments: int):
    """Add history entries and attachments, numbered on from what is there."""
    done = application.attachments.filter(kind=Attachment.Kind.OTHER).count()
    for i in range(done, done + attachments):
        make_attachment(application, Attachment.Kind.OTHER, name=f"其他证明材料{i + 1}.pdf")
    done = application.events.filter(action="checklist").count()
    for i in range(done, done + events):
        services.add_history(application, "checklist", staff, comment=f"第{i + 1}条核对记录")


@pytest.mark.parametrize("page", ["evaluation:application", "evaluation:preliminary"])
def test_review_pages_queries_do_not_grow_with_history_or_attachments(staff_client, staff, page):
    application = application_in(Status.PRELIMINARY, staff=staff)
    _grow(application, staff, events=1, attachments=1)
    url = reverse(page, args=[application.pk])
    one = _count_queries(staff_client, url)
    _grow(application, staff, events=19, attachments=19)
    many = _count_queries(staff_client, url)
    assert many == one
    body = staff_client.get(url).content.decode()
    assert "其他证明材料20.pdf" in body
    if page == "evaluation:application":
        assert "第20条核对记录" in body


# Measured: session, user, roles; the application with its four prefetches; the page's own reads; the
# header's unread count; the session refresh (savepoint, update, release).
REVIEW_PAGE_QUERY_BUDGET = {"evaluation:application": 17, "evaluation:preliminary": 14}


@pytest.mark.parametrize("page", list(REVIEW_PAGE_QUERY_BUDGET))
def test_review_pages_query_budget(staff_client, staff, page, django_assert_max_num_queries):
    application = application_in(Status.PRELIMINARY, staff=staff)
    _grow(application, staff, events=20, attachments=20)
    with django_assert_max_num_queries(REVIEW_PAGE_QUERY_BUDGET[page]):
        assert staff_client.get(reverse(page, args=[application.pk])).status_code == 200


def test_the_application_page_shows_the_history_in_order(staff_client, staff):
    application = application_in(Status.RETURNED, staff=staff)
    body = staff_client.get(reverse("evaluation:application", args=[application.pk])).content.decode()
    labels = ["提交", "受理并开始初审", "退回修改"]
    positions = [body.index(f"<strong>{label}</strong>") for label in labels]
    assert positions == sorted(positions)
    assert "测试：请修改" in body


# --- who may open the review pages -----------------------------------------------------------------------

OWN_LEAD_UNIT = "own_lead_unit"
NO_ROLE = "no_role"
OUTSIDERS = [*(r for r in Role if r != Role.COMMISSION_STAFF), OWN_LEAD_UNIT, NO_ROLE]


def _outsider(kind, application):
    if kind == OWN_LEAD_UNIT:
        return application.created_by
    if kind == NO_ROLE:
        return UserFactory()
    return user_with_role(kind)


def _review_requests(application):
    """Every page of the review as (method, url, data)."""
    pk = application.pk
    move_data = {"comment": "越权", "confirm": "on", "ticked": all_checklist_items()}
    requests = [
        ("get", reverse(WORKBENCH), {}),
        ("get", reverse("evaluation:application", args=[pk]), {}),
        ("get", reverse("evaluation:preliminary", args=[pk]), {}),
        ("get", reverse("evaluation:leadership"), {}),
        ("post", reverse("evaluation:leadership"), {"title": "越权", "confirm": "on"}),
    ]
    for name in ("start_preliminary", "pass_preliminary", "return_for_amendment", "reject"):
        url = reverse("evaluation:move", args=[pk, name])
        requests.append(("get", url, {}))
        requests.append(("post", url, {f"{name}-{k}": v for k, v in move_data.items()}))
    return requests


@pytest.mark.parametrize("kind", OUTSIDERS, ids=str)
def test_everyone_but_commission_staff_gets_403(client, kind):
    application = application_in(Status.PRELIMINARY)
    client.force_login(_outsider(kind, application))
    events = application.events.count()
    for method, url, data in _review_requests(application):
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
    application.refresh_from_db()
    assert application.status == Status.PRELIMINARY
    assert application.events.count() == events


def test_anonymous_visitors_are_sent_to_sign_in(client):
    application = application_in(Status.PRELIMINARY)
    login = reverse(settings.LOGIN_URL)
    for method, url, data in _review_requests(application):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(f"{login}?next="), (method, url)
    assert Application.objects.get(pk=application.pk).status == Status.PRELIMINARY


def test_commission_staff_open_every_review_page(staff_client):
    application = application_in(Status.PRELIMINARY)
    for method, url, _data in _review_requests(application):
        if method == "get":
            assert staff_client.get(url).status_code == 200, url


def test_staff_cannot_open_a_draft(staff_client):
    draft = application_in(Status.DRAFT)
    assert staff_client.get(reverse("evaluation:application", args=[draft.pk])).status_code == 403
    assert staff_client.get(reverse("evaluation:preliminary", args=[draft.pk])).status_code == 403
    response = staff_client.post(
        reverse("evaluation:move", args=[draft.pk, "reject"]), {"reject-comment": "x", "reject-confirm": "on"}
    )
    assert response.status_code == 403
    assert Application.objects.get(pk=draft.pk).status == Status.DRAFT


def test_an_unknown_application_is_not_found(staff_client):
    assert staff_client.get(reverse("evaluation:application", args=[999999])).status_code == 404


def test_empty_choices_read_as_words_not_dashes(client):
    """Filters: 全部 for "any", 不限 for yes/no (not 未知); forms: 请选择 (not "---------")."""
    from tests.factories import application_in_publicity, user_with_role

    staff = user_with_role(Role.COMMISSION_STAFF)
    client.force_login(staff)
    body = client.get(reverse("evaluation:staff_home")).content.decode()
    assert "---------" not in body and "未知" not in body
    waiting = re.search(r'<select name="waiting".*?</select>', body, re.S).group(0)
    assert re.search(r'<option value=""[^>]*>不限</option>', waiting)
    _application, announcement = application_in_publicity(staff=staff)
    client.logout()
    body = client.get(reverse("announcements:detail", args=[announcement.pk])).content.decode()
    assert '<option value="" selected>请选择</option>' in body and "---------" not in body

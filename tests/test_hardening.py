"""What an MLPS level-3 assessment asks of every page: private pages are never cached by the browser
(``accounts.middleware.PrivateResponseMiddleware``), and no query parameter of any page causes a server
error (the list filters, ``accounts.filtering``)."""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts.roles import HOME_URL_NAMES, Role
from accounts.security_views import AuditFilter
from applications.filters import DistrictApplicationFilter
from centres.filters import CentreFilter
from evaluation.filters import WorkbenchFilter
from tests.factories import TEST_PASSWORD, application_in_publicity, user_with_role

# --- Cache-Control ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(Role))
def test_every_page_for_a_signed_in_person_is_private_and_not_stored(client, role):
    user = user_with_role(role)
    client.force_login(user)
    for url in (reverse(HOME_URL_NAMES[role]), "/", "/centres/", "/announcements/", reverse("accounts:home")):
        response = client.get(url)
        assert response.status_code in (200, 302), (url, response.status_code)
        assert response["Cache-Control"] == "private, no-store", url


@pytest.mark.django_db
def test_signing_in_and_out_answer_private_and_not_stored(client):
    user = user_with_role(Role.LEAD_UNIT)
    response = client.post(
        reverse("accounts:login"),
        {"username": user.username, "password": TEST_PASSWORD},
        REMOTE_ADDR="192.0.2.9",
    )
    assert response.status_code == 302 and response["Cache-Control"] == "private, no-store"
    response = client.post(reverse("accounts:logout"))
    assert response["Cache-Control"] == "private, no-store"


@pytest.mark.django_db
def test_public_pages_for_anonymous_visitors_stay_cacheable():
    anonymous = Client()
    for url in ("/", "/centres/", "/announcements/"):
        response = anonymous.get(url)
        assert response.status_code == 200, url
        assert "no-store" not in response.get("Cache-Control", ""), url
        assert "private" not in response.get("Cache-Control", ""), url


# --- query parameters never cause a server error -----------------------------------------------------------

HOSTILE = [
    "-1",
    "0",
    "99999999999999999999",
    "-99999999999999999999",
    "1e400",
    "NaN",
    "Infinity",
    "abc",
    "²",
    "٣",
    "1.5",
    "2026-13-45",
    "99999-01-01",
    "0001-01-01",
    "true",
    "' OR 1=1 --",
    "\x00",
    "::1",
    "300.1.1.1",
    "-submitted_at",
    "unknown_field",
    "",
]
values = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers().map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),
)


def filter_names(filterset_class) -> list[str]:
    return [*filterset_class.base_filters, "page"]


# (role or None for an anonymous visitor, URL name, the parameters the page reads)
LIST_PAGES = [
    (None, "centres:directory", filter_names(CentreFilter)),
    (None, "announcements:list", ["page"]),
    (Role.COMMISSION_STAFF, "evaluation:staff_home", filter_names(WorkbenchFilter)),
    (Role.COMMISSION_STAFF, "reports:centres", [*filter_names(CentreFilter), "status"]),
    (Role.COMMISSION_STAFF, "reports:years", ["page"]),
    (Role.COMMISSION_STAFF, "reports:assessments", ["page"]),
    (Role.COMMISSION_STAFF, "evaluation:announcements", ["page"]),
    (Role.COMMISSION_STAFF, "evaluation:leadership", ["page"]),
    (Role.COMMISSION_STAFF, "reports:dashboard", ["page", "district", "year"]),
    (Role.DISTRICT_STAFF, "applications:district_home", filter_names(DistrictApplicationFilter)),
    (Role.LEAD_UNIT, "applications:lead_home", ["page"]),
    (Role.LEAD_UNIT, "reports:my_summaries", ["page"]),
    (Role.LEAD_UNIT, "reports:my_centres", ["page"]),
    (Role.EXPERT, "evaluation:expert_home", ["page"]),
    (Role.AUDIT_ADMIN, "accounts:audit_admin_home", filter_names(AuditFilter)),
    (Role.SECURITY_ADMIN, "accounts:security_admin_home", ["page", "q"]),
    (Role.SYSTEM_ADMIN, "accounts:notifications", ["page"]),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "name", "params"), LIST_PAGES, ids=[page[1] for page in LIST_PAGES])
def test_no_filter_value_of_any_list_page_causes_a_server_error(client, role, name, params):
    if role is not None:
        client.force_login(user_with_role(role))
    url = reverse(name)

    @hypothesis_settings(max_examples=40, deadline=None)
    @given(st.dictionaries(st.sampled_from(params), values, min_size=1, max_size=len(params)))
    def check(query):
        response = client.get(url, query)
        assert response.status_code < 500, (url, query)

    check()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "name", "query", "label"),
    [
        (None, "centres:directory", {"year": "-1"}, "授牌年度"),
        (None, "centres:directory", {"year": "99999999999999999999"}, "授牌年度"),
        (Role.COMMISSION_STAFF, "reports:centres", {"year": "-1"}, "授牌年度"),
        (Role.COMMISSION_STAFF, "reports:centres", {"year": "99999999999999999999"}, "授牌年度"),
        (Role.COMMISSION_STAFF, "evaluation:staff_home", {"year": "-1"}, "年度"),
        (Role.DISTRICT_STAFF, "applications:district_home", {"year": "99999999999999999999"}, "年度"),
        (Role.AUDIT_ADMIN, "accounts:audit_admin_home", {"ip_address": "abc"}, "IP地址"),
    ],
)
def test_the_reported_bad_filter_values_are_ignored_with_a_message(client, role, name, query, label):
    if role is not None:
        client.force_login(user_with_role(role))

    response = client.get(reverse(name), query)

    assert response.status_code == 200
    assert f"以下筛选条件的值无效，已忽略：{label}。" in response.content.decode()


@pytest.mark.django_db
def test_a_valid_year_and_address_still_filter(client):
    from accounts import audit

    audit.record("test.marker", ip="198.51.100.4")
    audit.record("test.marker", ip="198.51.100.5")
    client.force_login(user_with_role(Role.AUDIT_ADMIN))
    page = client.get(reverse("accounts:audit_admin_home"), {"ip_address": "198.51.100.4"})
    assert [e.ip_address for e in page.context["page"]] == ["198.51.100.4"]
    assert "已忽略" not in page.content.decode()
    assert client.get(reverse("centres:directory"), {"year": "2026"}).status_code == 200


@pytest.mark.django_db
def test_no_parameter_of_the_objections_page_or_a_reporting_year_causes_a_server_error(client):
    from reports import summaries

    staff = user_with_role(Role.COMMISSION_STAFF)
    _application, announcement = application_in_publicity(staff=staff)
    summaries.open_year(staff, 2025)
    client.force_login(staff)
    assert (
        client.post(reverse("accounts:reauth"), {"password": TEST_PASSWORD, "next": "/"}).status_code == 302
    )
    pages = [
        (reverse("evaluation:objections", args=[announcement.pk]), ["show", "page"]),
        (reverse("reports:year", args=[2025]), ["show", "q", "page"]),
        (reverse("reports:export_new", args=["centres"]), ["panel", "year", "q"]),
    ]

    @hypothesis_settings(max_examples=60, deadline=None)
    @given(
        st.sampled_from(pages).flatmap(
            lambda p: st.tuples(st.just(p[0]), st.dictionaries(st.sampled_from(p[1]), values))
        )
    )
    def check(page):
        url, query = page
        response = client.get(url, query)
        assert response.status_code < 500, (url, query)

    check()


@pytest.mark.django_db
def test_a_superscript_digit_in_show_does_not_break_the_objections_page(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    _application, announcement = application_in_publicity(staff=staff)
    client.force_login(staff)
    client.post(reverse("accounts:reauth"), {"password": TEST_PASSWORD, "next": "/"})

    response = client.get(reverse("evaluation:objections", args=[announcement.pk]), {"show": "²"})

    assert response.status_code == 200


def admin_changelists() -> list:
    from django.contrib import admin

    pages = []
    for model, model_admin in admin.site._registry.items():
        names = ["q", "o", "p", "e", "all"]
        for entry in model_admin.list_filter:
            if isinstance(entry, str | tuple):
                name = entry if isinstance(entry, str) else entry[0]
                names += [f"{name}__exact", f"{name}__id__exact", f"{name}__isnull", name]
            else:  # a SimpleListFilter: its own parameter
                names.append(entry.parameter_name)
        pages.append((f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist", names))
    return pages


@pytest.mark.django_db
def test_no_filter_value_of_an_admin_list_causes_a_server_error(client):
    from accounts.models import User

    client.force_login(User.objects.create_superuser("root-fuzz", "root@example.gov.cn", TEST_PASSWORD))
    client.post(reverse("accounts:reauth"), {"password": TEST_PASSWORD, "next": "/"})
    pages = admin_changelists()

    @hypothesis_settings(max_examples=150, deadline=None)
    @given(
        st.sampled_from(pages).flatmap(
            lambda p: st.tuples(st.just(p[0]), st.dictionaries(st.sampled_from(p[1]), values, max_size=3))
        )
    )
    def check(page):
        name, query = page
        response = client.get(reverse(name), query)
        assert response.status_code < 500, (name, query)

    check()


@pytest.mark.django_db
def test_a_nul_character_in_the_query_is_refused_even_where_no_form_reads_it(client):
    from accounts.models import User

    client.force_login(User.objects.create_superuser("root-nul", "root@example.gov.cn", TEST_PASSWORD))
    response = client.get(reverse("admin:accounts_organisation_changelist"), {"q": "a\x00b"})
    assert response.status_code == 400
    assert client.get(reverse("api:centres"), {"q": "\x00"}).status_code == 400

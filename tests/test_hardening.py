"""What an MLPS level-3 assessment asks of every page: private pages are never cached by the browser
(``accounts.middleware.PrivateResponseMiddleware``), and no query parameter of any page causes a server
error (the list filters, ``accounts.filtering``)."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.roles import HOME_URL_NAMES, Role
from tests.factories import TEST_PASSWORD, user_with_role

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
        reverse("accounts:login"), {"username": user.username, "password": TEST_PASSWORD}, REMOTE_ADDR="192.0.2.9"
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

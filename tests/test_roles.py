import pytest
from django.urls import reverse

from accounts.roles import HOME_URL_NAMES, Role
from tests.factories import TEST_PASSWORD, UserFactory

ROLES = list(Role)


def sign_in(client, user):
    return client.post(
        reverse("accounts:login"), {"username": user.username, "password": TEST_PASSWORD}, follow=True
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_each_role_lands_on_its_own_home(client, role_user, role):
    user = role_user(role)
    response = sign_in(client, user)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse(HOME_URL_NAMES[role])
    assert response.request["PATH_INFO"] == reverse(HOME_URL_NAMES[role])


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("other", ROLES)
def test_a_role_cannot_open_another_roles_home(client, role_user, role, other):
    client.force_login(role_user(role))
    response = client.get(reverse(HOME_URL_NAMES[other]))
    assert response.status_code == (200 if role == other else 403)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_anonymous_is_sent_to_sign_in(client, role):
    url = reverse(HOME_URL_NAMES[role])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:login')}?next={url}"


@pytest.mark.django_db
def test_lead_unit_without_organisation_is_refused(client):
    client.force_login(UserFactory(roles=[Role.LEAD_UNIT]))
    assert client.get(reverse("applications:lead_home")).status_code == 403


@pytest.mark.django_db
def test_district_staff_without_district_is_refused(client):
    client.force_login(UserFactory(roles=[Role.DISTRICT_STAFF]))
    assert client.get(reverse("applications:district_home")).status_code == 403


@pytest.mark.django_db
def test_account_without_role_is_told_so(client):
    user = UserFactory()
    response = sign_in(client, user)
    assert response.request["PATH_INFO"] == reverse("accounts:home")
    assert "账号尚未分配角色" in response.content.decode()


@pytest.mark.django_db
def test_wrong_password_keeps_the_username_and_says_why(client, role_user):
    user = role_user(Role.EXPERT)
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": "wrong"})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'value="{user.username}"' in body
    assert "请输入一个正确的" in body  # Django's own zh-hans message for a failed sign-in


@pytest.mark.django_db
def test_sign_out_is_a_post(client, role_user):
    client.force_login(role_user(Role.EXPERT))
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert client.get(reverse("evaluation:expert_home")).status_code == 302


@pytest.mark.django_db
def test_navigation_shows_only_the_users_roles(client, role_user):
    client.force_login(role_user(Role.EXPERT))
    body = client.get(reverse("home")).content.decode()
    assert reverse("evaluation:expert_home") in body
    assert reverse("evaluation:staff_home") not in body

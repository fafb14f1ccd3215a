import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from accounts.demo import DEMO_PASSWORD, DEMO_USERS
from accounts.models import Organisation, User
from accounts.roles import HOME_URL_NAMES
from tests.factories import TEST_PASSWORD, UserFactory


@pytest.mark.django_db
def test_seed_demo_is_idempotent_and_every_demo_account_signs_in(client):
    call_command("seed_demo", stdout=io.StringIO())
    counts = (User.objects.count(), Organisation.objects.count())
    call_command("seed_demo", stdout=io.StringIO())
    assert (User.objects.count(), Organisation.objects.count()) == counts

    for username, _name, role, *_rest in DEMO_USERS:
        response = client.post(
            reverse("accounts:login"), {"username": username, "password": DEMO_PASSWORD}, follow=True
        )
        assert response.request["PATH_INFO"] == reverse(HOME_URL_NAMES[role]), username
        client.post(reverse("accounts:logout"))


@pytest.mark.django_db
def test_demo_organisations_have_valid_credit_codes():
    call_command("seed_demo", stdout=io.StringIO())
    for organisation in Organisation.objects.all():
        organisation.full_clean()


@pytest.mark.django_db
def test_password_reset_by_email(client):
    user = UserFactory(email="reset-me@example.com")
    response = client.post(reverse("accounts:password_reset"), {"email": "reset-me@example.com"}, follow=True)
    assert "邮件已发送" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["reset-me@example.com"]
    assert "重设密码" in message.subject
    link = re.search(r"http://testserver(/accounts/password/reset/\S+/)", message.body).group(1)

    response = client.get(link, follow=True)  # Django swaps the token for a session marker
    form_url = response.request["PATH_INFO"]
    response = client.post(
        form_url, {"new_password1": "Another#Pass-2026", "new_password2": "Another#Pass-2026"}, follow=True
    )
    assert "密码已重设" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("Another#Pass-2026")


@pytest.mark.django_db
def test_password_reset_for_an_unknown_address_says_the_same_and_sends_nothing(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"}, follow=True)
    assert "邮件已发送" in response.content.decode()
    assert mail.outbox == []


@pytest.mark.django_db
def test_password_change_refuses_a_weak_password_and_keeps_the_user_signed_in(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="error-summary"' in body
    assert "密码只包含数字" in body or "这个密码太常见了" in body
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Str0ng#Enough-26",
            "new_password2": "Str0ng#Enough-26",
        },
        follow=True,
    )
    assert "密码已修改" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("Str0ng#Enough-26")


@pytest.mark.django_db
def test_districts_are_loaded_by_migration():
    from accounts.models import District

    names = set(District.objects.values_list("name", flat=True))
    assert len(names) == 40
    assert {"渝中区", "城口县", "石柱土家族自治县", "两江新区", "万盛经开区"} <= names


@pytest.mark.django_db
def test_role_groups_are_created_by_migration():
    from django.contrib.auth.models import Group

    from accounts.roles import Role

    assert set(Group.objects.values_list("name", flat=True)) >= set(Role.values)


@pytest.mark.django_db
def test_admin_refuses_a_lead_unit_user_without_organisation(role_user):
    from django.contrib.auth.models import Group

    from accounts.admin import PortalUserChangeForm
    from accounts.roles import Role

    user = UserFactory()
    data = {
        "username": user.username,
        "full_name": "某人",
        "email": "x@example.com",
        "groups": [Group.objects.get(name=Role.LEAD_UNIT).pk],
        "is_active": True,
        "date_joined": "2026-01-01 08:00:00",
    }
    form = PortalUserChangeForm(data, instance=user)
    assert not form.is_valid()
    assert "organisation" in form.errors

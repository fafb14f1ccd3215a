from pathlib import Path

import polib
import pytest
from django.urls import reverse

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES" / "django.po"


def test_english_catalogue_is_complete_and_compiled():
    po = polib.pofile(str(CATALOGUE))
    assert po.untranslated_entries() == []
    assert po.fuzzy_entries() == []
    compiled = polib.mofile(str(CATALOGUE.with_suffix(".mo")))
    assert {e.msgid: e.msgstr for e in compiled} == {e.msgid: e.msgstr for e in po.translated_entries()}


@pytest.mark.django_db
def test_chinese_by_default_even_for_an_english_browser(client):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    body = response.content.decode()
    assert '<html lang="zh-hans">' in body
    assert "认定程序" in body
    assert response["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_switching_to_english_and_back(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")}, follow=True)
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert "认定程序" not in body
    assert "Sign in" in body
    response = client.post(
        reverse("set_language"), {"language": "zh-hans", "next": reverse("home")}, follow=True
    )
    assert "认定程序" in response.content.decode()


@pytest.mark.django_db
def test_an_unknown_language_cookie_falls_back_to_chinese(client):
    client.cookies["portal_language"] = "fr"
    assert '<html lang="zh-hans">' in client.get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_a_signed_in_person_switching_language_keeps_it_for_their_emails(client):
    from accounts.models import User
    from accounts.roles import Role
    from tests.factories import user_with_role

    user = user_with_role(Role.LEAD_UNIT)
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")}, follow=True)
    assert '<html lang="en">' in response.content.decode()
    assert User.objects.get(pk=user.pk).language == "en"


@pytest.mark.django_db
def test_the_panels_score_sheet_name_is_shown_in_english():
    """Why "· 专家论证" stayed Chinese on the staff's panel page: the sheet's name is stored text, and the
    page printed it as stored; the default sheets' names are in the catalogue and are now looked up."""
    from django.utils import translation

    from evaluation.models import ScoreSheetTemplate

    sheet = ScoreSheetTemplate.objects.get(kind="expert_review", is_default=True)
    with translation.override("en"):
        assert str(sheet) != sheet.name and str(sheet).isascii()
    typed = ScoreSheetTemplate(name="工作人员自拟评分表", kind="assessment")
    with translation.override("en"):
        assert str(typed) == "工作人员自拟评分表"

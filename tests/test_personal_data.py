"""Personal data at rest (accounts.crypto, accounts.fields): objectors' ID numbers and phones, users' mobiles
and organisations' contact phones are stored encrypted; the rows read raw with SQL show no clear text;
the keyed hash finds one person's objections; keys rotate; the data migration encrypts existing rows."""

import hashlib
import hmac

import pytest
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from accounts import crypto
from accounts.models import Organisation, User
from accounts.roles import Role
from accounts.security import mask_id_number, mask_phone
from evaluation import publicity
from evaluation.models import Objection
from tests.factories import (
    TEST_PASSWORD,
    OrganisationFactory,
    application_in_publicity,
    objection_evidence,
    user_with_role,
    valid_id_number,
)

ID_NUMBER = valid_id_number("11010519491231002")
PHONE = "13912345678"
OLD_KEY = "dGVzdC1vbmx5LWZpZWxkLWtleS1mb3ItcHl0ZXN0ISE="  # config.settings.test
NEW_KEY = "bmV3LXRlc3Qta2V5LWZvci1yb3RhdGlvbi0wMDAwMDA="


def raw(table: str, columns: str, pk) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()


def lodge(entry, **values) -> Objection:
    data = {
        "kind": Objection.Kind.PERSON,
        "name": "王保密",
        "phone": PHONE,
        "statement": "研发人员数量与实际不符。",
        "id_number": ID_NUMBER,
        "files": objection_evidence(),
        "ip": "198.51.100.31",
    }
    data.update(values)
    return publicity.lodge_objection(entry, **data)


@pytest.mark.django_db
def test_an_objection_from_the_public_page_is_stored_without_clear_id_number_or_phone(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    data = {
        "stash": "",
        "entry": entry.pk,
        "kind": "person",
        "name": "王保密",
        "id_number": ID_NUMBER,
        "contact_person": "",
        "phone": PHONE,
        "statement": "研发人员数量与实际不符。",
        "evidence": objection_evidence()[0][1],
    }
    response = client.post(
        reverse("announcements:detail", args=[announcement.pk]), data, REMOTE_ADDR="10.9.9.9"
    )
    assert "受理编号" in response.content.decode()
    objection = Objection.objects.get()

    id_number, phone, id_hash = raw("evaluation_objection", "id_number, phone, id_number_hash", objection.pk)
    for stored in (id_number, phone):
        assert stored.startswith("fernet:")
        assert ID_NUMBER not in stored and PHONE not in stored and ID_NUMBER[-4:] not in stored
    assert id_number != phone
    assert id_hash == hmac.new(b"test-only-hash-key", ID_NUMBER.encode(), hashlib.sha256).hexdigest()
    # The portal reads the clear values; staff see them masked, and whole on request.
    assert (objection.id_number, objection.phone) == (ID_NUMBER, PHONE)
    client.force_login(staff)
    client.post(reverse("accounts:reauth"), {"password": TEST_PASSWORD, "next": "/"})
    url = reverse("evaluation:objections", args=[announcement.pk])
    html = client.get(url).content.decode()
    assert mask_id_number(ID_NUMBER) in html and mask_phone(PHONE) in html and ID_NUMBER not in html
    html = client.get(url, {"show": objection.pk}).content.decode()
    assert ID_NUMBER in html and PHONE in html


@pytest.mark.django_db
def test_the_same_value_encrypts_differently_each_time_and_is_found_by_its_hash():
    _application, announcement = application_in_publicity()
    entry = announcement.entries.get()
    first, second = lodge(entry), lodge(entry)
    other = lodge(entry, id_number=valid_id_number("50010219900307123"))

    assert raw("evaluation_objection", "id_number", first.pk) != raw(
        "evaluation_objection", "id_number", second.pk
    )
    same = Objection.objects.filter(id_number_hash=crypto.keyed_hash(ID_NUMBER))
    assert set(same.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert other.id_number_hash not in ("", first.id_number_hash)


@pytest.mark.django_db
def test_staff_see_which_objections_come_from_the_same_id_number(client):
    staff = user_with_role(Role.COMMISSION_STAFF)
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    lodge(entry), lodge(entry), lodge(entry, id_number=valid_id_number("50010219900307123"))
    client.force_login(staff)
    client.post(reverse("accounts:reauth"), {"password": TEST_PASSWORD, "next": "/"})

    html = client.get(reverse("evaluation:objections", args=[announcement.pk])).content.decode()

    assert html.count("同一身份证号码在本次公示中共提出2件异议") == 2


@pytest.mark.django_db
def test_encrypted_columns_cannot_be_compared_in_sql():
    with pytest.raises(FieldError, match="encrypted"):
        list(Objection.objects.filter(id_number=ID_NUMBER))
    with pytest.raises(FieldError, match="encrypted"):
        list(User.objects.filter(phone__startswith="139"))


@pytest.mark.django_db
def test_users_mobiles_and_organisations_contact_phones_are_encrypted():
    organisation = OrganisationFactory(contact_phone="023-67001234")
    user = user_with_role(Role.LEAD_UNIT, organisation=organisation, phone=PHONE)

    (stored_phone,) = raw("accounts_user", "phone", user.pk)
    (stored_contact,) = raw("accounts_organisation", "contact_phone", organisation.pk)

    assert stored_phone.startswith("fernet:") and PHONE not in stored_phone
    assert stored_contact.startswith("fernet:") and "67001234" not in stored_contact
    assert User.objects.get(pk=user.pk).phone == PHONE
    assert Organisation.objects.get(pk=organisation.pk).contact_phone == "023-67001234"
    # Empty stays empty: nothing to hide.
    blank = user_with_role(Role.EXPERT, phone="")
    assert raw("accounts_user", "phone", blank.pk) == ("",)


@pytest.mark.django_db
def test_keys_rotate_old_rows_stay_readable_and_the_command_re_encrypts_them(settings):
    _application, announcement = application_in_publicity()
    objection = lodge(announcement.entries.get())
    user = user_with_role(Role.EXPERT, phone=PHONE)
    old_token = raw("evaluation_objection", "id_number", objection.pk)[0]

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]  # a new key first, the old one still decrypts
    assert Objection.objects.get(pk=objection.pk).id_number == ID_NUMBER
    call_command("rotate_field_keys", verbosity=0)

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key removed
    assert raw("evaluation_objection", "id_number", objection.pk)[0] != old_token
    assert (Objection.objects.get(pk=objection.pk).id_number, User.objects.get(pk=user.pk).phone) == (
        ID_NUMBER,
        PHONE,
    )
    assert Objection.objects.get(pk=objection.pk).id_number_hash == crypto.keyed_hash(ID_NUMBER)
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]  # a row encrypted with an unknown key: a clear refusal
    with pytest.raises(ImproperlyConfigured, match="cannot be decrypted"):
        Objection.objects.get(pk=objection.pk)


@pytest.mark.django_db
def test_the_data_migration_encrypts_the_rows_stored_in_clear():
    _application, announcement = application_in_publicity()
    objection = lodge(announcement.entries.get())
    user = user_with_role(Role.EXPERT, phone=PHONE)
    with connection.cursor() as cursor:  # no deferred foreign-key checks pending while tables are altered
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    executor = MigrationExecutor(connection)
    before = [("accounts", "0009_audit_actor_protect"), ("evaluation", "0006_announcement_due_index")]
    executor.migrate(before)
    # As a database of today's main holds them:
    assert raw("evaluation_objection", "id_number, phone", objection.pk) == (ID_NUMBER, PHONE)
    assert raw("accounts_user", "phone", user.pk) == (PHONE,)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET phone = '13700000001' WHERE id = %s", [user.pk])

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # forward again through the encrypting migrations

    id_number, phone, id_hash = raw("evaluation_objection", "id_number, phone, id_number_hash", objection.pk)
    assert id_number.startswith("fernet:") and phone.startswith("fernet:")
    assert id_hash == crypto.keyed_hash(ID_NUMBER)
    assert (crypto.decrypt(id_number), crypto.decrypt(phone)) == (ID_NUMBER, PHONE)
    (user_phone,) = raw("accounts_user", "phone", user.pk)
    assert crypto.decrypt(user_phone) == "13700000001"
    executor = MigrationExecutor(connection)  # the model reads today's columns (later migrations add some)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert User.objects.get(pk=user.pk).phone == "13700000001"


def test_keys_must_be_fernet_keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-key"]
    with pytest.raises(ImproperlyConfigured, match="32 url-safe base64"):
        crypto.encrypt("x")

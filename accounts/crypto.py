"""Personal data encrypted at rest: ID-card numbers and personal phone numbers (MLPS 2.0 level 3).

``cryptography``'s Fernet (AES-128-CBC with an HMAC-SHA256 tag, a random IV per value) through
``MultiFernet``: ``settings.FIELD_ENCRYPTION_KEYS`` lists the keys, the first encrypts, every one decrypts,
so a key is rotated by putting a new one first, running ``manage.py rotate_field_keys`` (re-encrypts every
row with the first key) and then removing the old one. Encrypted values cannot be compared in SQL; where
the portal must find a value (the objections of one ID number) it stores a keyed hash beside it
(HMAC-SHA256 with ``settings.FIELD_HASH_KEY``, which does not rotate with the encryption keys).

The keys come from the environment and are kept apart from the database and its backups: a backup alone
shows no ID number or phone.
"""

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

PREFIX = "fernet:"  # marks an encrypted value, so clear text left in a column is never taken for a token


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: personal data cannot be encrypted.")
    try:
        return MultiFernet([Fernet(key.strip()) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS: each key must be 32 url-safe base64-encoded bytes "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        ) from error


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


@receiver(setting_changed)
def _keys_changed(setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


def is_encrypted(value: str) -> bool:
    return value.startswith(PREFIX)


def encrypt(value: str) -> str:
    """The stored form of ``value``: the empty string stays empty (nothing to hide)."""
    if not value:
        return ""
    return PREFIX + fernet().encrypt(value.encode()).decode("ascii")


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    if not is_encrypted(stored):
        raise ValueError("an encrypted column holds clear text: run the migrations")
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "A stored value cannot be decrypted with any key of FIELD_ENCRYPTION_KEYS (a key was removed "
            "before rotate_field_keys re-encrypted the rows?)."
        ) from None


def rotate(stored: str) -> str:
    """``stored`` re-encrypted with the first key (unchanged if empty)."""
    if not stored:
        return ""
    return PREFIX + fernet().rotate(stored[len(PREFIX) :].encode("ascii")).decode("ascii")


def keyed_hash(value: str) -> str:
    """HMAC-SHA256 of ``value`` (hex), for looking a value up without storing it; empty for empty."""
    if not value:
        return ""
    key = settings.FIELD_HASH_KEY
    if not key:
        raise ImproperlyConfigured("FIELD_HASH_KEY is empty.")
    return hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()


def encrypt_table(connection, table: str, columns: list[str], hashes: dict | None = None, reverse=False):
    """Encrypt (or, ``reverse``, decrypt) ``columns`` of every row of ``table`` in place with raw SQL and
    fill the keyed-hash columns ``hashes`` ({hash column: source column}). Clear values are encrypted,
    encrypted ones re-encrypted with the first key: for the data migrations and for key rotation, and safe
    to run twice."""
    hashes = hashes or {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(quote(c) for c in columns)} FROM {quote(table)}")
        rows = cursor.fetchall()
        for pk, *values in rows:
            clear = {
                c: (decrypt(v) if v and is_encrypted(v) else v or "")
                for c, v in zip(columns, values, strict=True)
            }
            stored = dict(clear) if reverse else {c: encrypt(v) for c, v in clear.items()}
            stored.update({h: ("" if reverse else keyed_hash(clear[source])) for h, source in hashes.items()})
            assignments = ", ".join(f"{quote(c)} = %s" for c in stored)
            cursor.execute(f"UPDATE {quote(table)} SET {assignments} WHERE id = %s", [*stored.values(), pk])

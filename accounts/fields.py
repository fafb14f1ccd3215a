"""Model fields for personal data encrypted at rest (``accounts.crypto``)."""

from django.core.exceptions import FieldError
from django.db import models

from accounts import crypto


class EncryptedCharField(models.TextField):
    """A short text (an ID number, a phone) stored encrypted. In Python it is the clear text, with the
    ``max_length`` and validators of a CharField for forms; in the database a ``text`` column holding the
    Fernet token. It cannot be filtered on (each encryption differs): pair it with ``KeyedHashField``."""

    ALLOWED_LOOKUPS = ("isnull",)

    def from_db_value(self, value, expression, connection):
        return value if value is None else crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None:
            return None
        return crypto.encrypt(str(value))

    def get_lookup(self, lookup_name):
        if lookup_name not in self.ALLOWED_LOOKUPS:
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted: it cannot be compared in SQL "
                f"({lookup_name}); look it up by its keyed hash."
            )
        return super().get_lookup(lookup_name)

    def formfield(self, **kwargs):
        # A one-line input like the CharField it replaces, not a textarea.
        from django import forms

        return super().formfield(**{"widget": forms.TextInput, **kwargs})


class KeyedHashField(models.CharField):
    """HMAC of another field of the row (``source``), set on every save (bulk_create as well), so rows can
    be found by the value without storing it in clear."""

    def __init__(self, *args, source: str, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = crypto.keyed_hash(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value

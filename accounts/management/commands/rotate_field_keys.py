"""Re-encrypt every encrypted column with the first key of FIELD_ENCRYPTION_KEYS and recompute the keyed
hashes (after a new key was put first, or FIELD_HASH_KEY changed); then the old key can be removed."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from accounts import crypto
from accounts.fields import EncryptedCharField, KeyedHashField


class Command(BaseCommand):
    help = "Re-encrypt personal data with the first key of FIELD_ENCRYPTION_KEYS (key rotation)."

    def handle(self, *args, **options):
        with transaction.atomic():
            for model in apps.get_models():
                fields = model._meta.concrete_fields
                columns = [f.column for f in fields if isinstance(f, EncryptedCharField)]
                if not columns:
                    continue
                by_name = {f.name: f.column for f in fields}
                hashes = {f.column: by_name[f.source] for f in fields if isinstance(f, KeyedHashField)}
                crypto.encrypt_table(connection, model._meta.db_table, columns, hashes)
                if options["verbosity"]:
                    self.stdout.write(f"{model._meta.label}: {', '.join(columns)}")

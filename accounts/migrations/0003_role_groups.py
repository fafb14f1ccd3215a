"""One group per role. The codes are frozen here: a migration must not depend on today's code."""

from django.db import migrations

ROLE_CODES = [
    "lead_unit",
    "district_staff",
    "commission_staff",
    "expert",
    "system_admin",
    "security_admin",
    "audit_admin",
]


def create(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for code in ROLE_CODES:
        Group.objects.get_or_create(name=code)


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_CODES).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_districts"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create, remove)]

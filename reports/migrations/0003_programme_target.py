"""The 2017 plan's goal: 10-15 municipal centres and 1-2 national ones by 2020 (staff may add newer goals)."""

from django.db import migrations


def load(apps, schema_editor):
    Target = apps.get_model("reports", "ProgrammeTarget")
    if not Target.objects.exists():
        Target.objects.create(
            municipal_min=10, municipal_max=15, national=2, target_year=2020, note="渝经信发〔2017〕139号"
        )


class Migration(migrations.Migration):
    dependencies = [("reports", "0002_targets_and_exports")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]

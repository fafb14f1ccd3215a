"""The key fields of the 2017 plan (staff may edit them) and policy version 1 with the plan's thresholds."""

from django.db import migrations

FIELDS = [
    "新能源汽车及智能网联汽车",
    "轻量化材料及成型技术与装备",
    "集成电路",
    "印刷及柔性显示",
    "物联网",
    "高端交通装备",
    "高档数控机床",
    "智能装备",
    "能源及环保装备",
    "现代航空装备",
    "智能可穿戴设备",
    "虚拟现实",
    "化工新材料",
    "生物医药",
    "企业绿色化、智能化、服务化、高端化转型",
]


def load(apps, schema_editor):
    Field = apps.get_model("applications", "Field")
    for order, name in enumerate(FIELDS, start=1):
        Field.objects.get_or_create(name=name, defaults={"sort_order": order})
    Policy = apps.get_model("applications", "Policy")
    if not Policy.objects.exists():
        from datetime import datetime
        from zoneinfo import ZoneInfo

        # Values frozen here as the 2017 plan and DOMAIN.md state them; later versions are made by staff.
        Policy.objects.create(
            version=1,
            effective_from=datetime(2017, 12, 5, tzinfo=ZoneInfo("Asia/Shanghai")),
            note="渝经信发〔2017〕139号",
            min_total_investment=1000,
            min_rd_staff_ratio=30,
            min_rd_expense_ratio=30,
            min_panel_size=5,
            score_aggregate="mean",
            band_recognise_min=80,
            band_pilot_min=70,
            publicity_working_days=5,
            grade_excellent_min=90,
            grade_good_min=80,
            grade_pass_min=60,
            support_years=3,
            assessment_interval_years=3,
            exclusion_years=3,
            summary_due_month=3,
            summary_due_day=31,
            attachment_max_mb=20,
        )


def unload(apps, schema_editor):
    apps.get_model("applications", "Field").objects.filter(name__in=FIELDS).delete()


class Migration(migrations.Migration):
    dependencies = [("applications", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]

"""Chongqing's 38 districts and counties (GB/T 2260 codes) plus the two zones administered like them."""

from django.db import migrations

DISTRICTS = [
    ("500101", "万州区", "district"),
    ("500102", "涪陵区", "district"),
    ("500103", "渝中区", "district"),
    ("500104", "大渡口区", "district"),
    ("500105", "江北区", "district"),
    ("500106", "沙坪坝区", "district"),
    ("500107", "九龙坡区", "district"),
    ("500108", "南岸区", "district"),
    ("500109", "北碚区", "district"),
    ("500110", "綦江区", "district"),
    ("500111", "大足区", "district"),
    ("500112", "渝北区", "district"),
    ("500113", "巴南区", "district"),
    ("500114", "黔江区", "district"),
    ("500115", "长寿区", "district"),
    ("500116", "江津区", "district"),
    ("500117", "合川区", "district"),
    ("500118", "永川区", "district"),
    ("500119", "南川区", "district"),
    ("500120", "璧山区", "district"),
    ("500151", "铜梁区", "district"),
    ("500152", "潼南区", "district"),
    ("500153", "荣昌区", "district"),
    ("500154", "开州区", "district"),
    ("500155", "梁平区", "district"),
    ("500156", "武隆区", "district"),
    ("500229", "城口县", "county"),
    ("500230", "丰都县", "county"),
    ("500231", "垫江县", "county"),
    ("500233", "忠县", "county"),
    ("500235", "云阳县", "county"),
    ("500236", "奉节县", "county"),
    ("500237", "巫山县", "county"),
    ("500238", "巫溪县", "county"),
    ("500240", "石柱土家族自治县", "autonomous_county"),
    ("500241", "秀山土家族苗族自治县", "autonomous_county"),
    ("500242", "酉阳土家族苗族自治县", "autonomous_county"),
    ("500243", "彭水苗族土家族自治县", "autonomous_county"),
    # Functional zones with their own industry departments (the plan addresses them beside the districts).
    ("LJXQ", "两江新区", "zone"),
    ("WSJK", "万盛经开区", "zone"),
]


def load(apps, schema_editor):
    District = apps.get_model("accounts", "District")
    for order, (code, name, kind) in enumerate(DISTRICTS, start=1):
        District.objects.update_or_create(code=code, defaults={"name": name, "kind": kind, "sort_order": order})


def unload(apps, schema_editor):
    apps.get_model("accounts", "District").objects.filter(code__in=[c for c, _n, _k in DISTRICTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(load, unload)]

"""The default score sheets of DOMAIN.md: 专家论证 (five criteria) and 考核评估 (six indicators), 100 each."""

from django.db import migrations

SHEETS = {
    "expert_review": (
        "专家论证评分表（默认）",
        [
            ("建设基础与条件", 20, "牵头单位在该领域的研发积累、平台、人才和投入；共建单位的互补性。"),
            ("技术方向与目标", 25, "关键共性技术方向是否明确、先进，目标是否可量化、可考核。"),
            ("运营模式与机制", 20, "公司+联盟模式、治理结构、知识产权和成果转化机制是否可行。"),
            ("预期成果与效益", 20, "成果指标是否具体，经济社会效益是否可信。"),
            ("牵头单位能力", 15, "整合资源、转移扩散技术和持续投入的能力。"),
        ],
    ),
    "assessment": (
        "考核评估指标表（默认）",
        [
            ("建设目标完成", 30, "建设方案中量化目标的完成情况。"),
            ("共性技术与成果", 22, "突破的关键共性技术、专利、标准。"),
            ("创新投入", 20, "研发经费投入及占比、研发人员。"),
            ("协同创新", 10, "成员单位协同、平台共享、联合攻关。"),
            ("成果转化与市场化", 10, "技术转让、成果转化、企业孵化和收入。"),
            ("可持续发展", 8, "自我造血能力、运营机制和人才队伍。"),
        ],
    ),
}


def load(apps, schema_editor):
    Template = apps.get_model("evaluation", "ScoreSheetTemplate")
    Criterion = apps.get_model("evaluation", "Criterion")
    for kind, (name, criteria) in SHEETS.items():
        template, created = Template.objects.get_or_create(kind=kind, is_default=True, defaults={"name": name})
        if created:
            for order, (label, points, guidance) in enumerate(criteria, start=1):
                Criterion.objects.create(
                    template=template, order=order, name=label, max_points=points, guidance=guidance
                )


def unload(apps, schema_editor):
    apps.get_model("evaluation", "ScoreSheetTemplate").objects.filter(is_default=True).delete()


class Migration(migrations.Migration):
    dependencies = [("evaluation", "0003_criterion_comprehensiveevaluation_expertprofile_and_more")]
    operations = [migrations.RunPython(load, unload)]

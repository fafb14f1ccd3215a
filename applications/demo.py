"""Demo applications: a draft half-way through the editor and a complete, submitted plan. Idempotent."""

from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile

from accounts.roles import Role
from accounts.validators import credit_code_check_character
from applications import services
from applications.models import Application, Attachment, CommitteeMember, ExpectedOutcome, Field, MemberUnit
from applications.uploads import inspect

DRAFT_NAME = "重庆市工业互联网创新中心"
SUBMITTED_NAME = "重庆市智能网联汽车创新中心"


def demo_pdf(title: str) -> bytes:
    """A small, valid one-page PDF (so content sniffing and viewers accept it)."""
    stream = f"BT /F1 18 Tf 72 720 Td ({title}) Tj ET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _code(first17: str) -> str:
    return first17 + credit_code_check_character(first17)


def fill_complete(application: Application, user) -> None:
    """Everything a complete plan needs, with figures that meet the 2017 thresholds."""
    field = Field.objects.get(name="新能源汽车及智能网联汽车")
    Application.objects.filter(pk=application.pk).update(
        field=field,
        host_name="重庆智能网联汽车创新中心有限公司",
        host_credit_code=_code("91500000MA60DEM00"),
        host_registered_capital=Decimal("5000.00"),
        host_founded_on=date(2025, 6, 18),
        host_board="董事长：王建国；董事：长安汽车、重庆大学、中国汽研各派一名。",
        host_management="总经理：李明；技术总监：赵强；运营总监：周敏。",
        basis="牵头单位在智能网联汽车领域深耕十余年，拥有国家级企业技术中心和博士后工作站。",
        construction_plan="三年内建成测试验证、共性技术研发和成果转化三大平台。",
        tech_direction="聚焦车路协同、自动驾驶决策控制、整车电子电气架构等关键共性技术。",
        operating_model="公司+联盟：依托公司市场化运营，产业联盟协同创新，专家委员会把关技术方向。",
        expected_results="突破关键共性技术10项，制定标准5项，孵化企业8家。",
        benefits="带动产业链上下游新增产值100亿元，培养高端人才200名。",
        roadmap="2026年建平台，2027年攻关键技术，2028年规模化转化。",
        investment_capital=Decimal("1200.00"),
        investment_ip=Decimal("300.00"),
        employees=120,
        rd_staff=60,
        total_cost=Decimal("2400.00"),
        rd_expense=Decimal("960.00"),
        declares_enterprise_legal_person=True,
        declares_capital_links=True,
        declares_alliance=True,
        declares_expert_committee=True,
        declares_governance=True,
    )
    ExpectedOutcome.objects.create(
        application=application, indicator="突破关键共性技术", target="10项", year=2028
    )
    ExpectedOutcome.objects.create(
        application=application, indicator="主导或参与制定标准", target="5项", year=2028
    )
    CommitteeMember.objects.create(
        application=application, name="张院士", title="中国工程院院士", employer="重庆大学", is_chair=True
    )
    CommitteeMember.objects.create(application=application, name="陈教授", title="教授", employer="西南大学")
    MemberUnit.objects.create(
        application=application,
        name="重庆某汽车股份有限公司",
        credit_code=_code("91500000202800DEM"),
        kind=MemberUnit.Kind.ENTERPRISE,
        relation=MemberUnit.Relation.SHAREHOLDER,
        contribution=MemberUnit.Contribution.MONEY,
        amount=Decimal("800.00"),
    )
    MemberUnit.objects.create(
        application=application,
        name="重庆示范科技大学",
        credit_code=_code("12500000450410DEM"),
        kind=MemberUnit.Kind.UNIVERSITY,
        relation=MemberUnit.Relation.BOTH,
        contribution=MemberUnit.Contribution.IP,
        amount=Decimal("300.00"),
        platforms="国家重点实验室",
    )
    for kind in (
        Attachment.Kind.PLAN,
        Attachment.Kind.AGREEMENT,
        Attachment.Kind.LICENCE,
        Attachment.Kind.AUDIT,
    ):
        upload = ContentFile(demo_pdf(f"demo {kind}"), name=f"{Attachment.Kind(kind).label}.pdf")
        facts = inspect(upload, kind, 20)
        services.add_attachments(application, user, [(kind, upload, facts)])


def seed(users) -> None:
    lead = users[Role.LEAD_UNIT]
    if not Application.objects.filter(lead_unit=lead.organisation, centre_name=DRAFT_NAME).exists():
        draft = services.create_draft(lead)
        Application.objects.filter(pk=draft.pk).update(
            centre_name=DRAFT_NAME,
            field=Field.objects.get(name="物联网"),
            basis="（草稿）已有工业互联网平台两个。",
        )
    if not Application.objects.filter(lead_unit=lead.organisation, centre_name=SUBMITTED_NAME).exists():
        application = services.create_draft(lead)
        Application.objects.filter(pk=application.pk).update(centre_name=SUBMITTED_NAME)
        fill_complete(application, lead)
        services.submit(application, lead, ip="127.0.0.1")

import datetime
import hashlib
import itertools
import math
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile

from accounts.models import District, Organisation, User
from accounts.roles import Role
from accounts.validators import credit_code_check_character
from applications.models import (
    Application,
    Attachment,
    CommitteeMember,
    ExpectedOutcome,
    Field,
    MemberUnit,
    Policy,
)

TEST_PASSWORD = "Test#Passw0rd-2026"


def make_credit_code(n: int) -> str:
    first17 = f"915001{n:011d}"
    return first17 + credit_code_check_character(first17)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"重庆测试单位{n}有限公司")
    credit_code = factory.Sequence(make_credit_code)
    kind = Organisation.Kind.ENTERPRISE
    district = factory.LazyFunction(lambda: District.objects.get(code="500112"))
    address = "重庆市渝北区测试路 1 号"
    legal_representative = "测试法人"
    contact_name = "测试联系人"
    contact_phone = "023-60000000"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Sequence(lambda n: f"测试用户{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*Group.objects.filter(name__in=list(extracted)))


def user_with_role(role: Role, **kwargs) -> User:
    """A user holding one role, with the organisation or district that role needs."""
    if role == Role.LEAD_UNIT:
        kwargs.setdefault("organisation", OrganisationFactory())
    if role == Role.DISTRICT_STAFF:
        kwargs.setdefault("district", District.objects.get(code="500112"))
    return UserFactory(roles=[role], **kwargs)


# --- applications ----------------------------------------------------------------------------------------

# A minimal PDF: what matters for the upload checks is the "%PDF-" signature at the start.
PDF_BYTES = (
    b"%PDF-1.4\n"
    b"1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n"
    b"%%EOF\n"
)

_member_codes = itertools.count(700000)


class ApplicationFactory(factory.django.DjangoModelFactory):
    """A draft construction plan of a fresh lead unit, written by one of that unit's users."""

    class Meta:
        model = Application

    lead_unit = factory.SubFactory(OrganisationFactory)
    district = factory.LazyAttribute(lambda a: a.lead_unit.district)
    created_by = factory.LazyAttribute(lambda a: user_with_role(Role.LEAD_UNIT, organisation=a.lead_unit))


def make_attachment(application, kind, uploaded_by=None, data: bytes = PDF_BYTES, name: str = ""):
    """A stored attachment with a real file (in MEDIA_ROOT) and the facts the upload check would record."""
    attachment = Attachment(
        application=application,
        kind=kind,
        original_name=name or f"{kind}.pdf",
        content_type="application/pdf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by=uploaded_by or application.created_by,
    )
    attachment.file.save(attachment.original_name, ContentFile(data), save=False)
    attachment.save()
    return attachment


def complete_application(lead_user=None, **overrides) -> Application:
    """A draft that ``missing_for_submission`` accepts and that passes every basic condition of the
    policy in force (figures derived from ``Policy.current()``, never literal thresholds)."""
    policy = Policy.current()
    employees = 1000
    total_cost = Decimal("2000.00")
    values = {
        "centre_name": "重庆市测试制造业创新中心",
        "field": Field.objects.first(),
        "host_name": "重庆测试创新中心有限公司",
        "host_credit_code": make_credit_code(next(_member_codes)),
        "host_registered_capital": Decimal("5000.00"),
        "host_founded_on": datetime.date(2020, 6, 1),
        "host_board": "董事长张三，董事李四、王五。",
        "host_management": "总经理赵六，技术总监钱七。",
        "basis": "已建成中试线两条。",
        "construction_plan": "三年内建成共性技术研发平台。",
        "tech_direction": "突破轻量化材料成型关键技术。",
        "operating_model": "公司+联盟，会员制运营。",
        "expected_results": "形成一批行业共性技术成果。",
        "benefits": "带动产业链产值增长。",
        "roadmap": "2026年攻关，2027年中试，2028年产业化。",
        "investment_capital": policy.min_total_investment,
        "investment_ip": Decimal("100.00"),
        "employees": employees,
        "rd_staff": min(employees, math.ceil(employees * policy.min_rd_staff_ratio / 100) + 10),
        "total_cost": total_cost,
        "rd_expense": min(
            total_cost,
            (total_cost * policy.min_rd_expense_ratio / 100).quantize(Decimal("0.01")) + Decimal("10.00"),
        ),
        "declares_enterprise_legal_person": True,
        "declares_capital_links": True,
        "declares_alliance": True,
        "declares_expert_committee": True,
        "declares_governance": True,
    }
    values.update(overrides)
    if lead_user is not None:
        values.setdefault("lead_unit", lead_user.organisation)
        values.setdefault("created_by", lead_user)
    application = ApplicationFactory(**values)
    ExpectedOutcome.objects.create(
        application=application, indicator="发明专利申请", target="50件", year=2028
    )
    CommitteeMember.objects.create(
        application=application, name="陈院士", title="中国工程院院士", employer="重庆大学", is_chair=True
    )
    MemberUnit.objects.create(
        application=application,
        name="重庆测试骨干企业有限公司",
        credit_code=make_credit_code(next(_member_codes)),
        kind=MemberUnit.Kind.ENTERPRISE,
        relation=MemberUnit.Relation.SHAREHOLDER,
        contribution=MemberUnit.Contribution.MONEY,
        amount=policy.min_total_investment,
    )
    MemberUnit.objects.create(
        application=application,
        name="重庆测试大学",
        credit_code=make_credit_code(next(_member_codes)),
        kind=MemberUnit.Kind.UNIVERSITY,
        relation=MemberUnit.Relation.ALLIANCE,
        contribution=MemberUnit.Contribution.IP,
        amount=Decimal("100.00"),
        platforms="重庆市重点实验室",
    )
    for kind in (
        Attachment.Kind.PLAN,
        Attachment.Kind.AGREEMENT,
        Attachment.Kind.LICENCE,
        Attachment.Kind.AUDIT,
    ):
        make_attachment(application, kind)
    return application

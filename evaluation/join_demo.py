"""Demo of joining the programme: an organisation waiting for ``district_demo`` to verify it (with its
licence) and an application to the expert pool waiting for ``staff_demo``. Through the real services;
idempotent."""

from django.core.files.base import ContentFile
from django.db import transaction

from accounts.demo import DEMO_ORGANISATIONS, DEMO_PASSWORD, _code
from accounts.models import District, Organisation, User
from accounts.roles import Role
from applications import registration
from applications.demo import demo_pdf
from applications.models import Field
from evaluation import pool
from evaluation.models import ExpertApplication

PENDING_CODE = _code("91500000MA5UJ0N17")
APPLICANT_ID = "500103198504121234"[:17]


def _pdf(name):
    return ContentFile(demo_pdf(name), name=f"{name}.pdf")


@transaction.atomic
def seed(users) -> None:
    lead = users[Role.LEAD_UNIT]
    User.objects.filter(pk=lead.pk).update(is_organisation_admin=True)  # the demo lead unit's administrator
    district = users[Role.DISTRICT_STAFF].district or District.objects.get(code="LJXQ")
    if not Organisation.objects.filter(credit_code=PENDING_CODE).exists():
        data = {
            "credit_code": PENDING_CODE,
            "name": "重庆两江示范新材料有限公司",
            "kind": Organisation.Kind.ENTERPRISE,
            "district": district,
            "address": "重庆市两江新区星光大道 8 号",
            "legal_representative": "马示范",
            "contact_name": "何联系",
            "contact_phone": "13800000017",
            "contact_email": "join@example.com",
            "username": "join_demo",
            "full_name": "何联系",
            "phone": "13800000017",
            "password1": DEMO_PASSWORD,
        }
        organisation, _person = registration.register(
            data,
            _pdf("licence"),
            {"content_type": "application/pdf", "original_name": "营业执照.pdf"},
            send=False,
        )
        token = registration.confirmation_link(organisation, _person).rstrip("/").rsplit("/", 1)[1]
        registration.confirm(token)
    id_number = APPLICANT_ID + _id_check(APPLICANT_ID)
    if not ExpertApplication.objects.filter(username="pool_demo").exists():
        pool.apply(
            {
                "full_name": "冯申请",
                "id_number": id_number,
                "username": "pool_demo",
                "employer_credit_code": DEMO_ORGANISATIONS["university"]["credit_code"],
                "employer_name": "",
                "employer_since": None,
                "title": "副教授",
                "category": "technical",
                "mobile": "13900000017",
                "email": "pool-demo@example.com",
                "fields": Field.objects.filter(name__in=["智能装备", "物联网"]),
            },
            {
                "cv": (_pdf("cv"), {"original_name": "个人简历.pdf"}),
                "certificate": (_pdf("certificate"), {"original_name": "职称证书.pdf"}),
            },
        )


def _id_check(first17: str) -> str:
    from accounts.validators import ID_CHECK, ID_WEIGHTS

    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]

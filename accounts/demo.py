"""Demo organisations and one account per role. Idempotent: running it again changes nothing."""

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.models import District, Organisation, User
from accounts.roles import Role
from accounts.validators import credit_code_check_character

DEMO_PASSWORD = "Demo#2026cq"


def _code(first17: str) -> str:
    return first17 + credit_code_check_character(first17)


DEMO_ORGANISATIONS = {
    "lead": {
        "credit_code": _code("91500000MA5UDEM01"),
        "name": "重庆智能网联汽车创新科技有限公司",
        "kind": Organisation.Kind.ENTERPRISE,
        "district": "LJXQ",
        "address": "重庆市两江新区金渝大道 1 号",
        "legal_representative": "王建国",
        "contact_name": "李明",
        "contact_phone": "023-67000001",
        "contact_email": "liming@example.com",
    },
    "university": {
        "credit_code": _code("12500000450400DEM"),
        "name": "重庆示范大学",
        "kind": Organisation.Kind.UNIVERSITY,
        "district": "500106",
        "address": "重庆市沙坪坝区学府大道 10 号",
        "legal_representative": "赵教授",
        "contact_name": "孙老师",
        "contact_phone": "023-65000002",
        "contact_email": "office@example.edu.cn",
    },
}

# username, full name, role, organisation key, district code, e-mail
DEMO_USERS = [
    ("lead_demo", "李明", Role.LEAD_UNIT, "lead", None, "lead@example.com"),
    ("district_demo", "陈静", Role.DISTRICT_STAFF, None, "LJXQ", "district@example.com"),
    ("staff_demo", "张伟", Role.COMMISSION_STAFF, None, None, "staff@example.com"),
    ("expert_demo", "刘洋", Role.EXPERT, "university", None, "expert@example.com"),
    ("sysadmin_demo", "周系统", Role.SYSTEM_ADMIN, None, None, "sysadmin@example.com"),
    ("secadmin_demo", "吴安全", Role.SECURITY_ADMIN, None, None, "secadmin@example.com"),
    ("auditadmin_demo", "郑审计", Role.AUDIT_ADMIN, None, None, "auditadmin@example.com"),
]

# The people who act are texted too (consent given; in development the texts go to SMS_FILE_PATH).
DEMO_MOBILES = {"lead_demo": "13800000001", "expert_demo": "13800000004"}


@transaction.atomic
def seed() -> dict[str, User]:
    districts = {d.code: d for d in District.objects.all()}
    organisations = {}
    for key, data in DEMO_ORGANISATIONS.items():
        fields = dict(data)
        code = fields.pop("credit_code")
        fields["district"] = districts[fields["district"]]
        organisations[key], _created = Organisation.objects.update_or_create(
            credit_code=code, defaults=fields
        )

    users = {}
    for username, full_name, role, org_key, district_code, email in DEMO_USERS:
        user, _created = User.objects.update_or_create(
            username=username,
            defaults={
                "full_name": full_name,
                "email": email,
                "organisation": organisations.get(org_key),
                "district": districts.get(district_code),
                "is_active": True,
                # The system administrator works in Django's admin; nobody else needs it for now.
                "is_staff": role in (Role.SYSTEM_ADMIN, Role.COMMISSION_STAFF),
            },
        )
        if username in DEMO_MOBILES and user.sms_consent_at is None:
            user.phone, user.notification_channels = DEMO_MOBILES[username], ["email", "sms"]
            user.sms_consent_at = timezone.now()
            user.save(update_fields=["phone", "notification_channels", "sms_consent_at"])
        if not user.check_password(DEMO_PASSWORD):
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.set([Group.objects.get(name=role)])
        users[role] = user
    return users

"""The portal's roles. Each is a Django group created by migration; the code is the group's name."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    LEAD_UNIT = "lead_unit", _("牵头单位用户")
    DISTRICT_STAFF = "district_staff", _("区县经信委工作人员")
    COMMISSION_STAFF = "commission_staff", _("市经济信息委工作人员")
    EXPERT = "expert", _("评审专家")
    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")


# Where each role lands after sign-in (URL names; later issues replace the placeholders' contents).
HOME_URL_NAMES = {
    Role.LEAD_UNIT: "applications:lead_home",
    Role.DISTRICT_STAFF: "applications:district_home",
    Role.COMMISSION_STAFF: "evaluation:staff_home",
    Role.EXPERT: "evaluation:expert_home",
    Role.SYSTEM_ADMIN: "accounts:system_admin_home",
    Role.SECURITY_ADMIN: "accounts:security_admin_home",
    Role.AUDIT_ADMIN: "accounts:audit_admin_home",
}

# The order in which a user's home is chosen when an account holds several roles.
ROLE_PRIORITY = list(HOME_URL_NAMES)

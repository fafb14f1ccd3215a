"""The header navigation for each role: (label, URL name) pairs, shown in this order."""

from django.utils.translation import gettext_lazy as _

from accounts.roles import Role

NAVIGATION = {
    Role.LEAD_UNIT: [
        (_("我的申报"), "applications:lead_home"),
        (_("我的创新中心"), "reports:my_centres"),
        (_("年度总结"), "reports:my_summaries"),
        (_("本单位"), "registration:organisation"),
    ],
    Role.DISTRICT_STAFF: [
        (_("本区县申报"), "applications:district_home"),
        (_("区县级创新中心"), "centres:district_register"),
        (_("单位注册审核"), "registration:queue"),
        (_("工作看板"), "reports:dashboard"),
    ],
    Role.COMMISSION_STAFF: [
        (_("评审工作台"), "evaluation:staff_home"),
        (_("公示管理"), "evaluation:announcements"),
        (_("创新中心"), "reports:centres"),
        (_("年度总结"), "reports:years"),
        (_("专项支持"), "reports:support_ledger"),
        (_("工作看板"), "reports:dashboard"),
        (_("专家库"), "pool:home"),
        (_("单位注册审核"), "registration:queue"),
    ],
    Role.EXPERT: [(_("我的评审任务"), "evaluation:expert_home"), (_("我的专家档案"), "pool:my_profile")],
    Role.SYSTEM_ADMIN: [(_("系统管理"), "accounts:system_admin_home")],
    Role.SECURITY_ADMIN: [(_("安全管理"), "accounts:security_admin_home")],
    Role.AUDIT_ADMIN: [(_("审计管理"), "accounts:audit_admin_home")],
}

PUBLIC_NAVIGATION = [
    (_("首页"), "home"),
    (_("公示公告"), "announcements:list"),
    (_("创新中心名录"), "centres:directory"),
]


def navigation_for(user) -> list[tuple[str, str]]:
    items = list(PUBLIC_NAVIGATION)
    if user.is_authenticated:
        for role, entries in NAVIGATION.items():
            if user.has_role(role):
                items.extend(entries)
    return items

import rules

from accounts.rules import is_commission_staff, is_district_staff, is_lead_unit

rules.add_perm("centres", is_commission_staff)
rules.add_perm("centres.view_centre", is_commission_staff)
for action in ("view", "add", "change"):
    rules.add_perm(f"centres.{action}_nomination", is_commission_staff)
rules.add_perm("centres.withdraw_title", is_commission_staff)


# --- the district-level centres' register (区县级制造业创新中心) ------------------------------------------
@rules.predicate
def is_in_users_district(user, district_centre):
    return district_centre is not None and district_centre.district_id == user.district_id


@rules.predicate
def is_own_district_centre(user, district_centre):
    return district_centre is not None and district_centre.lead_unit_id == user.organisation_id


rules.add_perm("centres.district_register", is_district_staff | is_commission_staff | is_lead_unit)
rules.add_perm("centres.register_district_centre", is_district_staff)
rules.add_perm(
    "centres.view_district_centre",
    is_commission_staff
    | (is_district_staff & is_in_users_district)
    | (is_lead_unit & is_own_district_centre),
)
rules.add_perm("centres.recommend_district_centre", is_district_staff & is_in_users_district)
rules.add_perm("centres.link_district_centre", is_commission_staff | (is_lead_unit & is_own_district_centre))

"""Permissions of the centres' private pages and the assessment (merged into reports/rules.py later)."""

import rules

from accounts.rules import is_commission_staff, is_district_staff, is_lead_unit


@rules.predicate
def is_own_centre(user, centre):
    return centre is not None and centre.lead_unit_id == user.organisation_id


@rules.predicate
def is_centre_in_district(user, centre):
    return centre is not None and centre.lead_unit.district_id == user.district_id


rules.add_perm("reports.my_centres", is_lead_unit)
rules.add_perm("reports.centres", is_commission_staff)
rules.add_perm(
    "reports.view_centre",
    is_commission_staff | (is_lead_unit & is_own_centre) | (is_district_staff & is_centre_in_district),
)
rules.add_perm("reports.manage_assessments", is_commission_staff)
rules.add_perm("reports.manage_centres", is_commission_staff)
# The centre page itself: whoever may see some centre; the object check happens in the view.
rules.add_perm("reports.view_centre_page", is_commission_staff | is_lead_unit | is_district_staff)

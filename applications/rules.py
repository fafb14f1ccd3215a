"""Who may do what with an application. Views and services name these permissions."""

import rules

from accounts.rules import is_commission_staff, is_district_staff, is_lead_unit
from applications.models import EDITABLE_STATES, Status


@rules.predicate
def is_own_application(user, application):
    return application is not None and user.organisation_id == application.lead_unit_id


@rules.predicate
def is_in_users_district(user, application):
    return application is not None and application.district_id == user.district_id


@rules.predicate
def is_submitted(user, application):
    """Past the draft: others than the lead unit may see it."""
    return application is not None and application.status != Status.DRAFT


@rules.predicate
def is_editable(user, application):
    return application is not None and application.status in EDITABLE_STATES


can_view = (
    (is_lead_unit & is_own_application)
    | (is_commission_staff & is_submitted)
    | (is_district_staff & is_in_users_district & is_submitted)
)

rules.add_perm("applications.lead_home", is_lead_unit)
rules.add_perm("applications.district_home", is_district_staff)
rules.add_perm("applications.create", is_lead_unit)
rules.add_perm("applications.view", can_view)
rules.add_perm("applications.edit", is_lead_unit & is_own_application & is_editable)
rules.add_perm("applications.submit", is_lead_unit & is_own_application)
rules.add_perm("applications.withdraw", is_lead_unit & is_own_application)
rules.add_perm("applications.recommend", is_district_staff & is_in_users_district & is_submitted)
rules.add_perm("applications.compare_versions", can_view)

# Django admin for commission staff: read everything, edit the field list, add policy versions.
rules.add_perm("applications", is_commission_staff)
for model in ("application", "applicationevent", "applicationversion", "districtopinion", "field", "policy"):
    rules.add_perm(f"applications.view_{model}", is_commission_staff)
rules.add_perm("applications.add_field", is_commission_staff)
rules.add_perm("applications.change_field", is_commission_staff)
rules.add_perm("applications.add_policy", is_commission_staff)

"""Who may do what with an application. Views and services name these permissions."""

import rules

from accounts.rules import is_commission_staff, is_district_staff, is_lead_unit
from applications.models import EDITABLE_STATES, OPINION_STATES, WITHDRAWABLE_STATES, Status


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


@rules.predicate
def can_be_withdrawn(user, application):
    """In a state the lead unit may withdraw from (the withdraw transition's sources)."""
    return application is not None and application.status in WITHDRAWABLE_STATES


@rules.predicate
def takes_district_opinion(user, application):
    """Submitted and not past 材料初审: the district's opinion can be recorded now."""
    return application is not None and application.status in OPINION_STATES


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
# The same, now: what the detail page offers (the pages themselves refuse a wrong state with a reason).
rules.add_perm("applications.withdraw_now", is_lead_unit & is_own_application & can_be_withdrawn)
rules.add_perm(
    "applications.recommend_now", is_district_staff & is_in_users_district & takes_district_opinion
)
rules.add_perm("applications.compare_versions", can_view)

# Django admin for commission staff: read everything, edit the field list, add policy versions.
rules.add_perm("applications", is_commission_staff)
for model in ("application", "applicationevent", "applicationversion", "districtopinion", "field", "policy"):
    rules.add_perm(f"applications.view_{model}", is_commission_staff)
rules.add_perm("applications.add_field", is_commission_staff)
rules.add_perm("applications.change_field", is_commission_staff)
rules.add_perm("applications.add_policy", is_commission_staff)

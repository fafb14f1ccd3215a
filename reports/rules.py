"""Who may do what after recognition. Views and services name these permissions."""

import rules

from accounts.rules import is_commission_staff, is_district_staff, is_expert, is_lead_unit
from reports.models import AnnualSummary

SUMMARY_EDITABLE_STATES = (AnnualSummary.State.DRAFT, AnnualSummary.State.RETURNED)


# --- annual summaries (年度工作总结); the object is an AnnualSummary with its centre (and lead unit) loaded


@rules.predicate
def is_own_summary(user, summary):
    return summary is not None and user.organisation_id == summary.centre.lead_unit_id


@rules.predicate
def is_summary_in_users_district(user, summary):
    return summary is not None and summary.centre.lead_unit.district_id == user.district_id


@rules.predicate
def is_summary_editable(user, summary):
    return summary is not None and summary.state in SUMMARY_EDITABLE_STATES


@rules.predicate
def is_assessing_expert(user, summary):
    """An expert on an assessment panel (declared, not withdrawn) to which this summary is attached."""
    return (
        summary is not None
        and user.is_authenticated
        and summary.assessments.filter(
            panel__assignments__expert=user,
            panel__assignments__state__in=("declared", "submitted"),
        ).exists()
    )


rules.add_perm(
    "reports.view_summary",
    (is_lead_unit & is_own_summary)
    | is_commission_staff
    | (is_district_staff & is_summary_in_users_district)
    | (is_expert & is_assessing_expert),
)
rules.add_perm("reports.edit_summary", is_lead_unit & is_own_summary & is_summary_editable)
rules.add_perm("reports.review_summary", is_commission_staff)
rules.add_perm("reports.manage_years", is_commission_staff)
rules.add_perm("reports.my_summaries", is_lead_unit)


# --- centres' private pages, the assessment, the dashboard and exports ------------------------------------


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
rules.add_perm("reports.dashboard", is_commission_staff | is_district_staff)
rules.add_perm("reports.export", is_commission_staff | is_district_staff)
rules.add_perm("reports", is_commission_staff)
rules.add_perm("reports.view_programmetarget", is_commission_staff)
rules.add_perm("reports.add_programmetarget", is_commission_staff)


# --- special support (专项支持): staff record and decide; the lead unit sees its own and requests ----------
rules.add_perm("reports.manage_support", is_commission_staff)
rules.add_perm("reports.decide_support", is_commission_staff)
rules.add_perm("reports.support_ledger", is_commission_staff)
rules.add_perm(
    "reports.view_support",
    is_commission_staff | (is_lead_unit & is_own_centre) | (is_district_staff & is_centre_in_district),
)
rules.add_perm("reports.request_support", is_lead_unit & is_own_centre)
rules.add_perm("reports.view_support_page", is_commission_staff | is_lead_unit | is_district_staff)
# Centres flagged because their annual summary is long overdue: staff decide (withdraw the title or not).
rules.add_perm("reports.decide_overdue", is_commission_staff)

import rules

from accounts.rules import is_district_staff, is_lead_unit

rules.add_perm("applications.lead_home", is_lead_unit)
rules.add_perm("applications.district_home", is_district_staff)

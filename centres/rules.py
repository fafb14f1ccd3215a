import rules

from accounts.rules import is_commission_staff

rules.add_perm("centres", is_commission_staff)
rules.add_perm("centres.view_centre", is_commission_staff)

import rules

from accounts.rules import is_commission_staff

rules.add_perm("centres", is_commission_staff)
rules.add_perm("centres.view_centre", is_commission_staff)
for action in ("view", "add", "change"):
    rules.add_perm(f"centres.{action}_nomination", is_commission_staff)
rules.add_perm("centres.withdraw_title", is_commission_staff)

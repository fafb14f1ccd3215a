import rules

from accounts.rules import is_commission_staff, is_expert

rules.add_perm("evaluation.staff_home", is_commission_staff)
rules.add_perm("evaluation.expert_home", is_expert)

import rules

from accounts.rules import is_commission_staff, is_expert

rules.add_perm("evaluation.staff_home", is_commission_staff)
rules.add_perm("evaluation.expert_home", is_expert)
# Every review move on an application (django-fsm transitions declare permission="evaluation.review").
rules.add_perm("evaluation.review", is_commission_staff)
rules.add_perm("evaluation.record_leadership", is_commission_staff)
# The holiday calendar for years the chinese-calendar package lacks (evaluation.holidays).
rules.add_perm("evaluation.manage_calendar", is_commission_staff)

# Django admin: commission staff keep the holiday calendar (years the chinese-calendar package lacks).
rules.add_perm("evaluation", is_commission_staff)
for model in ("calendaryear", "calendarday"):
    for action in ("view", "add", "change", "delete"):
        rules.add_perm(f"evaluation.{action}_{model}", is_commission_staff)
# Verification codes of printed documents: staff see and revoke them (evaluation.verification.revoke).
for action in ("view", "change"):
    rules.add_perm(f"evaluation.{action}_verificationcode", is_commission_staff)
for model in ("leadershipmeeting", "leadershipdecision", "preliminarycheck"):
    rules.add_perm(f"evaluation.view_{model}", is_commission_staff)


@rules.predicate
def is_inspection_leader(user, inspection):
    return inspection is not None and inspection.leader_id == user.pk


# The site inspection page: staff, and the inspection leader (checked on the object in the view); on the
# inspection: who fills the record in and adds files (the service refuses once it is signed off), who signs.
rules.add_perm("evaluation.inspection", is_commission_staff | is_expert)
rules.add_perm("evaluation.fill_inspection", is_commission_staff | is_inspection_leader)
rules.add_perm("evaluation.sign_off_inspection", is_inspection_leader)

# The expert pool (evaluation.pool): staff verify, suspend and retire; experts keep their profile.
rules.add_perm("evaluation.manage_pool", is_commission_staff)
rules.add_perm("evaluation.my_expert_profile", is_expert)

import rules

from accounts.rules import is_system_admin

# Django admin: the system administrator's (users and configuration, 三员).
rules.add_perm("api", is_system_admin)
for _model in ("systemaccount", "apitoken"):
    for _action in ("view", "add", "change"):
        rules.add_perm(f"api.{_action}_{_model}", is_system_admin)

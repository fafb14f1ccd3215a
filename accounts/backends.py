"""The sign-in backend: Django's ModelBackend, loading the user's roles with the user.

Every signed-in request needs the roles (navigation, the two-factor policy, permissions). On PostgreSQL
the user and the role codes come from one statement, written once: building the equivalent ORM query
(``User.objects.with_role_codes()``) costs more on every request than the query itself.
"""

from django.contrib.auth.backends import ModelBackend
from django.db import connection

from accounts.roles import Role

USER_WITH_ROLES = """
    SELECT u.*, ARRAY(
        SELECT g.name FROM auth_group g JOIN accounts_user_groups ug ON ug.group_id = g.id
        WHERE ug.user_id = u.id AND g.name = ANY(%s)
    ) AS loaded_role_codes
    FROM accounts_user u WHERE u.id = %s
"""


class PortalModelBackend(ModelBackend):
    def get_user(self, user_id):
        from accounts.models import User

        if connection.vendor != "postgresql":
            return super().get_user(user_id)
        try:
            user_id = User._meta.pk.to_python(user_id)
        except Exception:
            return None
        users = list(User.objects.raw(USER_WITH_ROLES, [list(Role.values), user_id]))
        if not users:
            return None
        return users[0] if self.user_can_authenticate(users[0]) else None

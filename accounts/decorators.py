from django.contrib.auth.decorators import login_required
from rules.contrib.views import permission_required


def page_permission(permission: str):
    """Anonymous visitors go to the sign-in page; signed-in people without ``permission`` get 403."""

    def decorate(view):
        return login_required(permission_required(permission, raise_exception=True)(view))

    return decorate

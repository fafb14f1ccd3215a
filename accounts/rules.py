"""Role predicates. Other apps compose these into their own permissions; views only name permissions."""

import rules

from accounts.roles import Role


def _role_predicate(role: Role, name: str):
    @rules.predicate(name=name)
    def has_role(user):
        return bool(user and user.is_authenticated and user.is_active and user.has_role(role))

    return has_role


is_district_staff_role = _role_predicate(Role.DISTRICT_STAFF, "is_district_staff_role")
is_lead_unit_role = _role_predicate(Role.LEAD_UNIT, "is_lead_unit_role")
is_commission_staff = _role_predicate(Role.COMMISSION_STAFF, "is_commission_staff")
is_expert = _role_predicate(Role.EXPERT, "is_expert")
is_system_admin = _role_predicate(Role.SYSTEM_ADMIN, "is_system_admin")
is_security_admin = _role_predicate(Role.SECURITY_ADMIN, "is_security_admin")
is_audit_admin = _role_predicate(Role.AUDIT_ADMIN, "is_audit_admin")


@rules.predicate
def has_organisation(user):
    return bool(getattr(user, "organisation_id", None))


@rules.predicate
def has_district(user):
    return bool(getattr(user, "district_id", None))


# A lead unit user acts for exactly one organisation, a district user for exactly one district.
is_lead_unit = is_lead_unit_role & has_organisation
is_district_staff = is_district_staff_role & has_district

rules.add_perm("accounts.system_admin_home", is_system_admin)
rules.add_perm("accounts.security_admin_home", is_security_admin)
rules.add_perm("accounts.audit_admin_home", is_audit_admin)
rules.add_perm("accounts.view_audit_log", is_audit_admin)  # the system administrator cannot read it (三员)
rules.add_perm("accounts.view_auditevent", is_audit_admin)
# django-axes' records of failed sign-ins: the security administrator's.
rules.add_perm("axes", is_security_admin)
for _model in ("accessattempt", "accessfailurelog", "accesslog"):
    rules.add_perm(f"axes.view_{_model}", is_security_admin)
    rules.add_perm(f"axes.delete_{_model}", is_security_admin)

# Django admin (the back office). Module permission first, then one per model and action.
rules.add_perm("accounts", is_system_admin | is_commission_staff | is_audit_admin)
for action in ("view", "add", "change"):
    rules.add_perm(f"accounts.{action}_user", is_system_admin)
    rules.add_perm(f"accounts.{action}_organisation", is_system_admin | is_commission_staff)
rules.add_perm("accounts.view_district", is_system_admin | is_commission_staff)
rules.add_perm("accounts.change_district", is_system_admin)
rules.add_perm("accounts.add_district", is_system_admin)
# The record of the scheduled backups (accounts.backups): the system administrator's.
rules.add_perm("accounts.view_backuprun", is_system_admin)
rules.add_perm("accounts.view_delivery", is_system_admin)  # which notifications could not be sent, and why

# --- joining the programme (applications.registration, evaluation.pool) --------------------------------


@rules.predicate
def is_organisation_admin(user):
    return bool(getattr(user, "is_organisation_admin", False))


@rules.predicate
def is_in_users_district(user, organisation):
    return (
        organisation is not None
        and bool(organisation.district_id)
        and organisation.district_id == user.district_id
    )


@rules.predicate
def has_no_district(user, organisation):
    return organisation is not None and not organisation.district_id


@rules.predicate
def is_own_organisation(user, organisation):
    return organisation is not None and organisation.pk == user.organisation_id


@rules.predicate
def is_colleague(user, other):
    return other is not None and other.organisation_id == user.organisation_id


# District staff verify the organisations of their district; the commission those without a district.
may_verify = (is_district_staff & is_in_users_district) | (is_commission_staff & has_no_district)
rules.add_perm("accounts.verify_organisations", is_district_staff | is_commission_staff)
rules.add_perm("accounts.verify_organisation", may_verify)
rules.add_perm("accounts.view_licence", may_verify | (is_lead_unit & is_own_organisation))
rules.add_perm("accounts.my_organisation", is_lead_unit)
rules.add_perm("accounts.manage_organisation", is_lead_unit & is_organisation_admin)
rules.add_perm("accounts.manage_colleague", is_lead_unit & is_organisation_admin & is_colleague)

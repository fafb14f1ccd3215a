"""Joining the programme: an organisation registers itself, confirms its e-mail, and is verified by its
district (or by the commission, for an organisation without a district); its administrator (单位管理员)
invites colleagues, deactivates them and hands the role over.

Here rather than in accounts because the licence is checked by content like every upload
(``applications.uploads``); the models and the permissions are accounts' (``accounts.rules``).
Until it is verified an organisation's people may write drafts; ``applications.services.check_allowed``
refuses the submission.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import ProtectedError, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import audit
from accounts.credentials import send_password_link
from accounts.models import Organisation, OrganisationEvent, User
from accounts.notifications import notify, users_with_role
from accounts.roles import Role
from applications.services import ActionRefused

log = logging.getLogger(__name__)
V = Organisation.Verification
CONFIRM_SALT = "applications.registration.confirm"
ORGANISATION_FIELDS = (
    "name",
    "kind",
    "district",
    "address",
    "legal_representative",
    "contact_name",
    "contact_phone",
    "contact_email",
)
DUPLICATE_CODE_MESSAGE = gettext_lazy("该统一社会信用代码已注册，请联系本单位的单位管理员。")


def confirm_days() -> int:
    return settings.REGISTRATION_CONFIRM_DAYS


# --- registering ----------------------------------------------------------------------------------------


def holder_of(credit_code: str):
    """The organisation already registered under ``credit_code`` (a registration that may still be
    confirmed counts; a stale unconfirmed one and a record only named as an expert's employer do not)."""
    return (
        Organisation.objects.filter(credit_code=credit_code)
        .exclude(verification=V.LISTED)
        .exclude(verification=V.UNCONFIRMED, created_at__lt=stale_before())
        .first()
    )


def stale_before():
    return timezone.now() - timedelta(days=confirm_days())


def report_duplicate(organisation: Organisation, *, ip: str | None = None) -> None:
    """Someone tried to register a credit code that is taken: the holder's administrators are told (the
    visitor is not told who holds it)."""
    with transaction.atomic():
        audit.record(
            "registration.duplicate_code",
            target=audit.target_of(organisation),
            detail=organisation.credit_code,
            ip=ip,
            success=False,
        )
        notify(
            organisation_admins(organisation),
            "registration_duplicate",
            {"organisation": organisation, "ip": ip or "—", "when": timezone.localtime()},
            link=reverse("registration:organisation"),
        )


def register(data: dict, licence, facts: dict, *, ip: str | None = None, send: bool = True):
    """Create the organisation (unconfirmed) and its first person, the administrator (inactive until the
    e-mail is confirmed); e-mail the confirmation link. ``data`` is the valid registration form's."""
    with transaction.atomic():
        purge_stale(credit_code=data["credit_code"], username=data["username"])
        if holder_of(data["credit_code"]) is not None:  # registered meanwhile
            raise ActionRefused(str(DUPLICATE_CODE_MESSAGE))
        organisation = Organisation.objects.filter(
            credit_code=data["credit_code"], verification=V.LISTED
        ).first()
        organisation = organisation or Organisation(credit_code=data["credit_code"])
        for name in ORGANISATION_FIELDS:
            setattr(organisation, name, data[name])
        organisation.verification = V.UNCONFIRMED
        organisation.licence_type = facts["content_type"]
        organisation.licence_name = facts["original_name"]
        organisation.licence.save(facts["original_name"], licence, save=False)
        organisation.save()
        user = User(
            username=data["username"],
            full_name=data["full_name"],
            phone=data["phone"],
            email=data["contact_email"],
            organisation=organisation,
            is_active=False,
            is_organisation_admin=True,
        )
        user.set_password(data["password1"])
        user.save()
        user.groups.add(Group.objects.get(name=Role.LEAD_UNIT))
        OrganisationEvent.objects.create(
            organisation=organisation, action=OrganisationEvent.Action.REGISTERED
        )
        audit.record(
            "registration.submitted", target=audit.target_of(organisation), detail=user.username, ip=ip
        )
    if send:  # (the demo seeding confirms by itself)
        send_confirmation(organisation, user)
    return organisation, user


def confirmation_link(organisation: Organisation, user: User) -> str:
    token = signing.dumps({"o": organisation.pk, "u": user.pk}, salt=CONFIRM_SALT)
    return settings.PORTAL_BASE_URL.rstrip("/") + reverse("registration:confirm", args=[token])


def send_confirmation(organisation: Organisation, user: User) -> bool:
    """The e-mail with the signed, expiring link (sent now: the person is waiting for it)."""
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {
            "organisation": organisation,
            "user": user,
            "link": confirmation_link(organisation, user),
            "days": confirm_days(),
        }
        subject = " ".join(render_to_string("join/email/confirm_subject.txt", context).split())
        body = render_to_string("join/email/confirm.txt", context)
    try:
        send_mail(subject, body, None, [organisation.contact_email])
    except Exception:
        log.exception("registration confirmation for organisation %s not sent", organisation.pk)
        return False
    return True


def confirm(token: str, *, ip: str | None = None) -> Organisation:
    """The link of the confirmation e-mail: the organisation goes to 待审核 and its verifiers are told."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=timedelta(days=confirm_days()))
    except signing.SignatureExpired:
        raise ActionRefused(
            _("确认链接已过期（有效期%(days)d天），该注册已作废，请重新注册。") % {"days": confirm_days()}
        ) from None
    except signing.BadSignature:
        raise ActionRefused(_("确认链接无效，请检查邮件中的链接是否完整。")) from None
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().filter(pk=data.get("o")).first()
        user = User.objects.filter(pk=data.get("u"), organisation=organisation).first()
        if organisation is None or user is None:
            raise ActionRefused(_("该注册已过期并被删除，请重新注册。"))
        if organisation.verification != V.UNCONFIRMED:
            raise ActionRefused(_("该确认链接已经使用过，邮箱已确认。请直接登录。"))
        organisation.verification = V.PENDING
        organisation.waiting_since = timezone.now()
        organisation.save(update_fields=["verification", "waiting_since", "updated_at"])
        user.is_active = True
        user.save(update_fields=["is_active"])
        OrganisationEvent.objects.create(
            organisation=organisation, action=OrganisationEvent.Action.CONFIRMED, actor=user
        )
        audit.record("registration.confirmed", actor=user, target=audit.target_of(organisation), ip=ip)
        _tell_verifiers(organisation, resubmitted=False)
    return organisation


def verifiers(organisation: Organisation):
    """Who verifies it: the district staff of its district, or the commission staff without one."""
    if organisation.district_id:
        return User.objects.filter(
            district_id=organisation.district_id, groups__name=Role.DISTRICT_STAFF, is_active=True
        )
    return users_with_role(Role.COMMISSION_STAFF)


def _tell_verifiers(organisation, *, resubmitted: bool, changes=None):
    notify(
        verifiers(organisation),
        "organisation_waiting",
        {"organisation": organisation, "resubmitted": resubmitted, "changes": changes or {}},
        link=reverse("registration:verify", args=[organisation.pk]),
    )


def queue_for(user):
    """The organisations waiting for ``user`` to verify them, oldest first."""
    queryset = Organisation.objects.filter(verification=V.PENDING).select_related("district")
    if user.has_role(Role.DISTRICT_STAFF) and user.district_id:
        queryset = queryset.filter(district_id=user.district_id)
    elif user.has_role(Role.COMMISSION_STAFF):
        queryset = queryset.filter(district__isnull=True)
    else:
        return queryset.none()
    return queryset.order_by("waiting_since", "pk")


# --- verifying ------------------------------------------------------------------------------------------


def _decide(organisation, user, *, approve: bool, reason: str, ip):
    if not user.has_perm("accounts.verify_organisation", organisation):
        raise ActionRefused(_("只有该单位所在区县的经信委工作人员（无区县的由市经济信息委）可以审核。"))
    if not approve and not reason.strip():
        raise ActionRefused(_("请填写不通过的原因，申请单位将据此修改。"))
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if locked.verification != V.PENDING:
            raise ActionRefused(
                _("该单位当前为“%(status)s”，不在待审核状态（可能已由他人办理），请刷新页面。")
                % {"status": locked.get_verification_display()}
            )
        locked.verification = V.VERIFIED if approve else V.REJECTED
        locked.verification_note = "" if approve else reason.strip()
        locked.verified_at = timezone.now()
        locked.verified_by = user
        locked.save()
        action = OrganisationEvent.Action.VERIFIED if approve else OrganisationEvent.Action.REJECTED
        OrganisationEvent.objects.create(
            organisation=locked, action=action, actor=user, comment=reason.strip()
        )
        audit.record(
            "organisation.verified" if approve else "organisation.rejected",
            actor=user,
            target=audit.target_of(locked),
            detail=reason.strip(),
            ip=ip,
        )
        notify(
            User.objects.filter(organisation=locked, is_active=True),
            "organisation_verified" if approve else "organisation_rejected",
            {"organisation": locked, "reason": reason.strip()},
            link=reverse("registration:organisation"),
        )
    return locked


def verify(organisation, user, *, ip=None):
    return _decide(organisation, user, approve=True, reason="", ip=ip)


def reject(organisation, user, reason: str, *, ip=None):
    return _decide(organisation, user, approve=False, reason=reason, ip=ip)


# --- the organisation's own changes ---------------------------------------------------------------------


def _shown(organisation, name):
    value = getattr(organisation, name)
    if name == "licence":
        return organisation.licence_name
    if name == "contact_phone":
        return "***"  # personal data stays out of the history
    if name == "kind":
        return organisation.get_kind_display()
    return str(value or "")


def update_details(organisation, user, data: dict, licence=None, facts=None, *, ip=None) -> Organisation:
    """The administrator corrects or changes the organisation's details (never the credit code).

    A rejected registration goes back to 待审核 (resubmitted); after verification a change of name, legal
    representative or licence goes back to verification; every change is kept with old and new values."""
    if not user.has_perm("accounts.manage_organisation") or user.organisation_id != organisation.pk:
        raise ActionRefused(_("只有本单位的单位管理员可以修改单位信息。"))
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        before = {name: _shown(locked, name) for name in (*ORGANISATION_FIELDS, "licence")}
        labels = {name: str(Organisation._meta.get_field(name).verbose_name) for name in before}
        old_licence = locked.licence.name if licence is not None else None
        for name in ORGANISATION_FIELDS:
            if name in data:
                setattr(locked, name, data[name])
        if licence is not None:
            locked.licence_type = facts["content_type"]
            locked.licence_name = facts["original_name"]
            locked.licence.save(facts["original_name"], licence, save=False)
        after = {name: _shown(locked, name) for name in before}
        changed = [name for name in before if before[name] != after[name] or (name == "licence" and licence)]
        if not changed and locked.verification != V.REJECTED:
            raise ActionRefused(_("没有修改任何内容。"))
        changes = {labels[name]: [before[name], after[name]] for name in changed}
        resubmitted = locked.verification == V.REJECTED
        needs_check = resubmitted or (
            locked.verification == V.VERIFIED and set(changed) & set(Organisation.VERIFIED_FIELDS)
        )
        if needs_check:
            locked.verification = V.PENDING
            locked.waiting_since = timezone.now()
            locked.verification_note = ""
        locked.save()
        OrganisationEvent.objects.create(
            organisation=locked,
            action=OrganisationEvent.Action.RESUBMITTED if resubmitted else OrganisationEvent.Action.CHANGED,
            actor=user,
            changes=changes,
            comment=_("需重新审核") if needs_check and not resubmitted else "",
        )
        audit.record(
            "organisation.resubmitted" if resubmitted else "organisation.changed",
            actor=user,
            target=audit.target_of(locked),
            detail="、".join(changes) or "—",
            ip=ip,
        )
        if needs_check:
            _tell_verifiers(locked, resubmitted=resubmitted, changes=changes)
        if old_licence:
            storage = locked.licence.storage
            transaction.on_commit(lambda: storage.delete(old_licence))
    return locked


# --- the administrator and colleagues -------------------------------------------------------------------


def organisation_admins(organisation):
    return User.objects.filter(organisation=organisation, is_organisation_admin=True, is_active=True)


def colleagues(organisation):
    return User.objects.filter(organisation=organisation).order_by(
        "-is_organisation_admin", "-is_active", "pk"
    )


def _require_admin(user, colleague=None):
    if colleague is None:
        allowed = user.has_perm("accounts.manage_organisation")
    else:
        allowed = user.has_perm("accounts.manage_colleague", colleague)
    if not allowed:
        raise ActionRefused(_("只有本单位的单位管理员可以管理本单位的账号。"))


def invite(user, *, username: str, full_name: str, email: str, phone: str = "", request=None) -> User:
    """A colleague's account for the administrator's organisation; the colleague sets the password from
    the e-mailed activation link (nobody else ever knows it)."""
    _require_admin(user)
    if User.objects.filter(username__iexact=username).exists():
        raise ActionRefused(_("用户名“%(name)s”已被使用，请换一个。") % {"name": username})
    with transaction.atomic():
        colleague = User(
            username=username, full_name=full_name, email=email, phone=phone, organisation=user.organisation
        )
        colleague.set_unusable_password()
        colleague.save()
        colleague.groups.add(Group.objects.get(name=Role.LEAD_UNIT))
        audit.record(
            "organisation.invite",
            request=request,
            actor=user,
            target=audit.target_of(colleague),
            detail=f"{username} → {user.organisation}",
        )
    send_password_link(colleague, actor=user, request=request, purpose="activate")
    return colleague


def deactivate(user, colleague, *, request=None) -> User:
    _require_admin(user, colleague)
    if colleague.pk == user.pk:
        raise ActionRefused(_("不能停用自己的账号；如需离开，请先将单位管理员移交给同事。"))
    if not colleague.is_active:
        raise ActionRefused(_("该账号已停用。"))
    with transaction.atomic():
        colleague.is_active = False
        colleague.save(update_fields=["is_active"])
        audit.record(
            "organisation.deactivate",
            request=request,
            actor=user,
            target=audit.target_of(colleague),
            detail=colleague.username,
        )
    return colleague


def hand_over(user, colleague, *, request=None) -> User:
    """The administrator role goes to an active colleague of the same organisation."""
    _require_admin(user, colleague)
    if colleague.pk == user.pk:
        raise ActionRefused(_("您已是单位管理员。"))
    if not colleague.is_active or not colleague.has_usable_password():
        raise ActionRefused(_("只能移交给已激活的同事账号。"))
    with transaction.atomic():
        User.objects.filter(pk=colleague.pk).update(is_organisation_admin=True)
        User.objects.filter(pk=user.pk).update(is_organisation_admin=False)
        audit.record(
            "organisation.hand_over",
            request=request,
            actor=user,
            target=audit.target_of(colleague),
            detail=f"{user.username} → {colleague.username}",
        )
        notify(
            [colleague, user],
            "organisation_admin_handed_over",
            {"organisation": user.organisation, "old": user, "new": colleague},
            link=reverse("registration:organisation"),
        )
    colleague.is_organisation_admin, user.is_organisation_admin = True, False
    return colleague


# --- the beat's clean-up --------------------------------------------------------------------------------


def purge_stale(now=None, *, credit_code: str | None = None, username: str | None = None) -> int:
    """Delete registrations whose e-mail stayed unconfirmed for ``REGISTRATION_CONFIRM_DAYS`` days: the
    organisation, its (never activated) person and the licence file. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=confirm_days())
    stale = Organisation.objects.filter(verification=V.UNCONFIRMED, created_at__lt=cutoff)
    if credit_code or username:
        stale = stale.filter(
            Q(credit_code=credit_code) | Q(users__username__iexact=username or "")
        ).distinct()
    deleted = 0
    for organisation in stale:
        try:
            with transaction.atomic():
                files = [organisation.licence.name] if organisation.licence else []
                storage = organisation.licence.storage
                User.objects.filter(organisation=organisation, last_login__isnull=True).delete()
                organisation.delete()
                transaction.on_commit(lambda files=files, storage=storage: [storage.delete(f) for f in files])
                audit.record(
                    "registration.purged", target=f"accounts.Organisation:{organisation.credit_code}"
                )
        except ProtectedError:
            log.warning("unconfirmed registration %s is referenced and was kept", organisation.pk)
            continue
        deleted += 1
    return deleted

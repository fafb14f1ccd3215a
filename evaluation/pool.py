"""The expert pool (专家入库): applications to join, staff's verification, the expert's own upkeep of the
profile (a change of employer keeps the old one with its dates: the conflict rules look back three years,
``evaluation.panels``), and suspension or retirement with a reason (a suspended expert is never suggested
nor assignable: ``ExpertProfile.is_active``)."""

import logging

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts import audit
from accounts.credentials import send_password_link
from accounts.models import Organisation, User
from accounts.notifications import notify, users_with_role
from accounts.roles import Role
from applications.services import ActionRefused
from evaluation.models import ExpertApplication, ExpertProfile, PastEmployer

log = logging.getLogger(__name__)
S = ExpertProfile.Status


def employer_for(credit_code: str, name: str = "") -> Organisation:
    """The organisation with this credit code; a new record (仅登记) named ``name`` if none has it. Such a
    record is taken over if that organisation registers itself later (``applications.registration``)."""
    organisation = Organisation.objects.filter(credit_code=credit_code).first()
    if organisation is not None:
        return organisation
    if not name.strip():
        raise ActionRefused(_("平台中没有该统一社会信用代码的单位，请填写工作单位名称。"))
    return Organisation.objects.create(
        credit_code=credit_code,
        name=name.strip(),
        verification=Organisation.Verification.LISTED,
        address="",
        legal_representative="",
        contact_name="",
        contact_phone="",
    )


def already_known(id_number: str) -> str | None:
    """Why an application for this ID number cannot be taken (a pending one, or already in the pool)."""
    from accounts.crypto import keyed_hash

    digest = keyed_hash(id_number)
    if ExpertProfile.objects.filter(id_number_hash=digest).exists():
        return _("该身份证号码已在专家库中。如需更新资料，请登录后在“我的专家档案”中修改。")
    if ExpertApplication.objects.filter(
        id_number_hash=digest, status=ExpertApplication.Status.PENDING
    ).exists():
        return _("该身份证号码已有一份待审核的入库申请，请等待审核结果。")
    return None


def apply(data: dict, files: dict, *, ip: str | None = None) -> ExpertApplication:
    """Store an application (the valid form's data; ``files``: {field: (upload, facts)}); staff are told."""
    problem = already_known(data["id_number"])
    if problem:
        raise ActionRefused(problem)
    with transaction.atomic():
        employer = employer_for(data["employer_credit_code"], data.get("employer_name", ""))
        application = ExpertApplication(
            full_name=data["full_name"],
            id_number=data["id_number"],
            username=data["username"],
            employer=employer,
            employer_since=data.get("employer_since"),
            title=data["title"],
            category=data["category"],
            mobile=data["mobile"],
            email=data["email"],
            ip_address=ip,
        )
        for name, (upload, facts) in files.items():
            setattr(application, f"{name}_name", facts["original_name"])
            getattr(application, name).save(facts["original_name"], upload, save=False)
        application.save()
        application.fields.set(data["fields"])
        audit.record("expert_application.submitted", target=audit.target_of(application), ip=ip)
        notify(
            users_with_role(Role.COMMISSION_STAFF),
            "expert_application_waiting",
            {"application": application},
            link=reverse("pool:application", args=[application.pk]),
        )
    return application


def _require_staff(user):
    if not user.has_perm("evaluation.manage_pool"):
        raise ActionRefused(_("只有市经济信息委工作人员可以管理专家库。"))


def approve(application: ExpertApplication, user, *, request=None) -> ExpertProfile:
    """入库: an account (the person sets the password from the e-mailed link), the expert role, a profile."""
    _require_staff(user)
    with transaction.atomic():
        locked = ExpertApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status != ExpertApplication.Status.PENDING:
            raise ActionRefused(
                _("该申请已经审核过（%(status)s）。") % {"status": locked.get_status_display()}
            )
        if User.objects.filter(username__iexact=locked.username).exists():
            raise ActionRefused(
                _("用户名“%(name)s”已被他人使用，请与申请人联系后退回，请其换一个用户名重新申请。")
                % {"name": locked.username}
            )
        expert = User(
            username=locked.username,
            full_name=locked.full_name,
            email=locked.email,
            phone=locked.mobile,
        )
        expert.set_unusable_password()
        expert.save()
        expert.groups.add(Group.objects.get(name=Role.EXPERT))
        profile = ExpertProfile.objects.create(
            user=expert,
            title=locked.title,
            employer=locked.employer,
            employer_since=locked.employer_since,
            category=locked.category,
            id_number=locked.id_number,
        )
        profile.fields.set(locked.fields.all())
        locked.status = ExpertApplication.Status.APPROVED
        locked.decided_at = timezone.now()
        locked.decided_by = user
        locked.user = expert
        locked.save()
        audit.record(
            "expert_application.approved",
            request=request,
            actor=user,
            target=audit.target_of(locked),
            detail=expert.username,
        )
    send_password_link(expert, actor=user, request=request, purpose="activate")
    return profile


def reject(application: ExpertApplication, user, reason: str, *, request=None) -> ExpertApplication:
    _require_staff(user)
    if not reason.strip():
        raise ActionRefused(_("请填写不通过的原因，申请人将收到这段说明。"))
    with transaction.atomic():
        locked = ExpertApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status != ExpertApplication.Status.PENDING:
            raise ActionRefused(
                _("该申请已经审核过（%(status)s）。") % {"status": locked.get_status_display()}
            )
        locked.status = ExpertApplication.Status.REJECTED
        locked.reason = reason.strip()
        locked.decided_at = timezone.now()
        locked.decided_by = user
        locked.save()
        audit.record(
            "expert_application.rejected",
            request=request,
            actor=user,
            target=audit.target_of(locked),
            detail=locked.reason,
        )
    _mail_applicant(locked, "rejected")
    return locked


def _mail_applicant(application, template: str) -> None:
    """The applicant has no account yet: told by e-mail."""
    with translation.override(settings.LANGUAGE_CODE):
        context = {"application": application, "base_url": settings.PORTAL_BASE_URL}
        subject = " ".join(render_to_string(f"pool/email/{template}_subject.txt", context).split())
        body = render_to_string(f"pool/email/{template}.txt", context)
    try:
        send_mail(subject, body, None, [application.email])
    except Exception:
        log.exception("expert application %s: e-mail not sent", application.pk)


# --- the expert's profile -------------------------------------------------------------------------------


def update_profile(profile: ExpertProfile, user, data: dict) -> ExpertProfile:
    """The expert keeps their profile current. A new employer keeps the old one with its dates."""
    if profile.user_id != user.pk and not user.has_perm("evaluation.manage_pool"):
        raise ActionRefused(_("只能修改自己的专家档案。"))
    with transaction.atomic():
        locked = ExpertProfile.objects.select_for_update().get(pk=profile.pk)
        employer = employer_for(data["employer_credit_code"], data.get("employer_name", ""))
        if employer.pk != locked.employer_id:
            since = data.get("employer_since") or timezone.localdate()
            if locked.employer_since and since <= locked.employer_since:
                raise ActionRefused(_("新单位的入职日期应晚于原单位的入职日期。"))
            PastEmployer.objects.create(
                profile=locked,
                organisation_id=locked.employer_id,
                started_on=locked.employer_since,
                ended_on=since,
            )
            locked.employer = employer
            locked.employer_since = since
            audit.record(
                "expert.employer_changed",
                actor=user,
                target=audit.target_of(locked),
                detail=f"→ {employer.credit_code}",
            )
        elif data.get("employer_since"):
            locked.employer_since = data["employer_since"]
        locked.title = data["title"]
        locked.category = data["category"]
        locked.save()
        locked.fields.set(data["fields"])
        if data.get("mobile"):
            expert = locked.user
            expert.phone = data["mobile"]
            expert.save(update_fields=["phone"])
    return locked


def set_status(profile: ExpertProfile, user, status: str, reason: str, *, request=None) -> ExpertProfile:
    """Suspend (暂停), retire (退出, final) or reinstate an expert, with a reason; the expert is told."""
    _require_staff(user)
    if status not in S.values:
        raise ActionRefused(_("未知的状态。"))
    if not reason.strip():
        raise ActionRefused(_("请填写原因。"))
    with transaction.atomic():
        locked = ExpertProfile.objects.select_for_update().select_related("user").get(pk=profile.pk)
        if locked.status == S.RETIRED:
            raise ActionRefused(_("该专家已退出专家库，不能再变更。"))
        if locked.status == status:
            raise ActionRefused(_("该专家已是“%(status)s”状态。") % {"status": locked.get_status_display()})
        locked.status = status
        locked.is_active = status == S.ACTIVE
        locked.status_reason = reason.strip()
        locked.status_changed_at = timezone.now()
        locked.save()
        audit.record(
            f"expert.{status}",
            request=request,
            actor=user,
            target=audit.target_of(locked),
            detail=reason.strip(),
        )
        notify(
            [locked.user],
            "expert_status_changed",
            {"profile": locked, "reason": reason.strip()},
            link=reverse("pool:my_profile"),
        )
    return locked

"""The lead unit's steps on an application, and the machinery every step uses.

Each step: checks the permission and the preconditions, performs the django-fsm transition and its
side effects in one transaction, appends a history record, and writes notifications (e-mailed after
commit). Views, admin actions, commands and Celery tasks call these functions; none sets a status.
"""

from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.db.models import F, Prefetch
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed, has_transition_perm

from accounts.models import User
from accounts.notifications import notify, users_with_role
from accounts.roles import Role
from applications import stages
from applications.eligibility import as_json, evaluate, missing_for_submission
from applications.models import (
    OPINION_STATES,
    Application,
    ApplicationEvent,
    ApplicationVersion,
    Policy,
    Status,
    SubmissionCounter,
)
from applications.snapshots import snapshot


class ActionRefused(Exception):
    """A step that may not happen now, with the reason a person can act on (and optional details)."""

    def __init__(self, message: str, details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


def transition_label(application: Application, name: str) -> str:
    for t in application.get_all_status_transitions():
        if t.name == name:
            return str(t.custom.get("label", name))
    return name


# The moves that take a plan forward towards recognition (support): refused while its lead unit is excluded.
# Withdrawal, return, send-back and rejection stay possible.
FORWARD_MOVES = stages.forward_moves()


def check_allowed(application: Application, name: str, user) -> None:
    """Raise ActionRefused unless ``user`` may make the move ``name`` now, saying which rule stops it."""
    method = getattr(application, name)
    label = transition_label(application, name)
    if not can_proceed(method):
        raise ActionRefused(
            _("该申报当前处于“%(status)s”阶段，不能%(action)s。")
            % {"status": application.get_status_display(), "action": label}
        )
    if not has_transition_perm(method, user):
        raise ActionRefused(_("您没有权限对该申报执行“%(action)s”。") % {"action": label})
    if name in FORWARD_MOVES and (refusal := exclusion_refusal(application, label)):
        raise ActionRefused(refusal)
    if name in SUBMIT_MOVES:
        refuse_unverified(application.lead_unit)


def exclusion_refusal(application: Application, action) -> str | None:
    """Why this plan cannot be moved forward (``action`` names the step): its lead unit led a centre that
    failed its assessment and is out of the support scope until a date. None if it is not excluded."""
    excluded = exclusion(application.lead_unit)
    if excluded is None:
        return None
    return _(
        "牵头单位“%(unit)s”牵头的“%(centre)s”考核评估不合格，%(until)s前不纳入支持范围，不能%(action)s。"
    ) % {
        "unit": application.lead_unit.name,
        "centre": excluded.name,
        "until": excluded.excluded_until.strftime("%Y-%m-%d"),
        "action": action,
    }


SUBMIT_MOVES = ("submit", "resubmit")


def refuse_unverified(organisation) -> None:
    """A registered organisation submits only once its district (or the commission) verified it."""
    if organisation.verification != organisation.Verification.VERIFIED:
        raise ActionRefused(
            _("贵单位的注册信息为“%(status)s”，审核通过后才能提交申报；在此之前可以继续编辑草稿。")
            % {"status": organisation.get_verification_display()}
        )


def _already_moved(application: Application) -> str:
    latest = (
        ApplicationEvent.objects.filter(application_id=application.pk)
        .select_related("actor")
        .order_by("-pk")
        .first()
    )
    current = Application.objects.filter(pk=application.pk).values_list("status", flat=True).first()
    if latest is None or current is None:
        return _("该申报已被他人处理，请刷新页面。")
    return _("该申报已由%(actor)s于%(time)s办理，当前状态为“%(status)s”。请刷新页面后再操作。") % {
        "actor": latest.actor or _("系统"),
        "time": timezone.localtime(latest.created_at).strftime("%Y-%m-%d %H:%M"),
        "status": Status(current).label,
    }


@contextmanager
def guarded(application: Application):
    """One atomic step; a concurrent move of the same application turns into a clear refusal."""
    try:
        with transaction.atomic():
            yield
    except ConcurrentTransition:
        raise ActionRefused(_already_moved(application)) from None


def move(
    application: Application,
    name: str,
    user,
    *,
    comment: str = "",
    ip: str | None = None,
    section_comments: dict | None = None,
) -> ApplicationEvent:
    """Perform transition ``name`` and record it. Call inside ``guarded()``, after ``check_allowed``."""
    from_status = application.status
    getattr(application, name)()
    application.stage_entered_at = timezone.now()
    application.save()
    return ApplicationEvent.objects.create(
        application=application,
        action=name,
        from_status=from_status,
        to_status=application.status,
        actor=user,
        comment=comment,
        section_comments=section_comments or {},
        ip_address=ip,
    )


def add_history(
    application: Application, action: str, user, *, comment: str = "", ip: str | None = None, internal=False
):
    """A history entry for something that does not change the status (creation, an opinion, ...).

    ``internal`` entries (who sits on a panel, an expert's withdrawal) are shown to staff only.
    """
    return ApplicationEvent.objects.create(
        application=application,
        action=action,
        from_status=application.status,
        to_status=application.status,
        actor=user,
        comment=comment,
        ip_address=ip,
        internal=internal,
    )


def lead_unit_users(application: Application):
    return User.objects.filter(
        organisation_id=application.lead_unit_id, groups__name=Role.LEAD_UNIT, is_active=True
    )


def district_users(application: Application):
    """The district staff of the application's district (they see it once submitted)."""
    return User.objects.filter(
        district_id=application.district_id, groups__name=Role.DISTRICT_STAFF, is_active=True
    )


def application_link(application: Application) -> str:
    return reverse("applications:detail", args=[application.pk])


def staff_link(application: Application) -> str:
    """Where staff handle an application (the review app's page, named by URL so no import is needed)."""
    return reverse("evaluation:application", args=[application.pk])


def with_contents(queryset=None):
    """Applications with everything the eligibility and completeness checks read, in four queries."""
    from applications.models import Attachment, CommitteeMember, ExpectedOutcome, MemberUnit

    queryset = queryset if queryset is not None else Application.objects.all()
    return queryset.select_related("field", "lead_unit", "district").prefetch_related(
        Prefetch("members", queryset=MemberUnit.objects.order_by("pk")),
        Prefetch("committee", queryset=CommitteeMember.objects.order_by("-is_chair", "pk")),
        Prefetch("outcomes", queryset=ExpectedOutcome.objects.order_by("year", "pk")),
        Prefetch("attachments", queryset=Attachment.objects.order_by("kind", "uploaded_at")),
    )


# --- the lead unit's steps ---------------------------------------------------------------------------


def exclusion(organisation, today=None):
    """The centre of this lead unit that failed its assessment and is still excluded, or None.

    The centre lives in a higher app; it is reached through the relation name only (no import).
    """
    today = today or timezone.localdate()
    return organisation.centres.filter(excluded_until__gt=today).order_by("-excluded_until").first()


def withdrawn_titles(organisation):
    """The centres led by this organisation whose title was withdrawn, newest first (by relation name)."""
    return organisation.centres.filter(status="withdrawn").order_by("-withdrawn_on", "-pk")


def create_draft(user, ip: str | None = None) -> Application:
    if not user.has_perm("applications.create"):
        raise ActionRefused(_("只有牵头单位用户可以新建建设方案。"))
    excluded = exclusion(user.organisation)
    if excluded is not None:
        raise ActionRefused(
            _("贵单位牵头的“%(centre)s”考核评估不合格，%(until)s前不纳入支持范围，不能新建申报。")
            % {"centre": excluded.name, "until": excluded.excluded_until.strftime("%Y-%m-%d")}
        )
    with transaction.atomic():
        application = Application.objects.create(
            lead_unit=user.organisation, district_id=user.organisation.district_id, created_by=user
        )
        add_history(application, "create", user, ip=ip)
    return application


def next_number(year: int) -> str:
    """CQ-ZZCX-<year>-<sequence>; the counter row stays locked until the caller's transaction ends."""
    SubmissionCounter.objects.get_or_create(year=year)
    SubmissionCounter.objects.filter(year=year).update(last=F("last") + 1)
    last = SubmissionCounter.objects.get(year=year).last
    return f"CQ-ZZCX-{year}-{last:04d}"


def submit(application: Application, user, ip: str | None = None) -> Application:
    """Submit a draft, or resubmit a returned plan: locks the content, stamps the policy, keeps a version."""
    application = with_contents().get(pk=application.pk)
    name = "resubmit" if application.status == Status.RETURNED else "submit"
    check_allowed(application, name, user)
    missing = missing_for_submission(application)
    if missing:
        raise ActionRefused(_("以下内容尚未填写完整，暂不能提交："), details=missing)
    policy = Policy.current()
    now = timezone.now()
    with guarded(application):
        if application.number is None:
            application.year = timezone.localdate(now).year
            application.number = next_number(application.year)
        application.revision += 1
        application.policy = policy
        with translation.override(settings.LANGUAGE_CODE):  # stored text is read by staff in Chinese
            application.eligibility = as_json(evaluate(application, policy))
        application.submitted_at = now
        move(application, name, user, ip=ip)
        ApplicationVersion.objects.create(
            application=application,
            revision=application.revision,
            submitted_at=now,
            submitted_by=user,
            content=snapshot(application),
        )
        context = {"application": application, "resubmitted": name == "resubmit"}
        link = application_link(application)
        notify(lead_unit_users(application), "application_submitted", context, link=link)
        notify(
            users_with_role(Role.COMMISSION_STAFF),
            "application_waiting_review",
            context,
            link=staff_link(application),
        )
        notify(district_users(application), "application_waiting_opinion", context, link=link)
    return application


def withdraw(application: Application, user, reason: str = "", ip: str | None = None) -> Application:
    application = Application.objects.get(pk=application.pk)
    check_allowed(application, "withdraw", user)
    was_submitted = application.status != Status.DRAFT
    with guarded(application):
        move(application, "withdraw", user, comment=reason, ip=ip)
        colleagues = [u for u in lead_unit_users(application) if u.pk != user.pk]
        notify(
            colleagues,
            "application_withdrawn",
            {"application": application, "reason": reason},
            link=application_link(application),
        )
        if was_submitted:  # staff and the district saw it; a draft was the lead unit's alone
            notify(
                users_with_role(Role.COMMISSION_STAFF),
                "application_withdrawn",
                {"application": application, "reason": reason},
                link=staff_link(application),
            )
            notify(
                district_users(application),
                "application_withdrawn",
                {"application": application, "reason": reason},
                link=application_link(application),
            )
    return application


def record_district_opinion(application: Application, user, form, ip: str | None = None):
    """Save the district's recommendation opinion (the bound, valid ``DistrictOpinionForm``)."""
    if not user.has_perm("applications.recommend", application):
        raise ActionRefused(_("只有申报单位所在区县的经信委工作人员可以填写推荐意见。"))
    if application.status not in OPINION_STATES:
        raise ActionRefused(
            _("该申报当前处于“%(status)s”阶段，推荐意见只能在提交后、材料初审结束前填写。")
            % {"status": application.get_status_display()}
        )
    with transaction.atomic():
        opinion = form.save(commit=False)
        opinion.application = application
        opinion.author = user
        opinion.save()
        verdict = _("同意推荐") if opinion.recommend else _("不同意推荐")
        add_history(application, "district_opinion", user, comment=f"{verdict}：{opinion.opinion}", ip=ip)
        notify(
            users_with_role(Role.COMMISSION_STAFF),
            "district_opinion",
            {"application": application, "opinion": opinion},
            link=staff_link(application),
        )
    return opinion


def save_content(application: Application, user, forms_to_save) -> None:
    """Save one editor step (a form and/or formsets, all valid) in one transaction."""
    with transaction.atomic():
        locked = _lock_editable(application, user)
        if locked.status != application.status:
            raise ActionRefused(_already_moved(application))
        for form in forms_to_save:
            form.save()


def add_attachments(application: Application, user, accepted) -> list:
    """Store the files that passed inspection. A new file of a single-copy kind replaces the old one."""
    from applications.models import Attachment

    stored = []
    with transaction.atomic():
        _lock_editable(application, user)
        for kind, upload, facts in accepted:
            if kind != Attachment.Kind.OTHER:
                for old in application.attachments.filter(kind=kind):
                    _delete_attachment(old)
            attachment = Attachment(application=application, kind=kind, uploaded_by=user, **facts)
            attachment.file.save(facts["original_name"], upload, save=False)
            attachment.save()
            stored.append(attachment)
    return stored


def remove_attachment(attachment, user) -> None:
    with transaction.atomic():
        _lock_editable(attachment.application, user)
        _delete_attachment(attachment)


def _lock_editable(application: Application, user) -> Application:
    """Lock the application row and check, on the locked row, that this user may still change it."""
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if not user.has_perm("applications.edit", locked):
        raise ActionRefused(
            _("该申报当前处于“%(status)s”阶段，不能修改。") % {"status": locked.get_status_display()}
        )
    return locked


def _delete_attachment(attachment) -> None:
    name, storage = attachment.file.name, attachment.file.storage
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))

"""公示 and what follows: opening an announcement, objections, the deadline sweep, approval and award.

Deadlines are stored, not scheduled: ``Announcement.ends_at`` is computed once in working days when the
announcement opens; pages derive "open" from it, and the sweep (a beat task and a management command,
the same function) closes what has expired. The sweep locks each announcement with SKIP LOCKED and moves
each application through the usual ``guarded``/``move``, so two sweeps at once, or a late one, move each
application exactly once.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from accounts import crypto
from accounts.notifications import notify, users_with_role
from accounts.roles import Role
from applications.models import Application, Outcome, Policy, Status
from applications.services import (
    ActionRefused,
    add_history,
    application_link,
    check_allowed,
    exclusion_refusal,
    guarded,
    lead_unit_users,
    move,
    staff_link,
)
from applications.uploads import inspect
from centres.services import approval_date_problem, award_date_problem, create_centre
from evaluation import workdays
from evaluation.models import Announcement, AnnouncementEntry, Approval, Objection, ObjectionFile
from evaluation.workflow import leadership_approved


def start_problem(starts_at) -> str | None:
    """Why a period cannot start at ``starts_at``, or None. It must start now or later (a start in the past
    would shorten the objection period, or leave none); the present minute counts as now."""
    present_minute = timezone.localtime().replace(second=0, microsecond=0)
    if starts_at < present_minute:
        return _(
            "公示开始时间%(start)s早于当前时间%(now)s：公示期必须从现在或今后开始，"
            "否则异议期会缩短甚至没有。请留空（立即开始）或选择今后的时间。"
        ) % {
            "start": timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M"),
            "now": present_minute.strftime("%Y-%m-%d %H:%M"),
        }
    return None


def open_publicity(
    user,
    applications,
    *,
    title,
    list_type,
    starts_at=None,
    contact_person,
    contact_phone,
    contact_address,
    supervision_phone,
    ip=None,
) -> Announcement:
    """One announcement for one or many applications approved by the leadership, all or nothing. The period
    starts at ``starts_at`` (now if not given, never in the past) and its end is counted from the start."""
    if not user.has_perm("evaluation.review"):
        raise ActionRefused(_("只有市经济信息委工作人员可以发布公示。"))
    starts_at = starts_at or timezone.now()
    if problem := start_problem(starts_at):
        raise ActionRefused(problem)
    applications = list(applications)
    if not applications:
        raise ActionRefused(_("请至少选择一个申报。"))
    problems = []
    for application in applications:
        if application.status != Status.LEADERSHIP or not leadership_approved(application):
            problems.append(_("%(name)s尚未经委主任办公会审定同意。") % {"name": application})
        elif application.outcome != list_type:
            problems.append(
                _("%(name)s的拟定结论是“%(outcome)s”，不能列入“%(list)s”名单。")
                % {
                    "name": application,
                    "outcome": application.get_outcome_display(),
                    "list": Outcome(list_type).label,
                }
            )
    if problems:
        raise ActionRefused(_("以下申报不能发布公示："), details=problems)
    policy = Policy.current()
    try:
        ends_at = workdays.add_working_days(starts_at, policy.publicity_working_days)
    except workdays.UnknownCalendarYear as error:
        raise ActionRefused(str(error)) from None
    with transaction.atomic():
        announcement = Announcement.objects.create(
            title=title,
            list_type=list_type,
            starts_at=starts_at,
            ends_at=ends_at,
            working_days=policy.publicity_working_days,
            contact_person=contact_person,
            contact_phone=contact_phone,
            contact_address=contact_address,
            supervision_phone=supervision_phone,
            created_by=user,
        )
        for order, application in enumerate(applications):
            AnnouncementEntry.objects.create(announcement=announcement, application=application, order=order)
            check_allowed(application, "open_publicity", user)
            with guarded(application):
                move(application, "open_publicity", user, comment=title, ip=ip)
                notify(
                    lead_unit_users(application),
                    "publicity_opened",
                    {"application": application, "announcement": announcement},
                    link=reverse("announcements:detail", args=[announcement.pk]),
                )
    return announcement


def calendar_problem(starts_at=None) -> str | None:
    """Why a publicity period starting at ``starts_at`` (default now) cannot be counted, or None: it would
    reach a year whose statutory holidays are not entered (staff must enter them first)."""
    try:
        workdays.add_working_days(starts_at or timezone.now(), Policy.current().publicity_working_days)
    except workdays.UnknownCalendarYear as error:
        return str(error)
    return None


def new_reference() -> str:
    today = timezone.localdate().strftime("%Y%m%d")
    return f"YY{today}-{secrets.token_hex(3).upper()}"


def _check_open(announcement: Announcement) -> None:
    now = timezone.now()
    if now < announcement.starts_at:
        raise ActionRefused(_("公示尚未开始。"))
    if now >= announcement.ends_at or announcement.closed_at:
        raise ActionRefused(
            _("公示期已于%(end)s结束，不再受理异议。")
            % {"end": timezone.localtime(announcement.ends_at).strftime("%Y-%m-%d %H:%M")}
        )


def _check_identity(kind, id_number, contact_person, file_kinds) -> None:
    if kind == Objection.Kind.PERSON:
        if not id_number:
            raise ActionRefused(_("个人提出异议须填写身份证号码（实名）。"))
        if ObjectionFile.Kind.EVIDENCE not in file_kinds:
            raise ActionRefused(_("个人提出异议须上传证据材料。"))
    elif kind == Objection.Kind.ORGANISATION:
        if not contact_person:
            raise ActionRefused(_("单位提出异议须填写联系人。"))
        if ObjectionFile.Kind.SEALED_LETTER not in file_kinds:
            raise ActionRefused(_("单位提出异议须上传加盖公章的异议书。"))
    else:
        raise ActionRefused(_("请选择异议人类型。"))


def _check_rate(ip, id_number) -> None:
    """At most ``OBJECTIONS_PER_HOUR`` accepted objections in the last hour from one address and for one ID
    number (counted in the database, so refused forms never count and a restart of Redis forgets nothing)."""
    limit = settings.OBJECTIONS_PER_HOUR
    recent = Objection.objects.filter(created_at__gte=timezone.now() - timedelta(hours=1))
    if ip and recent.filter(ip_address=ip).count() >= limit:
        raise ActionRefused(_("同一网络地址提交异议过于频繁，请一小时后再试，或拨打监督电话。"))
    if id_number and recent.filter(id_number_hash=crypto.keyed_hash(id_number)).count() >= limit:
        raise ActionRefused(_("同一身份证号码一小时内提交的异议已达上限，请一小时后再试，或拨打监督电话。"))


def lodge_objection(
    entry: AnnouncementEntry,
    *,
    kind,
    name,
    phone,
    statement,
    id_number="",
    contact_person="",
    files=(),
    ip=None,
    max_mb=20,
) -> Objection:
    """A real-name objection while the announcement is open; files are checked like any upload.

    DOMAIN: a person gives name, ID number, phone and evidence; an organisation its name, contact and a
    sealed letter."""
    _check_open(entry.announcement)  # refuse early, before reading the files
    _check_identity(kind, id_number, contact_person, [file_kind for file_kind, _upload in files])
    checked = [(file_kind, upload, inspect(upload, "other", max_mb)) for file_kind, upload in files]
    with transaction.atomic():
        # The sweep locks the announcement while it closes it: an objection waits for that lock and is then
        # judged against the end, so none can slip in after the period was closed without it.
        _check_open(Announcement.objects.select_for_update().get(pk=entry.announcement_id))
        _check_rate(ip, id_number)
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    objection = Objection.objects.create(
                        reference=new_reference(),
                        entry=entry,
                        kind=kind,
                        name=name,
                        id_number=id_number,
                        contact_person=contact_person,
                        phone=phone,
                        statement=statement,
                        ip_address=ip,
                    )
                break
            except IntegrityError:
                continue
        else:
            raise ActionRefused(_("系统繁忙，请稍后再试。"))
        for file_kind, upload, facts in checked:
            item = ObjectionFile(
                objection=objection,
                kind=file_kind,
                original_name=facts["original_name"],
                content_type=facts["content_type"],
                size=facts["size"],
            )
            item.file.save(facts["original_name"], upload, save=False)
            item.save()
        notify(
            users_with_role(Role.COMMISSION_STAFF),
            "objection_lodged",
            {"objection": objection, "application": entry.application},
            link=reverse("evaluation:objections", args=[entry.announcement_id]),
        )
    return objection


def resolve_objection(objection: Objection, user, state: str, resolution: str) -> Objection:
    if not user.has_perm("evaluation.review"):
        raise ActionRefused(_("只有市经济信息委工作人员可以处理异议。"))
    if state not in (Objection.State.DISMISSED, Objection.State.UPHELD):
        raise ActionRefused(_("请选择异议是否成立。"))
    if not resolution.strip():
        raise ActionRefused(_("请写明处理意见。"))
    with transaction.atomic():
        locked = (
            Objection.objects.select_for_update().select_related("entry__application").get(pk=objection.pk)
        )
        if locked.state != Objection.State.PENDING:
            raise ActionRefused(_("该异议已处理。"))
        locked.state, locked.resolution = state, resolution.strip()
        locked.resolved_by, locked.resolved_at = user, timezone.now()
        locked.save()
        add_history(
            locked.entry.application,
            "objection_resolved",
            user,
            comment=f"{locked.reference}：{locked.get_state_display()}。{locked.resolution}",
        )
    return locked


def objections_block(application: Application) -> list[str]:
    """Why publicity cannot end in approval (pending or upheld objections), empty when it can."""
    problems = []
    entry = application.announcement_entries.select_related("announcement").order_by("-pk").first()
    if entry is None:
        return [_("没有公示记录。")]
    if timezone.now() < entry.announcement.ends_at:
        problems.append(_("公示期尚未结束。"))
    pending = entry.objections.filter(state=Objection.State.PENDING).count()
    upheld = entry.objections.filter(state=Objection.State.UPHELD).count()
    if pending:
        problems.append(_("还有%(n)d件异议未处理。") % {"n": pending})
    if upheld:
        problems.append(_("有%(n)d件异议成立，应不予认定或退回综合评估。") % {"n": upheld})
    return problems


def approve(application, user, ip=None):
    """After the period, staff approve an application whose objections were all dismissed."""
    check_allowed(application, "approve", user)
    problems = objections_block(application)
    if problems:
        raise ActionRefused(_("还不能批复："), details=problems)
    with guarded(application):
        move(application, "approve", user, comment=_("公示期满，异议均不成立。"), ip=ip)
        _tell(application, "application_moved")
    return application


def send_back_after_objection(application, user, comment="", ip=None):
    check_allowed(application, "send_back_after_objection", user)
    entry = application.announcement_entries.order_by("-pk").first()
    if entry is None or not entry.objections.filter(state=Objection.State.UPHELD).exists():
        raise ActionRefused(_("只有异议成立时才能退回综合评估。"))
    with guarded(application):
        move(application, "send_back_after_objection", user, comment=comment, ip=ip)
        _tell(application, "application_moved", comment=comment)
    return application


def _tell(application, template, **context):
    notify(
        lead_unit_users(application),
        template,
        {"application": application, **context},
        link=application_link(application),
    )


def close_expired(now=None) -> dict:
    """The deadline sweep. Returns how many announcements were closed and applications approved.

    Each announcement is closed in a transaction of its own (what is done survives a crash; a locked one
    is skipped, left to whoever holds it)."""
    now = now or timezone.now()
    total = {"closed": 0, "approved": 0, "waiting": 0}
    while (done := close_one(now)) is not None:
        for key in total:
            total[key] += done[key]
    return total


def close_one(now=None, announcement_id=None) -> dict | None:
    """Close the earliest expired announcement (or the one given, if it is due and nobody holds it).

    Returns the counts for it, or None if there was none to close."""
    now = now or timezone.now()
    approved = waiting = 0
    with transaction.atomic():
        due = Announcement.objects.due_for_closing(now).select_for_update(skip_locked=True)
        if announcement_id is not None:
            due = due.filter(pk=announcement_id)
        announcement = due.order_by("ends_at").first()
        if announcement is None:
            return None
        for entry in announcement.entries.select_related("application"):
            application = entry.application
            if application.status != Status.PUBLICITY or not can_proceed(application.approve):
                continue
            if refusal := exclusion_refusal(application, _("批复")):
                waiting += 1  # staff decide: the lead unit was excluded during the period
                notify(
                    users_with_role(Role.COMMISSION_STAFF),
                    "application_waiting_staff",
                    {"application": application, "reason": refusal},
                    link=staff_link(application),
                )
                continue
            blocking = entry.objections.exclude(state=Objection.State.DISMISSED).exists()
            if blocking:
                waiting += 1
                notify(
                    users_with_role(Role.COMMISSION_STAFF),
                    "publicity_ended_with_objections",
                    {"application": application, "announcement": announcement},
                    link=staff_link(application),
                )
                continue
            try:
                with guarded(application):
                    move(application, "approve", None, comment=_("公示期满，无异议。"))
                    _tell(application, "application_moved")
            except ActionRefused:  # moved meanwhile by someone else: nothing left to do here
                continue
            approved += 1
        announcement.closed_at = timezone.now()
        announcement.save(update_fields=["closed_at"])
    return {"closed": 1, "approved": approved, "waiting": waiting}


def close_many(ids, now=None) -> dict:
    """Close these announcements together, if they are due and nobody holds them (a chunk of the beat's
    shared-out sweep). Same outcome as ``close_one`` for each, in one transaction and a few statements
    for the whole chunk: the move is one guarded UPDATE (what another step moved meanwhile is left alone),
    the history and its audit rows are written in bulk; each lead unit is told as before."""
    from accounts.audit import target_of
    from accounts.models import AuditEvent
    from applications.models import ApplicationEvent
    from config import fragments

    now = now or timezone.now()
    with transaction.atomic():
        announcements = list(
            Announcement.objects.due_for_closing(now).filter(pk__in=ids).select_for_update(skip_locked=True)
        )
        if not announcements:
            return {"closed": 0, "approved": 0, "waiting": 0}
        entries = list(
            AnnouncementEntry.objects.filter(announcement__in=announcements)
            .select_related("application", "announcement")
            .order_by("announcement__ends_at", "order", "pk")
        )
        blocked = set(
            Objection.objects.filter(entry__in=entries)
            .exclude(state=Objection.State.DISMISSED)
            .values_list("entry_id", flat=True)
        )
        in_publicity = [e for e in entries if e.application.status == Status.PUBLICITY]
        excluded = set(
            Application.objects.filter(
                pk__in=[e.application_id for e in in_publicity],
                lead_unit__centres__excluded_until__gt=timezone.localdate(),
            ).values_list("pk", flat=True)
        )
        waiting = [e for e in in_publicity if e.pk in blocked and e.application_id not in excluded]
        held = [e for e in in_publicity if e.application_id in excluded]
        approvable = [
            e.application_id for e in in_publicity if e.pk not in blocked and e.application_id not in excluded
        ]
        moved = list(
            Application.objects.select_for_update()
            .filter(pk__in=approvable, status=Status.PUBLICITY)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        moment = timezone.now()
        Application.objects.filter(pk__in=moved).update(
            status=Status.APPROVED, stage_entered_at=moment, updated_at=moment
        )
        comment = _("公示期满，无异议。")
        ApplicationEvent.objects.bulk_create(
            ApplicationEvent(
                application_id=pk,
                action="approve",
                from_status=Status.PUBLICITY,
                to_status=Status.APPROVED,
                comment=comment,
                section_comments={},
            )
            for pk in moved
        )
        # What the history's signal records for each row (applications.signals), in one statement.
        AuditEvent.objects.bulk_create(
            AuditEvent(
                action="application.approve",
                target=target_of(Application(pk=pk))[:200],
                detail=f"{Status.PUBLICITY}→{Status.APPROVED} {comment}"[:2000],
                success=True,
            )
            for pk in moved
        )
        for application in (
            Application.objects.filter(pk__in=moved).select_related("lead_unit").order_by("pk")
        ):
            _tell(application, "application_moved")
        staff = list(users_with_role(Role.COMMISSION_STAFF)) if waiting or held else []
        for entry in held:  # as close_one: staff decide, the lead unit was excluded during the period
            notify(
                staff,
                "application_waiting_staff",
                {"application": entry.application, "reason": exclusion_refusal(entry.application, _("批复"))},
                link=staff_link(entry.application),
            )
        for entry in waiting:
            notify(
                staff,
                "publicity_ended_with_objections",
                {"application": entry.application, "announcement": entry.announcement},
                link=staff_link(entry.application),
            )
        Announcement.objects.filter(pk__in=[a.pk for a in announcements]).update(closed_at=timezone.now())
        fragments.changed(Application, ApplicationEvent, Announcement)  # bulk writes send no signals
    return {"closed": len(announcements), "approved": len(moved), "waiting": len(waiting) + len(held)}


def record_approval(application, user, *, document_number, document_date, ip=None) -> Approval:
    if not user.has_perm("evaluation.review", application):
        raise ActionRefused(_("只有市经济信息委工作人员可以登记批复。"))
    if application.status != Status.APPROVED:
        raise ActionRefused(
            _("该申报当前处于“%(status)s”阶段，不能登记批复。") % {"status": application.get_status_display()}
        )
    if problem := approval_date_problem(document_date):
        raise ActionRefused(problem)
    with transaction.atomic():
        approval, _created = Approval.objects.update_or_create(
            application=application,
            defaults={
                "document_number": document_number,
                "document_date": document_date,
                "recorded_by": user,
            },
        )
        add_history(
            application,
            "approval_recorded",
            user,
            comment=f"{document_number}（{document_date:%Y-%m-%d}）",
            ip=ip,
        )
        _tell(application, "approval_recorded", approval=approval)
    return approval


def award(application, user, *, plaque_number, award_date, ip=None):
    """授牌: creates the Centre (recognised or pilot, support years from the award date)."""
    check_allowed(application, "award", user)
    approval = Approval.objects.filter(application=application).first()
    if approval is None:
        raise ActionRefused(_("请先登记批复文号和日期。"))
    if not plaque_number.strip():
        raise ActionRefused(_("请填写牌匾编号。"))
    if problem := award_date_problem(approval.document_date, award_date):
        raise ActionRefused(problem)
    with guarded(application):
        move(application, "award", user, comment=_("牌匾编号%(n)s") % {"n": plaque_number}, ip=ip)
        try:
            with transaction.atomic():
                centre = create_centre(
                    application,
                    user,
                    approval_number=approval.document_number,
                    approval_date=approval.document_date,
                    plaque_number=plaque_number.strip(),
                    award_date=award_date,
                )
        except IntegrityError:
            raise ActionRefused(_("牌匾编号%(n)s已被使用。") % {"n": plaque_number}) from None
        _tell(application, "application_awarded", centre=centre)
    return centre

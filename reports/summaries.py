"""Annual summaries (年度工作总结): staff open a reporting year, each centre's lead unit fills and submits its
summary, staff accept it or return it with comments; reminders before the due date, overdue flags after.

Each step checks the permission (``reports.rules``) on the locked row, changes it in one transaction and
writes the notifications in that transaction (e-mailed after commit). Views, commands and Celery tasks call
these functions; none sets a state.
"""

import calendar
import datetime
from collections import defaultdict

from django.db import IntegrityError, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.notifications import notify, users_with_role
from accounts.roles import Role
from applications.models import Policy
from applications.services import ActionRefused
from applications.uploads import inspect
from centres.models import Centre
from reports.assessment import attach_accepted_summary
from reports.models import AnnualSummary, ReportingYear, SummaryAttachment, SummaryReminder

State = AnnualSummary.State
EDITABLE_STATES = (State.DRAFT, State.RETURNED)
DONE_STATES = (State.SUBMITTED, State.ACCEPTED)
REPORTING_STATUSES = (Centre.Status.ACTIVE, Centre.Status.EXCLUDED)

# What a submission needs besides the figures (which default to 0): the narrative a reader cannot do without.
REQUIRED_FOR_SUBMISSION = ("work_summary", "next_year_plan")


# --- dates and flags ---------------------------------------------------------------------------------------


def default_due_date(year: int, policy: Policy | None = None) -> datetime.date:
    """The policy's due date (default 31 March) in the year after the summarised ``year``."""
    policy = policy or Policy.current()
    month = policy.summary_due_month
    day = min(policy.summary_due_day, calendar.monthrange(year + 1, month)[1])
    return datetime.date(year + 1, month, day)


def owed_condition() -> Q:
    """Summaries still owed: a centre whose title was withdrawn owes nothing any more."""
    return ~Q(centre__status=Centre.Status.WITHDRAWN)


def overdue_condition(today: datetime.date) -> Q:
    return Q(reporting_year__due_date__lt=today) & ~Q(state__in=DONE_STATES) & owed_condition()


def overdue(today: datetime.date | None = None):
    """Summaries not submitted (nor accepted) whose due date has passed."""
    today = today or timezone.localdate()
    return AnnualSummary.objects.filter(overdue_condition(today))


def with_overdue(queryset, today: datetime.date | None = None):
    """``queryset`` annotated with ``is_overdue`` (computed by the database, no extra query per row)."""
    today = today or timezone.localdate()
    return queryset.annotate(
        is_overdue=ExpressionWrapper(overdue_condition(today), output_field=BooleanField())
    )


def is_overdue(summary: AnnualSummary, today: datetime.date | None = None) -> bool:
    today = today or timezone.localdate()
    return (
        summary.state not in DONE_STATES
        and today > summary.reporting_year.due_date
        and summary.centre.status != Centre.Status.WITHDRAWN
    )


def missing_for_submission(summary: AnnualSummary) -> list[str]:
    return [
        str(AnnualSummary._meta.get_field(name).verbose_name)
        for name in REQUIRED_FOR_SUBMISSION
        if not getattr(summary, name).strip()
    ]


# --- recipients and links ----------------------------------------------------------------------------------


def lead_users_by_organisation(organisation_ids) -> dict[int, list[User]]:
    """The active lead-unit users of each organisation, in one query."""
    users = defaultdict(list)
    for user in User.objects.filter(
        organisation_id__in=set(organisation_ids), groups__name=Role.LEAD_UNIT, is_active=True
    ).distinct():
        users[user.organisation_id].append(user)
    return users


def lead_unit_users(summary: AnnualSummary):
    return User.objects.filter(
        organisation_id=summary.centre.lead_unit_id, groups__name=Role.LEAD_UNIT, is_active=True
    )


def edit_link(summary: AnnualSummary) -> str:
    return reverse("reports:summary_edit", args=[summary.pk])


def view_link(summary: AnnualSummary) -> str:
    return reverse("reports:summary", args=[summary.pk])


def review_link(summary: AnnualSummary) -> str:
    return reverse("reports:summary_review", args=[summary.pk])


def _context(summary: AnnualSummary, **extra) -> dict:
    return {
        "summary": summary,
        "centre": summary.centre,
        "year": summary.reporting_year.year,
        "due_date": summary.reporting_year.due_date,
        **extra,
    }


# --- staff: the reporting year -----------------------------------------------------------------------------


def reporting_centres(year: int):
    """The centres that report on ``year``: awarded by its end and not stripped of the title."""
    return Centre.objects.filter(status__in=REPORTING_STATUSES, award_date__lte=datetime.date(year, 12, 31))


def next_year_to_open(today: datetime.date | None = None) -> int | None:
    """The year the "open a reporting year" form offers: the one after the latest opened (last year if none
    is open yet), or None when that would be a year not yet begun."""
    today = today or timezone.localdate()
    latest = ReportingYear.objects.order_by("-year").values_list("year", flat=True).first()
    year = latest + 1 if latest is not None else today.year - 1
    return year if year <= today.year else None


def open_year(user, year: int, due_date: datetime.date | None = None) -> ReportingYear:
    """Open reporting ``year``: a draft summary for every reporting centre, and a notice to its lead unit."""
    if not user.has_perm("reports.manage_years"):
        raise ActionRefused(_("只有市经济信息委工作人员可以开启年度总结报送。"))
    today = timezone.localdate()
    if year > today.year:
        raise ActionRefused(_("%(year)d年尚未开始，不能开启该年度的总结报送。") % {"year": year})
    due_date = due_date or default_due_date(year)
    if due_date <= datetime.date(year, 12, 31):
        raise ActionRefused(_("报送截止日期应晚于%(year)d年12月31日。") % {"year": year})
    existing = ReportingYear.objects.filter(year=year).first()
    if existing is not None:
        raise ActionRefused(_already_open(existing))
    try:
        with transaction.atomic():
            reporting_year = ReportingYear.objects.create(year=year, due_date=due_date, opened_by=user)
            centres = list(reporting_centres(year).order_by("name", "pk"))
            summaries = AnnualSummary.objects.bulk_create(
                [AnnualSummary(centre=centre, reporting_year=reporting_year) for centre in centres]
            )
            recipients = lead_users_by_organisation(c.lead_unit_id for c in centres)
            for summary in summaries:
                notify(
                    recipients.get(summary.centre.lead_unit_id, []),
                    "summary_opened",
                    _context(summary),
                    link=edit_link(summary),
                )
    except IntegrityError:  # another member of staff opened the same year a moment ago
        existing = ReportingYear.objects.filter(year=year).first()
        if existing is None:
            raise
        raise ActionRefused(_already_open(existing)) from None
    return reporting_year


def _already_open(reporting_year: ReportingYear) -> str:
    return _("%(year)d年度的总结报送已经开启（截止日期%(due)s），不能重复开启。") % {
        "year": reporting_year.year,
        "due": reporting_year.due_date.isoformat(),
    }


# --- the lead unit's steps ---------------------------------------------------------------------------------


def _lock(summary: AnnualSummary) -> AnnualSummary:
    return (
        AnnualSummary.objects.select_for_update(of=("self",))
        .select_related("centre__lead_unit", "reporting_year")
        .get(pk=summary.pk)
    )


def _lock_editable(summary: AnnualSummary, user) -> AnnualSummary:
    """Lock the summary and check, on the locked row, that ``user`` may still change it."""
    locked = _lock(summary)
    if not user.has_perm("reports.edit_summary", locked):
        if user.has_perm("reports.my_summaries") and user.organisation_id == locked.centre.lead_unit_id:
            raise ActionRefused(
                _("该年度总结当前状态为“%(state)s”，不能修改。") % {"state": locked.get_state_display()}
            )
        raise ActionRefused(_("只有该创新中心的牵头单位可以填写和报送本年度总结。"))
    return locked


def save_summary(summary: AnnualSummary, user, form) -> AnnualSummary:
    """Save the draft (the bound, valid ``SummaryForm`` of ``summary``); only its own fields are written."""
    with transaction.atomic():
        _lock_editable(summary, user)
        instance = form.save(commit=False)
        instance.save(update_fields=[*form._meta.fields, "updated_at"])
    return instance


def submit_summary(summary: AnnualSummary, user) -> AnnualSummary:
    """报送: draft or returned → submitted; staff are told."""
    with transaction.atomic():
        locked = _lock_editable(summary, user)
        missing = missing_for_submission(locked)
        if missing:
            raise ActionRefused(_("以下内容尚未填写，暂不能报送："), details=missing)
        resubmitted = locked.state == State.RETURNED
        locked.state = State.SUBMITTED
        locked.submitted_at = timezone.now()
        locked.first_submitted_at = locked.first_submitted_at or locked.submitted_at
        locked.save(update_fields=["state", "submitted_at", "first_submitted_at", "updated_at"])
        notify(
            users_with_role(Role.COMMISSION_STAFF),
            "summary_submitted",
            _context(locked, resubmitted=resubmitted),
            link=review_link(locked),
        )
    return locked


def add_attachment(summary: AnnualSummary, user, upload) -> SummaryAttachment:
    """Store an attachment after checking it by content (PDF, JPG or PNG, the policy's size limit)."""
    from django.core.exceptions import ValidationError

    try:
        facts = inspect(upload, "other", Policy.current().attachment_max_mb)
    except ValidationError as error:
        raise ActionRefused(" ".join(error.messages)) from None
    with transaction.atomic():
        locked = _lock_editable(summary, user)
        attachment = SummaryAttachment(
            summary=locked,
            original_name=facts["original_name"],
            content_type=facts["content_type"],
            size=facts["size"],
        )
        attachment.file.save(facts["original_name"], upload, save=False)
        attachment.save()
        AnnualSummary.objects.filter(pk=locked.pk).update(updated_at=timezone.now())
    return attachment


def remove_attachment(attachment: SummaryAttachment, user) -> None:
    with transaction.atomic():
        _lock_editable(attachment.summary, user)
        name, storage = attachment.file.name, attachment.file.storage
        attachment.delete()
        transaction.on_commit(lambda: storage.delete(name))


# --- staff review ------------------------------------------------------------------------------------------


def _lock_for_review(summary: AnnualSummary, staff, action: str) -> AnnualSummary:
    locked = _lock(summary)
    if not staff.has_perm("reports.review_summary", locked):
        raise ActionRefused(_("只有市经济信息委工作人员可以审核年度总结。"))
    if locked.state != State.SUBMITTED:
        raise ActionRefused(
            _("该年度总结当前状态为“%(state)s”，不能%(action)s。请刷新页面后再操作。")
            % {"state": locked.get_state_display(), "action": action}
        )
    return locked


def accept_summary(summary: AnnualSummary, staff, comment: str = "") -> AnnualSummary:
    """受理: submitted → accepted; the lead unit is told."""
    with transaction.atomic():
        locked = _lock_for_review(summary, staff, _("受理"))
        locked.state = State.ACCEPTED
        locked.reviewed_by = staff
        locked.reviewed_at = timezone.now()
        locked.review_comment = comment.strip()
        locked.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_comment", "updated_at"])
        attach_accepted_summary(locked)
        notify(
            lead_unit_users(locked),
            "summary_accepted",
            _context(locked, comment=locked.review_comment),
            link=view_link(locked),
        )
    return locked


def return_summary(summary: AnnualSummary, staff, comment: str) -> AnnualSummary:
    """退回修改: submitted → returned with the comment the lead unit acts on; it may resubmit."""
    comment = (comment or "").strip()
    if not comment:
        raise ActionRefused(_("退回修改须写明修改意见。"))
    with transaction.atomic():
        locked = _lock_for_review(summary, staff, _("退回修改"))
        locked.state = State.RETURNED
        locked.reviewed_by = staff
        locked.reviewed_at = timezone.now()
        locked.review_comment = comment
        locked.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_comment", "updated_at"])
        notify(
            lead_unit_users(locked),
            "summary_returned",
            _context(locked, comment=comment),
            link=edit_link(locked),
        )
    return locked


# --- reminders (run daily by beat; idempotent) -------------------------------------------------------------


def remind_due(today: datetime.date | None = None) -> int:
    """Remind the lead units of summaries not yet submitted the policy's days before the due date
    (``Policy.summary_reminder_days``, default 30, 7 and 1).

    Each (summary, lead time) is reminded at most once, whatever the number of runs or workers: the
    ``SummaryReminder`` row and the notification are written together, and its unique constraint stops a
    second one. Returns the number of reminders sent.
    """
    today = today or timezone.localdate()
    sent = 0
    reminder_days = Policy.current().reminder_days
    horizon = today + datetime.timedelta(days=max(reminder_days))
    for reporting_year in ReportingYear.objects.filter(due_date__gte=today, due_date__lte=horizon):
        # The reminder due now is the closest lead time not yet passed; a day that beat missed is caught
        # up on the next run (once), never skipped.
        days_left = (reporting_year.due_date - today).days
        days = min(d for d in reminder_days if d >= days_left) if days_left <= max(reminder_days) else None
        if days is None:
            continue
        pending = list(
            reporting_year.summaries.exclude(state__in=DONE_STATES)
            .filter(owed_condition())
            .exclude(reminders__days_before=days)
            .select_related("centre", "reporting_year")
            .order_by("pk")
        )
        recipients = lead_users_by_organisation(s.centre.lead_unit_id for s in pending)
        for summary in pending:
            try:
                with transaction.atomic():
                    _, created = SummaryReminder.objects.get_or_create(summary=summary, days_before=days)
                    if not created:
                        continue
                    notify(
                        recipients.get(summary.centre.lead_unit_id, []),
                        "summary_reminder",
                        _context(summary, days_left=days_left),
                        link=edit_link(summary),
                    )
            except IntegrityError:  # another run recorded it first
                continue
            sent += 1
    return sent


def notify_overdue(today: datetime.date | None = None) -> int:
    """Beat (daily, with the reminders): tell each lead unit once when its summary becomes overdue, and staff
    in one digest per run listing the summaries that became overdue. Returns the number of lead-unit notices.

    ``overdue_notified_at`` is set by a guarded UPDATE, so a second run or a racing worker tells nobody again.
    """
    today = today or timezone.localdate()
    candidates = list(
        AnnualSummary.objects.filter(overdue_condition(today), overdue_notified_at__isnull=True)
        .select_related("centre", "reporting_year")
        .order_by("reporting_year__year", "centre__name", "pk")
    )
    recipients = lead_users_by_organisation(s.centre.lead_unit_id for s in candidates)
    told = []
    with transaction.atomic():
        for summary in candidates:
            claimed = AnnualSummary.objects.filter(pk=summary.pk, overdue_notified_at__isnull=True).update(
                overdue_notified_at=timezone.now()
            )
            if not claimed:
                continue
            notify(
                recipients.get(summary.centre.lead_unit_id, []),
                "summary_overdue",
                _context(summary),
                link=edit_link(summary),
            )
            told.append(summary)
        if told:
            notify(
                users_with_role(Role.COMMISSION_STAFF),
                "summary_overdue_digest",
                {"summaries": told, "count": len(told)},
                link=reverse("reports:years"),
            )
    return len(told)


# --- year on year ------------------------------------------------------------------------------------------


def _label(name: str):
    return AnnualSummary._meta.get_field(name).verbose_name


# (attribute, label, kind): kind "money" (万元, 2 places), "count", or "ratio" (percent, 1 place).
COMPARISON_ROWS = [
    ("revenue_total", gettext_lazy("收入合计（万元）"), "money"),
    ("revenue_transfer", _label("revenue_transfer"), "money"),
    ("revenue_incubation", _label("revenue_incubation"), "money"),
    ("revenue_contract_rd", _label("revenue_contract_rd"), "money"),
    ("revenue_testing", _label("revenue_testing"), "money"),
    ("revenue_public_service", _label("revenue_public_service"), "money"),
    ("total_cost", _label("total_cost"), "money"),
    ("rd_expense", _label("rd_expense"), "money"),
    ("rd_expense_ratio", gettext_lazy("研发经费占比（%）"), "ratio"),
    ("employees", _label("employees"), "count"),
    ("rd_staff", _label("rd_staff"), "count"),
    ("rd_staff_ratio", gettext_lazy("研发人员占比（%）"), "ratio"),
    ("projects_national", _label("projects_national"), "count"),
    ("projects_municipal", _label("projects_municipal"), "count"),
    ("patents_filed", _label("patents_filed"), "count"),
    ("patents_granted", _label("patents_granted"), "count"),
    ("standards_led", _label("standards_led"), "count"),
    ("standards_joined", _label("standards_joined"), "count"),
    ("technologies_transferred", _label("technologies_transferred"), "count"),
    ("firms_incubated", _label("firms_incubated"), "count"),
    ("talents_recruited", _label("talents_recruited"), "count"),
    ("members", _label("members"), "count"),
    ("platforms", _label("platforms"), "count"),
]


def comparison(centre, states=DONE_STATES, *, include_unfiled: bool = False) -> dict:
    """The centre's key figures year by year (oldest first), from its summaries in ``states``, in one query.

    Returns ``{"years": [2024, 2025, ...], "summaries": [...], "rows": [{"label", "kind", "values",
    "change"}]}`` where ``change`` is the last year's value minus the year before (None if fewer than two
    years or a ratio cannot be computed). With ``include_unfiled`` every year is a column, and the figures of
    a summary not filed (draft, returned) are None (shown blank), never zeros.
    """
    queryset = AnnualSummary.objects.filter(centre=centre).select_related("reporting_year")
    if not include_unfiled:
        queryset = queryset.filter(state__in=states)
    summaries = list(queryset.order_by("reporting_year__year"))
    rows = []
    for attribute, label, kind in COMPARISON_ROWS:
        values = [getattr(s, attribute) if s.state in states else None for s in summaries]
        change = None
        if len(values) >= 2 and values[-1] is not None and values[-2] is not None:
            change = values[-1] - values[-2]
        rows.append({"label": label, "kind": kind, "values": values, "change": change})
    return {"years": [s.reporting_year.year for s in summaries], "summaries": summaries, "rows": rows}

"""Long-overdue annual summaries: a centre whose summary is more than the policy's number of months
(``Policy.summary_overdue_months``) overdue is flagged for a staff decision — withdraw the title or not, with
a reason. Nothing here withdraws a title by itself."""

import calendar
import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Policy
from applications.services import ActionRefused
from centres import services as centre_services
from reports import assessment as assessments
from reports.models import AnnualSummary, OverdueDecision
from reports.summaries import overdue_condition


def months_before(day: datetime.date, months: int) -> datetime.date:
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cutoff(today: datetime.date, policy: Policy | None = None) -> datetime.date:
    """Summaries due before this day are more than the policy's months overdue on ``today``."""
    return months_before(today, (policy or Policy.current()).summary_overdue_months)


def flagged(today: datetime.date | None = None, district=None):
    """Unfiled summaries more than the policy's months overdue on which staff have not decided yet (one row
    per centre and year), with what the list shows."""
    today = today or timezone.localdate()
    queryset = (
        AnnualSummary.objects.filter(overdue_condition(today), reporting_year__due_date__lt=cutoff(today))
        .exclude(
            centre__overdue_decisions__reporting_year=F("reporting_year"),
        )
        .select_related("centre", "centre__lead_unit", "centre__field", "reporting_year")
        .order_by("reporting_year__due_date", "centre__name")
    )
    if district is not None:
        queryset = queryset.filter(centre__lead_unit__district=district)
    return queryset


def is_flagged(summary: AnnualSummary, today: datetime.date | None = None) -> bool:
    return flagged(today).filter(pk=summary.pk).exists()


def decide(summary: AnnualSummary, user, *, withdraw: bool, reason: str) -> OverdueDecision:
    """Record the staff's decision on a flagged summary's centre; withdrawing goes through the title
    withdrawal (which tells the lead unit and its district and closes what the centre owed)."""
    if not user.has_perm("reports.decide_overdue"):
        raise ActionRefused(_("只有市经济信息委工作人员可以作出该决定。"))
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused(_("请写明理由。"))
    with transaction.atomic():
        locked = (
            AnnualSummary.objects.select_for_update(of=("self",)).select_related("centre").get(pk=summary.pk)
        )
        if not is_flagged(locked):
            raise ActionRefused(_("该创新中心的年度总结已报送、已作出决定或尚未逾期到提请处理的期限。"))
        try:
            with transaction.atomic():
                decision = OverdueDecision.objects.create(
                    centre=locked.centre,
                    reporting_year=locked.reporting_year,
                    withdraw=withdraw,
                    reason=reason,
                    decided_by=user,
                )
        except IntegrityError:
            raise ActionRefused(_("已有工作人员对此作出决定，请刷新页面。")) from None
        year = locked.reporting_year.year
        if withdraw:
            assessments.withdraw_title(
                locked.centre,
                user,
                _("%(year)d年度工作总结逾期未报送：%(reason)s") % {"year": year, "reason": reason},
            )
        else:
            centre_services.add_event(
                locked.centre,
                "overdue_kept",
                user,
                _("%(year)d年度工作总结逾期未报送，决定不撤销称号：%(reason)s")
                % {"year": year, "reason": reason},
            )
    return decision

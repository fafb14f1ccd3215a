"""Staff enter a year's statutory holidays and make-up working days (调休上班) from the State Council's
notice, in one go, for years the ``chinese-calendar`` package does not know yet (``evaluation.workdays``)."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.services import ActionRefused
from evaluation import workdays
from evaluation.models import CalendarDay, CalendarYear

LONGEST_HOLIDAY_DAYS = 15


def year_status(year: int) -> dict:
    """What staff see for ``year``: built into the package, completely entered, entered with holidays
    missing, or not entered."""
    if workdays.package_knows(year):
        return {"year": year, "state": "builtin", "missing": (), "entry": None}
    entry = CalendarYear.objects.filter(year=year).select_related("entered_by").first()
    if entry is None:
        return {"year": year, "state": "unknown", "missing": workdays.HOLIDAYS, "entry": None}
    missing = workdays.declared_years([year])[year]
    return {
        "year": year,
        "state": "incomplete" if missing else "complete",
        "missing": missing,
        "entry": entry,
    }


def years_to_show(today: date | None = None) -> list[dict]:
    """This year, the next two and every year staff have entered, newest first."""
    today = today or timezone.localdate()
    years = {today.year, today.year + 1, today.year + 2}
    years |= set(CalendarYear.objects.values_list("year", flat=True))
    return [year_status(year) for year in sorted(years, reverse=True)]


def current_entries(year: int) -> dict:
    """The entered days of ``year`` per holiday: ``{name: {"first", "last", "makeup": [dates]}}``."""
    found: dict = {}
    for day in CalendarDay.objects.filter(date__year=year).order_by("date"):
        name = next((h for h in workdays.HOLIDAYS if day.name.startswith(h)), None)
        if name is None:
            continue
        slot = found.setdefault(name, {"first": None, "last": None, "makeup": []})
        if day.kind == CalendarDay.Kind.HOLIDAY:
            slot["first"] = slot["first"] or day.date
            slot["last"] = day.date
        else:
            slot["makeup"].append(day.date)
    return found


def enter_year(user, year: int, notice: str, holidays: dict, makeup: dict) -> CalendarYear:
    """Enter the whole notice for ``year``: for each of the seven statutory holidays its first and last day
    off (``holidays[name] = (first, last)``) and its make-up working days (``makeup[name] = [dates]``).
    Replaces what was entered for that year before; all or nothing."""
    if not user.has_perm("evaluation.manage_calendar"):
        raise ActionRefused(_("只有市经济信息委工作人员可以录入节假日安排。"))
    if workdays.package_knows(year):
        raise ActionRefused(
            _(
                "%(year)d年的节假日安排已内置于系统（chinese-calendar），无需录入；个别日期的更正请在后台逐日修改。"
            )
            % {"year": year}
        )
    notice = (notice or "").strip()
    problems = []
    if not notice:
        problems.append(_("请填写所依据的国务院办公厅通知文号。"))
    days_off: dict[date, str] = {}
    for name in workdays.HOLIDAYS:
        label = workdays.HOLIDAY_LABELS[name]
        first, last = holidays.get(name) or (None, None)
        if first is None or last is None:
            problems.append(_("请填写%(name)s的放假首日和末日。") % {"name": label})
            continue
        if last < first:
            problems.append(_("%(name)s的末日早于首日。") % {"name": label})
            continue
        if first.year != year or last.year != year:
            problems.append(_("%(name)s的放假日期应在%(year)d年内。") % {"name": label, "year": year})
            continue
        if (last - first).days + 1 > LONGEST_HOLIDAY_DAYS:
            problems.append(
                _("%(name)s放假超过%(n)d天，请核对日期。") % {"name": label, "n": LONGEST_HOLIDAY_DAYS}
            )
            continue
        day = first
        while day <= last:
            if day in days_off:
                problems.append(
                    _("%(day)s同时列在%(a)s和%(b)s中。")
                    % {"day": day.isoformat(), "a": workdays.HOLIDAY_LABELS[days_off[day]], "b": label}
                )
                break
            days_off[day] = name
            day += timedelta(days=1)
    working: dict[date, str] = {}
    for name in workdays.HOLIDAYS:
        label = workdays.HOLIDAY_LABELS[name]
        for day in makeup.get(name) or []:
            if day.year != year:
                problems.append(
                    _("%(name)s的调休上班日%(day)s不在%(year)d年内。")
                    % {"name": label, "day": day.isoformat(), "year": year}
                )
            elif day.weekday() < 5:
                problems.append(
                    _("%(name)s的调休上班日%(day)s不是周六或周日。") % {"name": label, "day": day.isoformat()}
                )
            elif day in days_off:
                problems.append(
                    _("%(name)s的调休上班日%(day)s在放假期间内。") % {"name": label, "day": day.isoformat()}
                )
            elif day in working:
                problems.append(_("调休上班日%(day)s填写了两次。") % {"day": day.isoformat()})
            else:
                working[day] = name
    if problems:
        raise ActionRefused(_("节假日安排未保存："), details=problems)
    with transaction.atomic():
        CalendarDay.objects.filter(date__year=year).delete()
        CalendarDay.objects.bulk_create(
            [
                CalendarDay(date=day, kind=CalendarDay.Kind.HOLIDAY, name=name, entered_by=user)
                for day, name in sorted(days_off.items())
            ]
            + [
                CalendarDay(date=day, kind=CalendarDay.Kind.MAKEUP_WORKDAY, name=name, entered_by=user)
                for day, name in sorted(working.items())
            ]
        )
        entry, _created = CalendarYear.objects.update_or_create(
            year=year, defaults={"notice": notice, "entered_by": user}
        )
    return entry

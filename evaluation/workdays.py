"""China's working-day calendar, for publicity periods (公示) and other deadlines counted in working days.

A day is decided, in this order:

1. a staff ``CalendarDay`` for that date (holiday or make-up working day) — for any year, so staff can
   also correct the package;
2. the ``chinese-calendar`` package, for the years it knows (working day = ``is_workday``, so make-up
   Saturdays and Sundays 调休 are working days);
3. for a year with a ``CalendarYear`` row (staff declare the year entered) *and* days entered for each of
   the seven statutory holidays (``HOLIDAYS``): Monday to Friday work, Saturday and Sunday rest;
4. otherwise the year is unknown (or incompletely entered) and ``UnknownCalendarYear`` is raised: a period
   is never guessed.

Days are China's calendar days, Asia/Shanghai, whatever the time zone active for the request.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from evaluation.models import CalendarDay, CalendarYear

CALENDAR_TZ = ZoneInfo("Asia/Shanghai")

# How many calendar days one query for staff entries covers beyond the working days asked for: enough
# for Spring Festival or National Day plus weekends, so a publicity period is loaded in one window.
_WINDOW_SLACK_DAYS = 31


# The seven statutory holidays of the State Council's yearly notice (全国年节及纪念日放假办法). A year the
# package does not know counts as known only when staff entered days for each of them.
HOLIDAYS = ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
HOLIDAY_LABELS = {
    "元旦": gettext_lazy("元旦"),
    "春节": gettext_lazy("春节"),
    "清明节": gettext_lazy("清明节"),
    "劳动节": gettext_lazy("劳动节"),
    "端午节": gettext_lazy("端午节"),
    "中秋节": gettext_lazy("中秋节"),
    "国庆节": gettext_lazy("国庆节"),
}


class UnknownCalendarYear(Exception):
    """The holidays and make-up working days of ``year`` are neither in the package nor completely entered
    by staff (``missing``: the statutory holidays still without days, when the year was declared)."""

    def __init__(self, year: int, missing: tuple[str, ...] = ()):
        self.year = year
        self.missing = tuple(missing)
        if self.missing:
            message = gettext(
                "%(year)s年的法定节假日尚未录入完整（缺少：%(missing)s），无法按工作日计算。"
                "请先在“节假日安排”中补全%(year)s年的安排。"
            ) % {"year": year, "missing": "、".join(str(HOLIDAY_LABELS[name]) for name in self.missing)}
        else:
            message = gettext(
                "尚未录入%(year)s年的法定节假日和调休安排，无法按工作日计算。"
                "请先在“节假日安排”中录入%(year)s年的安排。"
            ) % {"year": year}
        super().__init__(message)


def _holiday_entered(name: str):
    return Exists(
        CalendarDay.objects.filter(
            kind=CalendarDay.Kind.HOLIDAY, date__year=OuterRef("year"), name__startswith=name
        )
    )


def declared_years(years) -> dict[int, tuple[str, ...]]:
    """``{year: missing holidays}`` for the years among ``years`` that staff declared (one query); a year
    is known when its tuple is empty."""
    rows = CalendarYear.objects.filter(year__in=list(years)).annotate(
        **{f"h{n}": _holiday_entered(name) for n, name in enumerate(HOLIDAYS)}
    )
    return {
        row.year: tuple(name for n, name in enumerate(HOLIDAYS) if not getattr(row, f"h{n}")) for row in rows
    }


def package_knows(year: int) -> bool:
    """Whether the ``chinese-calendar`` package has the State Council's arrangements for ``year``."""
    return _package_knows(year)


@functools.cache
def _package_knows(year: int) -> bool:
    """Whether ``chinese-calendar`` has the State Council's arrangements for ``year`` (static per release)."""
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


class _Calendar:
    """One computation's view of the calendar: staff entries loaded by window, per-year facts cached."""

    def __init__(self):
        self._staff: dict[date, bool] = {}  # date -> is a working day
        self._loaded_from: date | None = None
        self._loaded_to: date | None = None  # inclusive
        self._declared: dict[int, tuple | None] = {}  # year -> missing holidays (None: not declared)

    def load(self, first: date, last: date) -> None:
        """Load staff entries for ``first``..``last`` (inclusive): one query, plus one for the declared
        years if the window touches a year the package does not know."""
        self._staff = {
            day: kind == CalendarDay.Kind.MAKEUP_WORKDAY
            for day, kind in CalendarDay.objects.filter(date__range=(first, last)).values_list("date", "kind")
        }
        self._loaded_from, self._loaded_to = first, last
        years = [
            year
            for year in range(first.year, last.year + 1)
            if not _package_knows(year) and year not in self._declared
        ]
        if years:
            declared = declared_years(years)
            self._declared.update({year: declared.get(year) for year in years})

    def covers(self, day: date) -> bool:
        return self._loaded_from is not None and self._loaded_from <= day <= self._loaded_to

    def is_working_day(self, day: date) -> bool:
        staff = self._staff.get(day)
        if staff is not None:
            return staff
        if _package_knows(day.year):
            return chinese_calendar.is_workday(day)
        missing = self._declared.get(day.year)
        if missing == ():
            return day.weekday() < 5
        raise UnknownCalendarYear(day.year, missing or ())


def _plain_date(value, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a datetime.date (not a datetime), got {type(value).__name__}")
    return value


def _window_end(first: date, days: int) -> date:
    try:
        return first + timedelta(days=days - 1)
    except OverflowError:
        return date.max


def is_working_day(d: date) -> bool:
    """Whether ``d`` is a working day in China. Raises ``UnknownCalendarYear`` if its year is unknown."""
    d = _plain_date(d, "d")
    calendar = _Calendar()
    calendar.load(d, d)
    return calendar.is_working_day(d)


def add_working_days(start: datetime, n: int) -> datetime:
    """The end of a period of ``n`` working days starting at ``start`` (e.g. a publicity period).

    ``start`` must be timezone-aware; its Asia/Shanghai date counts as day 1 if it is a working day
    (whatever the hour), otherwise counting begins with the next working day. Returns the end of the
    ``n``-th working day, 23:59:59.999999 Asia/Shanghai, as an aware datetime. Raises ``ValueError``
    for a naive ``start`` or ``n < 1``, and ``UnknownCalendarYear`` as soon as a day of a year that is
    neither in the package nor declared by staff is needed.
    """
    if not isinstance(start, datetime):
        raise TypeError(f"start must be a datetime, got {type(start).__name__}")
    if timezone.is_naive(start):
        raise ValueError("start must be a timezone-aware datetime")
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError("n must be at least 1 working day")

    day = timezone.localtime(start, CALENDAR_TZ).date()
    window = 2 * n + _WINDOW_SLACK_DAYS
    calendar = _Calendar()
    counted = 0
    while True:
        if not calendar.covers(day):
            calendar.load(day, _window_end(day, window))
        if calendar.is_working_day(day):
            counted += 1
            if counted == n:
                return datetime.combine(day, time.max, tzinfo=CALENDAR_TZ)
        day += timedelta(days=1)


def working_days_between(start: date, end: date) -> int:
    """How many working days ``start``..``end`` holds, both included (0 if ``end`` is before ``start``).

    Raises ``UnknownCalendarYear`` if a day in the range belongs to an unknown year.
    """
    start = _plain_date(start, "start")
    end = _plain_date(end, "end")
    if end < start:
        return 0
    calendar = _Calendar()
    calendar.load(start, end)
    count = 0
    day = start
    while day <= end:
        count += calendar.is_working_day(day)
        day += timedelta(days=1)
    return count

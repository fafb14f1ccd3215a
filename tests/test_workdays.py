"""The working-day calendar for publicity periods (公示).

Every expected date is counted by hand from the State Council's notices for 2025 and 2026, as the
``chinese-calendar`` package records them (``test_package_facts_the_hand_counts_rely_on`` pins them):
- National Day / Mid-Autumn 2025: 1-8 October off; make-up working days Sun 28 September, Sat 11 October.
- Spring Festival 2026: 15-23 February off; make-up working days Sat 14 February, Sat 28 February.
- Dragon Boat 2025 (31 May - 2 June) is over before the plain June 2025 weeks used below.
2027 is not in the package (its notice was not issued when the package was released).
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.urls import reverse
from django.utils import timezone, translation

from evaluation.models import CalendarDay, CalendarYear
from evaluation.workdays import (
    UnknownCalendarYear,
    add_working_days,
    is_working_day,
    working_days_between,
)
from tests.factories import enter_statutory_holidays, user_with_role

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")


def at(year, month, day, hour=10, minute=0, tz=SHANGHAI):
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def end_of(year, month, day):
    return datetime.combine(date(year, month, day), time.max, tzinfo=SHANGHAI)


def test_package_facts_the_hand_counts_rely_on():
    detail = chinese_calendar.get_holiday_detail
    # National Day 2025: make-up Sunday before, eight days off, make-up Saturday after.
    assert detail(date(2025, 9, 28)) == (False, "National Day")
    assert date(2025, 9, 28).weekday() == 6
    assert all(detail(date(2025, 10, d))[0] for d in range(1, 9))  # 6 Oct is Mid-Autumn itself
    assert chinese_calendar.is_workday(date(2025, 9, 30))
    assert chinese_calendar.is_workday(date(2025, 10, 9))
    assert detail(date(2025, 10, 11)) == (False, "National Day")
    assert date(2025, 10, 11).weekday() == 5
    # Spring Festival 2026: make-up Saturdays 14 and 28 February, nine days off 15-23 February.
    assert detail(date(2026, 2, 14)) == (False, "Spring Festival")
    assert detail(date(2026, 2, 28)) == (False, "Spring Festival")
    assert all(detail(date(2026, 2, d)) == (True, "Spring Festival") for d in range(15, 24))
    assert chinese_calendar.is_workday(date(2026, 2, 24))
    # Plain weeks of June 2025 and late December 2026.
    for d in [*range(9, 14), *range(16, 21)]:
        assert detail(date(2025, 6, d)) == (False, None)
    for d in range(28, 32):
        assert detail(date(2026, 12, d)) == (False, None)
    # The package stops at 2026.
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))


@pytest.mark.django_db
def test_a_plain_week():
    # Mon 9 June 2025 .. Fri 13 June 2025.
    assert add_working_days(at(2025, 6, 9), 5) == end_of(2025, 6, 13)


@pytest.mark.django_db
def test_a_period_spanning_a_weekend():
    # Wed 11, Thu 12, Fri 13, (Sat 14, Sun 15), Mon 16, Tue 17 June 2025.
    assert add_working_days(at(2025, 6, 11), 5) == end_of(2025, 6, 17)


@pytest.mark.django_db
def test_a_period_spanning_national_day_2025():
    # Mon 29, Tue 30 Sep, (1-8 Oct off), Thu 9, Fri 10, Sat 11 Oct (make-up working day).
    assert add_working_days(at(2025, 9, 29), 5) == end_of(2025, 10, 11)
    # Thu 25, Fri 26, (Sat 27), Sun 28 (make-up), Mon 29, Tue 30 Sep.
    assert add_working_days(at(2025, 9, 25), 5) == end_of(2025, 9, 30)


@pytest.mark.django_db
def test_a_period_spanning_spring_festival_2026():
    # Thu 12, Fri 13, Sat 14 Feb (make-up), (15-23 Feb off), Tue 24, Wed 25 Feb 2026.
    assert add_working_days(at(2026, 2, 12), 5) == end_of(2026, 2, 25)


@pytest.mark.django_db
def test_make_up_weekend_days_are_working_days():
    for day in [date(2025, 9, 28), date(2025, 10, 11), date(2026, 2, 14), date(2026, 2, 28)]:
        assert day.weekday() >= 5
        assert is_working_day(day)
    assert not is_working_day(date(2025, 10, 12))  # an ordinary Sunday
    # A publicity period starting on the make-up Saturday 28 Feb 2026 counts it as day 1:
    # Sat 28 Feb, (Sun 1 Mar), Mon 2, Tue 3, Wed 4, Thu 5 Mar.
    assert add_working_days(at(2026, 2, 28), 5) == end_of(2026, 3, 5)


@pytest.mark.django_db
def test_a_start_on_a_non_working_day_does_not_count_as_day_one():
    # Sat 14 June 2025: Mon 16 .. Fri 20 June.
    assert add_working_days(at(2025, 6, 14), 5) == end_of(2025, 6, 20)
    # National Day itself: Thu 9, Fri 10, Sat 11 (make-up), Mon 13, Tue 14 Oct 2025.
    assert add_working_days(at(2025, 10, 1), 5) == end_of(2025, 10, 14)
    # First day of the Spring Festival break 2026: Tue 24 .. Fri 27, Sat 28 Feb (make-up).
    assert add_working_days(at(2026, 2, 15), 5) == end_of(2026, 2, 28)


@pytest.mark.django_db
def test_a_late_evening_start_still_counts_that_working_day():
    # Fri 13 June 2025 at 23:30: Fri 13, Mon 16, Tue 17, Wed 18, Thu 19.
    assert add_working_days(at(2025, 6, 13, 23, 30), 5) == end_of(2025, 6, 19)
    # The same instant given in UTC (15:30 UTC) is the same Shanghai day.
    assert add_working_days(at(2025, 6, 13, 15, 30, tz=UTC), 5) == end_of(2025, 6, 19)
    # 16:30 UTC on Friday is already 00:30 on Saturday in Shanghai: counting starts Monday.
    assert add_working_days(at(2025, 6, 13, 16, 30, tz=UTC), 5) == end_of(2025, 6, 20)


@pytest.mark.django_db
def test_the_end_is_the_last_instant_of_the_day_in_shanghai():
    with timezone.override(UTC):  # whatever zone the request has activated
        end = add_working_days(at(2025, 6, 9, tz=UTC), 5)
    assert end.tzinfo == SHANGHAI
    assert end.utcoffset() == timedelta(hours=8)
    assert (end.date(), end.time()) == (date(2025, 6, 13), time(23, 59, 59, 999999))
    assert end.astimezone(UTC) == datetime(2025, 6, 13, 15, 59, 59, 999999, tzinfo=UTC)
    assert timezone.is_aware(end)


@pytest.mark.django_db
def test_one_working_day():
    assert add_working_days(at(2025, 6, 9, 0, 0), 1) == end_of(2025, 6, 9)
    assert add_working_days(at(2025, 6, 14), 1) == end_of(2025, 6, 16)


@pytest.mark.django_db
def test_a_period_reaching_into_2027_is_refused_naming_the_year():
    # Mon 28 .. Thu 31 Dec 2026 are four working days; the fifth would be in 2027.
    assert add_working_days(at(2026, 12, 28), 4) == end_of(2026, 12, 31)
    with pytest.raises(UnknownCalendarYear) as excinfo:
        add_working_days(at(2026, 12, 28), 5)
    assert excinfo.value.year == 2027
    message = str(excinfo.value)
    assert "2027年" in message
    assert "节假日安排" in message
    with pytest.raises(UnknownCalendarYear):
        is_working_day(date(2027, 3, 1))
    with pytest.raises(UnknownCalendarYear):
        working_days_between(date(2026, 12, 28), date(2027, 1, 8))


@pytest.mark.django_db
def test_staff_days_alone_do_not_make_a_year_known():
    CalendarDay.objects.create(date=date(2027, 1, 1), kind=CalendarDay.Kind.HOLIDAY, name="元旦")
    assert not is_working_day(date(2027, 1, 1))  # the entered day itself is decided
    # Thu 31 Dec 2026 is day 1; Fri 1 Jan 2027 is a holiday; Sat 2 Jan is not entered and 2027 is not
    # declared complete, so it cannot be decided.
    with pytest.raises(UnknownCalendarYear) as excinfo:
        add_working_days(at(2026, 12, 31), 2)
    assert excinfo.value.year == 2027


@pytest.mark.django_db
def test_once_staff_enter_2027_the_period_is_counted_with_their_days(django_user_model):
    staff = django_user_model.objects.create(username="calendar-staff")
    # Hypothetical arrangement (the 2027 notice is not in the package): Fri 1 Jan holiday, and
    # Sat 9 Jan a make-up working day.
    CalendarYear.objects.create(year=2027, notice="国办发明电〔2026〕99号", entered_by=staff)
    CalendarDay.objects.create(
        date=date(2027, 1, 1), kind=CalendarDay.Kind.HOLIDAY, name="元旦", entered_by=staff
    )
    CalendarDay.objects.create(
        date=date(2027, 1, 9), kind=CalendarDay.Kind.MAKEUP_WORKDAY, name="元旦", entered_by=staff
    )
    enter_statutory_holidays(2027, skip=["元旦"])  # the other six, on Saturdays from February on
    # Mon 28 .. Thu 31 Dec 2026, (Fri 1 Jan holiday, Sat 2, Sun 3), Mon 4 Jan 2027.
    assert add_working_days(at(2026, 12, 28), 5) == end_of(2027, 1, 4)
    # ... Tue 5, Wed 6, Thu 7, Fri 8, Sat 9 Jan (make-up).
    assert add_working_days(at(2026, 12, 28), 10) == end_of(2027, 1, 9)
    assert not is_working_day(date(2027, 1, 1))
    assert not is_working_day(date(2027, 1, 2))
    assert is_working_day(date(2027, 1, 9))
    assert not is_working_day(date(2027, 1, 10))
    assert is_working_day(date(2027, 3, 1))
    assert working_days_between(date(2026, 12, 28), date(2027, 1, 10)) == 10


@pytest.mark.django_db
def test_a_staff_day_overrides_the_package():
    # The package has Fri 19 June 2026 as Dragon Boat holiday and Thu 18 June as a working day.
    assert not chinese_calendar.is_workday(date(2026, 6, 19))
    assert chinese_calendar.is_workday(date(2026, 6, 18))
    assert add_working_days(at(2026, 6, 15), 5) == end_of(2026, 6, 22)  # Mon 15-Thu 18, Mon 22
    CalendarDay.objects.create(
        date=date(2026, 6, 19), kind=CalendarDay.Kind.MAKEUP_WORKDAY, name="端午节（更正）"
    )
    CalendarDay.objects.create(date=date(2026, 6, 18), kind=CalendarDay.Kind.HOLIDAY, name="端午节（更正）")
    assert is_working_day(date(2026, 6, 19))
    assert not is_working_day(date(2026, 6, 18))
    # Mon 15, Tue 16, Wed 17, (Thu 18 now a holiday), Fri 19, (Sat 20, Sun 21), Mon 22.
    assert add_working_days(at(2026, 6, 15), 5) == end_of(2026, 6, 22)
    # Mon 15, Tue 16, Wed 17, Fri 19: four days now end on Friday rather than Monday.
    assert add_working_days(at(2026, 6, 15), 4) == end_of(2026, 6, 19)
    assert working_days_between(date(2026, 6, 15), date(2026, 6, 21)) == 4


@pytest.mark.django_db
def test_working_days_between_counts_both_ends():
    assert working_days_between(date(2025, 10, 1), date(2025, 10, 8)) == 0
    # Sun 28, Mon 29, Tue 30 Sep; Thu 9, Fri 10, Sat 11 Oct.
    assert working_days_between(date(2025, 9, 28), date(2025, 10, 11)) == 6
    # February 2026: 2-6, 9-13, Sat 14, 24-27, Sat 28.
    assert working_days_between(date(2026, 2, 1), date(2026, 2, 28)) == 16
    assert working_days_between(date(2025, 6, 9), date(2025, 6, 9)) == 1
    assert working_days_between(date(2025, 6, 14), date(2025, 6, 14)) == 0
    assert working_days_between(date(2025, 6, 13), date(2025, 6, 9)) == 0


@pytest.mark.parametrize("n", [0, -1])
def test_n_must_be_at_least_one(n):
    with pytest.raises(ValueError):
        add_working_days(at(2025, 6, 9), n)


def test_a_naive_start_is_refused():
    naive = datetime(2025, 6, 9, 10, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError):
        add_working_days(naive, 5)


def test_dates_and_datetimes_are_not_confused():
    with pytest.raises(TypeError):
        add_working_days(date(2025, 6, 9), 5)
    with pytest.raises(TypeError):
        is_working_day(at(2025, 6, 9))


@pytest.mark.django_db
def test_thirty_working_days_cost_one_query(django_assert_num_queries):
    # From Mon 15 Sep 2025, across National Day: 15-19, 22-26 Sep (10), Sun 28, 29, 30 (13),
    # Thu 9, Fri 10, Sat 11 Oct (16), 13-17 (21), 20-24 (26), 27-30 Oct (30).
    with django_assert_num_queries(1):
        assert add_working_days(at(2025, 9, 15), 30) == end_of(2025, 10, 30)
    with django_assert_num_queries(1):
        add_working_days(at(2025, 1, 2), 240)


@pytest.mark.django_db
def test_a_span_into_a_staff_entered_year_costs_two_queries(django_assert_max_num_queries):
    CalendarYear.objects.create(year=2027, notice="国办发明电〔2026〕99号")
    CalendarDay.objects.create(date=date(2027, 1, 1), kind=CalendarDay.Kind.HOLIDAY, name="元旦")
    enter_statutory_holidays(2027, skip=["元旦"])
    with django_assert_max_num_queries(2):
        # Thu 3 Dec 2026: 3-4, 7-11, 14-18, 21-25, 28-31 Dec (21), (Fri 1 Jan 2027 holiday),
        # 4-8 Jan (26), Mon 11, Tue 12, Wed 13, Thu 14 Jan 2027 (30).
        assert add_working_days(at(2026, 12, 3), 30) == end_of(2027, 1, 14)


@pytest.mark.django_db
def test_the_admin_records_who_entered_a_year_and_a_day(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:evaluation_calendaryear_add"), {"year": 2027, "notice": "国办发明电〔2026〕99号"}
    )
    assert response.status_code == 302
    assert CalendarYear.objects.get(year=2027).entered_by == admin_user
    response = admin_client.post(
        reverse("admin:evaluation_calendarday_add"),
        {"date": "2027-01-01", "kind": CalendarDay.Kind.HOLIDAY, "name": "元旦"},
    )
    assert response.status_code == 302
    assert CalendarDay.objects.get(date=date(2027, 1, 1)).entered_by == admin_user
    for name in ["admin:evaluation_calendaryear_changelist", "admin:evaluation_calendarday_changelist"]:
        for q in ["2027", "元旦", "not-a-year"]:
            assert admin_client.get(reverse(name), {"q": q}).status_code == 200


def test_the_message_is_translatable():
    with translation.override("zh-hans"):
        assert str(UnknownCalendarYear(2027)) == (
            "尚未录入2027年的法定节假日和调休安排，无法按工作日计算。请先在“节假日安排”中录入2027年的安排。"
        )


# --- a year counts as known only with all seven statutory holidays (issue 15, item 7) --------------------


@pytest.mark.django_db
def test_a_year_declared_without_its_holidays_is_refused_naming_what_is_missing():
    # Declaring 2027 with no days used to make 28 Dec 2026 + 5 working days end on Fri 1 Jan 2027.
    CalendarYear.objects.create(year=2027, notice="国办发明电〔2026〕99号")
    with pytest.raises(UnknownCalendarYear) as excinfo:
        add_working_days(at(2026, 12, 28), 5)
    assert excinfo.value.year == 2027
    assert excinfo.value.missing == ("元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节")
    assert "缺少：元旦、春节、清明节、劳动节、端午节、中秋节、国庆节" in str(excinfo.value)
    enter_statutory_holidays(2027, skip=["国庆节"])  # six of seven
    with pytest.raises(UnknownCalendarYear) as excinfo:
        add_working_days(at(2026, 12, 28), 5)
    assert excinfo.value.missing == ("国庆节",)
    with pytest.raises(UnknownCalendarYear):
        is_working_day(date(2027, 3, 1))
    enter_statutory_holidays(2027)
    assert add_working_days(at(2026, 12, 28), 5) == end_of(2027, 1, 1)  # as entered: Jan 1 not off here
    with translation.override("en"):
        assert "National Day" in str(UnknownCalendarYear(2027, ("国庆节",)))


def _notice_2027(**changes) -> dict:
    """The form of a hypothetical 2027 notice (not the State Council's: the test's own dates)."""
    data = {
        "notice": "国办发明电〔2026〕99号",
        "h0_first": "2027-01-01", "h0_last": "2027-01-03", "h0_makeup": "",
        "h1_first": "2027-02-06", "h1_last": "2027-02-13", "h1_makeup": "2027-01-31, 2027-02-20",
        "h2_first": "2027-04-03", "h2_last": "2027-04-05", "h2_makeup": "",
        "h3_first": "2027-05-01", "h3_last": "2027-05-05", "h3_makeup": "2027-04-25",
        "h4_first": "2027-06-09", "h4_last": "2027-06-11", "h4_makeup": "",
        "h5_first": "2027-09-15", "h5_last": "2027-09-17", "h5_makeup": "",
        "h6_first": "2027-10-01", "h6_last": "2027-10-07", "h6_makeup": "2027-09-26 2027-10-09",
    }  # fmt: skip
    return {**data, **changes}


@pytest.mark.django_db
def test_staff_enter_a_whole_year_in_one_form_and_see_what_is_missing(client):
    from accounts.roles import Role

    staff = user_with_role(Role.COMMISSION_STAFF)
    client.force_login(staff)
    listing = client.get(reverse("evaluation:calendar"))
    assert listing.status_code == 200
    assert "未录入" in listing.content.decode()
    # a year declared in the admin with one holiday: the page names the six missing
    CalendarYear.objects.create(year=2028, notice="国办发明电〔2027〕1号")
    CalendarDay.objects.create(date=date(2028, 1, 1), kind=CalendarDay.Kind.HOLIDAY, name="元旦")
    page = client.get(reverse("evaluation:calendar")).content.decode()
    assert "缺少：春节、清明节、劳动节、端午节、中秋节、国庆节" in page

    url = reverse("evaluation:calendar_year", args=[2027])
    assert client.get(url).status_code == 200
    response = client.post(url, _notice_2027())
    assert response.status_code == 302
    assert CalendarYear.objects.get(year=2027).entered_by == staff
    holidays = CalendarDay.objects.filter(date__year=2027, kind=CalendarDay.Kind.HOLIDAY)
    assert holidays.count() == 3 + 8 + 3 + 5 + 3 + 3 + 7
    assert set(holidays.values_list("name", flat=True)) == {
        "元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"
    }  # fmt: skip
    assert sorted(
        CalendarDay.objects.filter(kind=CalendarDay.Kind.MAKEUP_WORKDAY).values_list("date", flat=True)
    ) == [date(2027, 1, 31), date(2027, 2, 20), date(2027, 4, 25), date(2027, 9, 26), date(2027, 10, 9)]
    # Mon 28 .. Thu 31 Dec 2026, (1-3 Jan off), Mon 4 Jan 2027
    assert add_working_days(at(2026, 12, 28), 5) == end_of(2027, 1, 4)
    assert is_working_day(date(2027, 1, 31))  # a make-up Sunday
    assert not is_working_day(date(2027, 2, 8))  # Spring Festival Monday
    page = client.get(reverse("evaluation:calendar")).content.decode()
    assert "已录入完整" in page and "国办发明电〔2026〕99号" in page
    # the form shows what was entered, and saving it again changes nothing
    form = client.get(url).content.decode()
    assert 'value="2027-02-06"' in form and "2027-01-31 2027-02-20" in form
    assert client.post(url, _notice_2027()).status_code == 302
    assert CalendarDay.objects.filter(date__year=2027).count() == 32 + 5


@pytest.mark.django_db
def test_a_wrong_notice_is_refused_whole_and_keeps_what_was_typed(client):
    from accounts.roles import Role

    client.force_login(user_with_role(Role.COMMISSION_STAFF))
    url = reverse("evaluation:calendar_year", args=[2027])
    response = client.post(
        url,
        _notice_2027(
            h5_first="", h5_last="", h3_makeup="2027-04-26", h6_makeup="2027-10-03", h2_last="2027-04-01"
        ),
    )
    assert response.status_code == 200
    page = response.content.decode()
    for message in ("请填写中秋节的放假首日和末日", "劳动节的调休上班日2027-04-26不是周六或周日",
                    "国庆节的调休上班日2027-10-03在放假期间内", "清明节的末日早于首日"):  # fmt: skip
        assert message in page
    assert 'value="2027-02-06"' in page  # what was typed is kept
    assert not CalendarYear.objects.exists() and not CalendarDay.objects.exists()
    bad = client.post(url, _notice_2027(h1_makeup="2027-02-30"))
    assert bad.status_code == 200 and "“2027-02-30”不是日期" in bad.content.decode()
    assert not CalendarDay.objects.exists()


@pytest.mark.django_db
def test_only_commission_staff_enter_holidays_and_built_in_years_are_not_entered(client):
    from accounts.roles import Role
    from applications.services import ActionRefused
    from evaluation import holidays

    client.force_login(user_with_role(Role.LEAD_UNIT))
    assert client.get(reverse("evaluation:calendar")).status_code == 403
    assert client.post(reverse("evaluation:calendar_year", args=[2027]), _notice_2027()).status_code == 403
    assert not CalendarDay.objects.exists()
    staff = user_with_role(Role.COMMISSION_STAFF)
    client.force_login(staff)
    for year in (2026, 0, 1999, 99999):  # built in, or no year the portal could count in
        assert client.get(reverse("evaluation:calendar_year", args=[year])).status_code == 404
    with pytest.raises(ActionRefused):
        holidays.enter_year(staff, 2026, "x", {}, {})

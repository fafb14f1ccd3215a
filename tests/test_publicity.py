"""公示 and what follows (evaluation.publicity): the period in working days, the public pages and real-name
objections, staff resolving them, the deadline sweep (also two at once, and the management command),
approval (批复) and award (授牌) creating the centre, and the public directory.

Applications reach each stage through the real services (``tests.factories``); only the end of a period
is moved into the past by a queryset update (``expire_announcement``), as if the days had passed.

Working days are counted by hand from the State Council's notices as the ``chinese-calendar`` package
records them (``test_calendar_facts_the_hand_counts_rely_on`` checks them against the package):
- National Day / Mid-Autumn 2025: 1-8 October off; make-up working days Sun 28 September, Sat 11 October.
- New Year 2026: 1-3 January (Thu-Sat) off; make-up working day Sun 4 January.
- Spring Festival 2026: 15-23 February off; make-up working days Sat 14 February, Sat 28 February.
- 2027 is not in the package (chinesecalendar 1.11).
"""

import io
import itertools
import re
import threading
import uuid
from contextlib import suppress
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import time_machine
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from accounts import stash
from accounts.models import AuditEvent, Notification
from accounts.roles import Role
from accounts.security import mask_id_number, mask_phone
from applications.models import Application, ApplicationEvent, Field, Policy, Status
from applications.services import ActionRefused
from centres.models import Centre
from config import public_cache
from evaluation import comprehensive, publicity, workflow
from evaluation.models import (
    Announcement,
    AnnouncementEntry,
    Approval,
    CalendarDay,
    CalendarYear,
    Objection,
    ObjectionFile,
)
from tests.factories import (
    ANNOUNCEMENT_CONTACTS,
    PDF_BYTES,
    TEST_PASSWORD,
    ApplicationFactory,
    application_approved,
    application_in_leadership_approved,
    application_in_publicity,
    applications_in_expired_publicity,
    declare_unknown_years,
    enter_statutory_holidays,
    expire_announcement,
    open_announcement,
    policy_version,
    user_with_role,
    valid_id_number,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = ZoneInfo("UTC")
ID_NUMBER = valid_id_number("50010219900307123")
WRONG_CHECK = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")  # the same with a wrong check character
SCRIPT = "<script>alert(1)</script>"


def at(year, month, day, hour=10, minute=0, tz=SHANGHAI):
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def end_of(year, month, day):
    """The end of a working day in China: 23:59:59.999999 Asia/Shanghai."""
    return datetime.combine(date(year, month, day), time.max, tzinfo=SHANGHAI)


def open_at(staff, applications, starts_at, **kwargs) -> Announcement:
    """Open an announcement as staff would have at the moment it starts: the clock travels to ``starts_at``
    for the call (a period may not start in the past), so working days can be counted from any date."""
    with time_machine.travel(starts_at, tick=False):
        return open_announcement(staff, applications, starts_at=starts_at, **kwargs)


def reload(application) -> Application:
    return Application.objects.get(pk=application.pk)


def events(application, action=None) -> list[ApplicationEvent]:
    queryset = ApplicationEvent.objects.filter(application_id=application.pk).order_by("pk")
    return list(queryset.filter(action=action) if action else queryset)


@pytest.fixture(autouse=True)
def _own_cache_keys(settings):
    """Other people run the suite on this machine at the same time against the same Redis database: keys
    of this test's own keep their objections out of this test's rate limit and upload stash."""
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "KEY_PREFIX": f"cqmic-test-{uuid.uuid4().hex}"}
    }


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


_ips = itertools.count()


def new_ip() -> str:
    """A client address no other test of this run uses."""
    n = next(_ips)
    return f"10.77.{n // 250 % 250}.{n % 250 + 1}"


def evidence_file(name="证据.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def person_objection(entry, **changes) -> dict:
    """The POST of the public objection form for a person (real name, valid ID number, evidence); a change
    to None leaves that field out."""
    data = {
        "stash": "",
        "entry": entry.pk,
        "kind": Objection.Kind.PERSON,
        "name": "王异议",
        "id_number": ID_NUMBER,
        "contact_person": "",
        "phone": "13800001234",
        "statement": "该单位申报的研发人员数量与实际不符。",
        "evidence": evidence_file(),
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def organisation_objection(entry, letter=True, **changes) -> dict:
    data = person_objection(
        entry,
        kind=Objection.Kind.ORGANISATION,
        name="重庆某同行企业有限公司",
        id_number="",
        contact_person="赵联系",
        evidence=None,
    )
    if letter:
        data["sealed_letter"] = SimpleUploadedFile("异议书.pdf", PDF_BYTES, content_type="application/pdf")
    data.update(changes)
    return data


def lodge(entry, **changes) -> Objection:
    """An objection lodged through the service (as the public page does after validating the form)."""
    values = {
        "kind": Objection.Kind.PERSON,
        "name": "王异议",
        "phone": "13800001234",
        "statement": "该单位申报的研发人员数量与实际不符。",
        "id_number": ID_NUMBER,
        "ip": "198.51.100.200",
    }
    values.update(changes)
    if values["kind"] == Objection.Kind.PERSON and "files" not in changes:
        values["files"] = [(ObjectionFile.Kind.EVIDENCE, evidence_file())]
    return publicity.lodge_objection(entry, **values)


def detail_url(announcement) -> str:
    return reverse("announcements:detail", args=[announcement.pk])


def staff_with_password_confirmed(client, user):
    """Sign ``user`` in and re-enter the password, as the objections page (personal data) asks."""
    client.force_login(user)
    response = client.post(reverse("accounts:reauth"), {"password": TEST_PASSWORD, "next": "/"})
    assert response.status_code == 302, response.content.decode()


# --- the period, in working days ----------------------------------------------------------------------------


def test_calendar_facts_the_hand_counts_rely_on():
    detail = chinese_calendar.get_holiday_detail
    workday = chinese_calendar.is_workday
    # National Day 2025: make-up Sun 28 Sep, off 1-8 Oct, make-up Sat 11 Oct.
    assert date(2025, 9, 28).weekday() == 6 and detail(date(2025, 9, 28)) == (False, "National Day")
    assert all(detail(date(2025, 10, d))[0] for d in range(1, 9))
    assert workday(date(2025, 9, 26)) and not workday(date(2025, 9, 27))
    assert workday(date(2025, 9, 29)) and workday(date(2025, 9, 30))
    assert workday(date(2025, 10, 9)) and workday(date(2025, 10, 10))
    assert date(2025, 10, 11).weekday() == 5 and detail(date(2025, 10, 11)) == (False, "National Day")
    assert not workday(date(2025, 10, 12)) and workday(date(2025, 10, 13)) and workday(date(2025, 10, 14))
    # New Year 2026: off Thu 1 - Sat 3 Jan, make-up Sun 4 Jan.
    assert all(workday(date(2025, 12, d)) for d in (29, 30, 31))
    assert all(detail(date(2026, 1, d)) == (True, "New Year's Day") for d in (1, 2, 3))
    assert date(2026, 1, 4).weekday() == 6 and detail(date(2026, 1, 4)) == (False, "New Year's Day")
    assert all(workday(date(2026, 1, d)) for d in (5, 6, 7))
    # Spring Festival 2026: make-up Sat 14 Feb, off 15-23 Feb, make-up Sat 28 Feb.
    assert workday(date(2026, 2, 12)) and workday(date(2026, 2, 13))
    assert date(2026, 2, 14).weekday() == 5 and detail(date(2026, 2, 14)) == (False, "Spring Festival")
    assert all(detail(date(2026, 2, d)) == (True, "Spring Festival") for d in range(15, 24))
    assert all(workday(date(2026, 2, d)) for d in range(24, 28))
    assert date(2026, 2, 28).weekday() == 5 and detail(date(2026, 2, 28)) == (False, "Spring Festival")
    # Late December 2026 is plain; 2027 is unknown to the package.
    assert all(detail(date(2026, 12, d)) == (False, None) for d in (28, 29, 30, 31))
    with pytest.raises(NotImplementedError):
        workday(date(2027, 1, 1))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("starts_at", "expected"),
    [
        # Fri 26 Sep (1), Sat 27 rest, Sun 28 make-up (2), Mon 29 (3), Tue 30 (4), 1-8 Oct off, Thu 9 Oct (5).
        pytest.param(at(2025, 9, 26, 16, 30), end_of(2025, 10, 9), id="national-day-from-friday"),
        # Sat 27 Sep rest, Sun 28 (1), Mon 29 (2), Tue 30 (3), 1-8 Oct off, Thu 9 (4), Fri 10 Oct (5).
        pytest.param(at(2025, 9, 27, 9), end_of(2025, 10, 10), id="national-day-from-saturday"),
        # Wed 1 Oct off (to 8 Oct), Thu 9 (1), Fri 10 (2), Sat 11 make-up (3), Sun 12 rest, Mon 13 (4),
        # Tue 14 Oct (5).
        pytest.param(at(2025, 10, 1, 9), end_of(2025, 10, 14), id="national-day-from-the-holiday"),
        # 17:00 UTC on Tue 30 Sep is 01:00 on Wed 1 Oct in Shanghai: China's date counts, so as above
        # (counting from the UTC date would give Mon 13 Oct).
        pytest.param(at(2025, 9, 30, 17, tz=UTC), end_of(2025, 10, 14), id="national-day-start-given-in-utc"),
        # Thu 12 Feb (1), Fri 13 (2), Sat 14 make-up (3), 15-23 Feb off, Tue 24 (4), Wed 25 Feb (5).
        pytest.param(at(2026, 2, 12), end_of(2026, 2, 25), id="spring-festival-before"),
        # Mon 16 Feb off (to 23 Feb), Tue 24 (1), Wed 25 (2), Thu 26 (3), Fri 27 (4), Sat 28 make-up (5).
        pytest.param(at(2026, 2, 16), end_of(2026, 2, 28), id="spring-festival-from-the-holiday"),
        # Mon 29 Dec (1), Tue 30 (2), Wed 31 (3), 1-3 Jan off, Sun 4 Jan make-up (4), Mon 5 Jan (5).
        pytest.param(at(2025, 12, 29), end_of(2026, 1, 5), id="year-end-from-monday"),
        # Wed 31 Dec (1), 1-3 Jan off, Sun 4 (2), Mon 5 (3), Tue 6 (4), Wed 7 Jan (5).
        pytest.param(at(2025, 12, 31, 23, 30), end_of(2026, 1, 7), id="year-end-late-on-new-years-eve"),
    ],
)
def test_open_publicity_ends_at_the_end_of_the_fifth_working_day(staff, starts_at, expected):
    assert Policy.current().publicity_working_days == 5
    application = application_in_leadership_approved(staff=staff)

    announcement = open_at(staff, [application], starts_at)

    stored = Announcement.objects.get(pk=announcement.pk)
    assert stored.ends_at == expected
    assert timezone.localtime(stored.ends_at, SHANGHAI).time() == time.max
    assert (stored.starts_at, stored.working_days) == (starts_at, 5)
    assert [e.application_id for e in stored.entries.all()] == [application.pk]
    assert reload(application).status == Status.PUBLICITY
    [event] = events(application, "open_publicity")
    assert (event.from_status, event.to_status, event.actor) == (Status.LEADERSHIP, Status.PUBLICITY, staff)


@pytest.mark.django_db
def test_the_number_of_working_days_comes_from_the_policy(staff):
    with time_machine.travel(at(2025, 9, 1)):  # in force when the period below opens
        policy_version(publicity_working_days=7)
    application = application_in_leadership_approved(staff=staff)
    # Fri 26 Sep (1), Sun 28 make-up (2), Mon 29 (3), Tue 30 (4), 1-8 Oct off, Thu 9 (5), Fri 10 (6),
    # Sat 11 Oct make-up (7).
    announcement = open_at(staff, [application], at(2025, 9, 26))
    stored = Announcement.objects.get(pk=announcement.pk)
    assert (stored.working_days, stored.ends_at) == (7, end_of(2025, 10, 11))


def _written(application) -> dict:
    return {
        "status": reload(application).status,
        "announcements": Announcement.objects.count(),
        "entries": AnnouncementEntry.objects.count(),
        "events": [e.pk for e in events(application)],
        "notifications": Notification.objects.count(),
    }


@pytest.mark.django_db
def test_a_period_reaching_an_unknown_year_is_refused_naming_it_and_nothing_is_written(staff):
    application = application_in_leadership_approved(staff=staff)
    assert not CalendarYear.objects.filter(year=2027).exists()
    before = _written(application)

    # Mon 28 Dec 2026 (1), Tue 29 (2), Wed 30 (3), Thu 31 (4); the fifth would be in January 2027, a year
    # neither the package nor staff know.
    with pytest.raises(ActionRefused) as refused:
        open_at(staff, [application], at(2026, 12, 28, 9))

    assert "2027" in refused.value.message
    assert _written(application) == before
    assert before["status"] == Status.LEADERSHIP and before["announcements"] == 0


@pytest.mark.django_db
def test_once_staff_enter_the_next_year_the_same_period_is_counted_with_their_holidays(staff):
    application = application_in_leadership_approved(staff=staff)
    CalendarYear.objects.create(year=2027, notice="国办发明电〔2026〕测试号", entered_by=staff)
    CalendarDay.objects.create(
        date=date(2027, 1, 1), kind=CalendarDay.Kind.HOLIDAY, name="元旦", entered_by=staff
    )
    enter_statutory_holidays(2027, skip=["元旦"])
    # Mon 28 Dec (1) .. Thu 31 Dec (4), Fri 1 Jan 2027 off (staff entry), Sat/Sun rest, Mon 4 Jan 2027 (5).
    announcement = open_at(staff, [application], at(2026, 12, 28, 9))
    assert Announcement.objects.get(pk=announcement.pk).ends_at == end_of(2027, 1, 4)


def publish_form(application, starts_at: str) -> dict:
    """The POST of the publish page for one application."""
    return {
        "title": "关于拟认定创新中心的公示",
        "list_type": "recognise",
        "starts_at": starts_at,
        **ANNOUNCEMENT_CONTACTS,
        "applications": [str(application.pk)],
        "confirm": "on",
    }


@pytest.mark.django_db
def test_a_period_cannot_start_before_the_present_minute(staff):
    application = application_in_leadership_approved(staff=staff)
    declare_unknown_years(timezone.localdate())
    before = _written(application)

    with pytest.raises(ActionRefused) as refused:
        open_announcement(staff, [application], starts_at=timezone.now() - timedelta(minutes=2))

    assert "早于当前时间" in refused.value.message
    assert _written(application) == before


@pytest.mark.django_db
def test_a_period_may_start_within_the_present_minute_or_later_and_ends_from_its_start(staff):
    first, second = (application_in_leadership_approved(staff=staff) for _ in range(2))
    now = at(2026, 12, 4, 10, 0) + timedelta(seconds=40)
    with time_machine.travel(now, tick=False):
        # The minute the publish page offers (seconds dropped) is "now"; so is leaving the start empty.
        this_minute = open_announcement(staff, [first], starts_at=at(2026, 12, 4, 10, 0))
        empty = publicity.open_publicity(
            staff, [second], title="关于立即开始的公示", list_type="recognise", **ANNOUNCEMENT_CONTACTS
        )
    assert this_minute.starts_at == at(2026, 12, 4, 10, 0)
    assert empty.starts_at == now
    # Fri 4 Dec (1), Mon 7 (2), Tue 8 (3), Wed 9 (4), Thu 10 Dec (5).
    assert this_minute.ends_at == empty.ends_at == end_of(2026, 12, 10)


@pytest.mark.django_db
def test_the_publish_page_refuses_a_start_in_the_past_on_the_field_and_keeps_what_was_typed(client, staff):
    application = application_in_leadership_approved(staff=staff)
    client.force_login(staff)
    with time_machine.travel(at(2026, 12, 4, 10, 0), tick=False):
        response = client.post(
            reverse("evaluation:publicity_new"), publish_form(application, "2026-11-01T09:00")
        )

    assert response.status_code == 200
    assert response.context["form"].errors["starts_at"] == [
        "公示开始时间2026-11-01 09:00早于当前时间2026-12-04 10:00：公示期必须从现在或今后开始，"
        "否则异议期会缩短甚至没有。请留空（立即开始）或选择今后的时间。"
    ]
    html = response.content.decode()
    assert "早于当前时间" in html and 'value="2026-11-01T09:00"' in html
    assert not Announcement.objects.exists()
    assert reload(application).status == Status.LEADERSHIP


@pytest.mark.django_db
def test_the_publish_page_with_an_empty_start_opens_the_period_now(client, staff):
    application = application_in_leadership_approved(staff=staff)
    client.force_login(staff)
    with time_machine.travel(at(2026, 12, 4, 10, 0), tick=False):
        response = client.post(reverse("evaluation:publicity_new"), publish_form(application, ""))
    announcement = Announcement.objects.get()
    assert response.status_code == 302
    assert (announcement.starts_at, announcement.ends_at) == (at(2026, 12, 4, 10, 0), end_of(2026, 12, 10))
    assert reload(application).status == Status.PUBLICITY


@pytest.mark.django_db
def test_the_publish_page_shows_the_unknown_year_refusal(client, staff):
    application = application_in_leadership_approved(staff=staff)
    client.force_login(staff)
    with time_machine.travel(at(2026, 12, 28, 8), tick=False):
        response = client.post(
            reverse("evaluation:publicity_new"), publish_form(application, "2026-12-28T09:00")
        )
    assert response.status_code == 200
    assert "尚未录入2027年的法定节假日和调休安排" in response.content.decode()
    assert not Announcement.objects.exists()
    assert reload(application).status == Status.LEADERSHIP


# --- the public pages ---------------------------------------------------------------------------------------


def _sections(html: str) -> tuple[str, str]:
    """The "正在公示" section and the "往期公示" section of /announcements/."""
    current, past = html.split('id="h-past"', 1)
    return current.split('id="h-current"', 1)[1], past


@pytest.mark.django_db
def test_the_list_shows_exactly_the_open_announcements_as_current(client, staff):
    now = timezone.now()
    opened = open_announcement(
        staff, [application_in_leadership_approved(staff=staff)], title="甲公示：正在公示"
    )
    future = open_announcement(
        staff,
        [application_in_leadership_approved(staff=staff)],
        starts_at=now + timedelta(days=3),
        title="乙公示：尚未开始",
    )
    swept = open_announcement(
        staff, [application_in_leadership_approved(staff=staff)], title="丙公示：已期满处理"
    )
    expire_announcement(swept, ago=timedelta(days=2))
    publicity.close_expired()
    ended = open_announcement(
        staff, [application_in_leadership_approved(staff=staff)], title="丁公示：期满待处理"
    )
    expire_announcement(ended, ago=timedelta(hours=1))
    assert Announcement.objects.get(pk=swept.pk).closed_at is not None
    assert Announcement.objects.get(pk=ended.pk).closed_at is None

    response = client.get(reverse("announcements:list"))

    assert response.status_code == 200
    assert [a.pk for a in response.context["current"]] == [opened.pk]
    assert [a.pk for a in response.context["page"]] == [ended.pk, swept.pk]
    current, past = _sections(response.content.decode())
    assert "甲公示：正在公示" in current and "甲公示：正在公示" not in past
    for title in ("丙公示：已期满处理", "丁公示：期满待处理"):
        assert title in past and title not in current
    assert "乙公示：尚未开始" not in response.content.decode()
    # An announcement that has not started is not published at all.
    assert client.get(detail_url(future)).status_code == 404


@pytest.mark.django_db
def test_the_announcement_page_shows_what_the_rules_require(client, staff):
    application = application_in_leadership_approved(staff=staff, centre_name="重庆市轻量化材料创新中心")
    announcement = open_at(staff, [application], timezone.now() - timedelta(hours=1))

    html = client.get(detail_url(announcement)).content.decode()

    local = timezone.localtime(announcement.ends_at, SHANGHAI)
    for text in (
        announcement.title,
        "拟认定",
        "重庆市轻量化材料创新中心",
        application.lead_unit.name,
        application.field.name,
        f"{local.year}年{local.month}月{local.day}日 23:59",
        *ANNOUNCEMENT_CONTACTS.values(),
        "在线提出异议",
    ):
        assert text in html, text


@pytest.mark.django_db
def test_the_objectors_identity_never_appears_on_public_pages(client, staff):
    application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    secret = {"name": "王保密", "id_number": valid_id_number("11010519491231002"), "phone": "13912345678"}
    statement = "该中心的中试线尚未建成。"

    response = client.post(
        detail_url(announcement), person_objection(entry, statement=statement, **secret), REMOTE_ADDR=new_ip()
    )
    [objection] = Objection.objects.all()
    assert (objection.name, objection.id_number, objection.phone) == tuple(secret.values())
    received = response.content.decode()
    assert objection.reference in received

    anonymous = Client()  # a visitor who did not send the objection
    pages = [
        received,
        *(anonymous.get(url).content.decode() for url in (detail_url(announcement), "/announcements/")),
    ]
    for html in pages:
        for value in (*secret.values(), statement):
            assert value not in html, value
    # The lead unit does not see it either, not even after staff resolve the objection.
    publicity.resolve_objection(objection, staff, Objection.State.DISMISSED, "经核查，中试线已建成。")
    signed_in = Client()
    signed_in.force_login(application.created_by)
    lead_page = signed_in.get(reverse("applications:detail", args=[application.pk]))
    assert lead_page.status_code == 200
    for value in secret.values():
        assert value not in lead_page.content.decode()
    # Staff see who objected (the ID number and phone masked until asked for).
    staff_with_password_confirmed(signed_in, staff)
    staff_page = signed_in.get(reverse("evaluation:objections", args=[announcement.pk])).content.decode()
    assert "王保密" in staff_page
    assert mask_id_number(secret["id_number"]) in staff_page and mask_phone(secret["phone"]) in staff_page


@pytest.mark.django_db
def test_the_objection_form_escapes_what_it_was_sent(client, staff):
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    data = person_objection(entry, name=SCRIPT, statement=f"异议{SCRIPT}内容", id_number=WRONG_CHECK)

    response = client.post(detail_url(announcement), data, REMOTE_ADDR=new_ip())

    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"id_number"}
    html = response.content.decode()
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2  # the name and the statement, kept
    assert not Objection.objects.exists()


@pytest.mark.django_db
def test_a_late_objection_is_refused_by_the_service(staff):
    _application, announcement = application_in_publicity(staff=staff)
    announcement = expire_announcement(announcement)

    with pytest.raises(ActionRefused) as refused:
        lodge(AnnouncementEntry.objects.get(announcement=announcement))

    end = timezone.localtime(announcement.ends_at, SHANGHAI).strftime("%Y-%m-%d %H:%M")
    assert refused.value.message == f"公示期已于{end}结束，不再受理异议。"
    assert not Objection.objects.exists()


@pytest.mark.django_db
def test_an_objection_before_the_start_is_refused_by_the_service(staff):
    application = application_in_leadership_approved(staff=staff)
    announcement = open_announcement(staff, [application], starts_at=timezone.now() + timedelta(days=2))
    with pytest.raises(ActionRefused, match="公示尚未开始"):
        lodge(announcement.entries.get())
    assert not Objection.objects.exists()


@pytest.mark.django_db
def test_a_late_objection_posted_on_the_page_is_refused_with_the_message_and_nothing_is_stored(client, staff):
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    # The visitor opened the form while the period ran ...
    assert client.get(detail_url(announcement)).context["form"] is not None
    expire_announcement(announcement)
    media_before = Objection.objects.count(), ObjectionFile.objects.count()

    # ... and sends it after the end.
    data = person_objection(entry, evidence=SimpleUploadedFile("证据.pdf", PDF_BYTES))
    response = client.post(detail_url(announcement), data, REMOTE_ADDR=new_ip(), follow=True)

    assert response.redirect_chain == [(detail_url(announcement), 302)]
    html = response.content.decode()
    assert "公示期已结束，不再受理异议。" in html
    assert response.context["form"] is None and "提交异议" not in html
    assert (Objection.objects.count(), ObjectionFile.objects.count()) == media_before == (0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("id_number", "error"),
    [
        ("", "个人提出异议须填写身份证号码"),
        (WRONG_CHECK, "身份证号码校验位不正确"),
        (ID_NUMBER[:17], "身份证号码应为18位"),
        ("5001021990030712AB", "身份证号码应为18位"),
    ],
    ids=["missing", "wrong-check-digit", "seventeen-digits", "letters"],
)
def test_a_person_without_a_valid_id_number_is_refused(client, staff, id_number, error):
    _application, announcement = application_in_publicity(staff=staff)
    data = person_objection(announcement.entries.get(), id_number=id_number)

    response = client.post(detail_url(announcement), data, REMOTE_ADDR=new_ip())

    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors["id_number"])
    assert error in response.content.decode()
    assert not Objection.objects.exists()


@pytest.mark.django_db
def test_a_valid_id_number_with_a_lower_case_check_x_is_accepted_and_stored_upper_case(client, staff):
    first17 = next(
        f"5001021990030{n:04d}" for n in range(10000) if valid_id_number(f"5001021990030{n:04d}")[-1] == "X"
    )
    _application, announcement = application_in_publicity(staff=staff)
    data = person_objection(announcement.entries.get(), id_number=first17 + "x")

    response = client.post(detail_url(announcement), data, REMOTE_ADDR=new_ip())

    assert response.status_code == 200
    [objection] = Objection.objects.all()
    assert objection.id_number == first17 + "X"


@pytest.mark.django_db
def test_a_person_without_evidence_is_refused_and_the_form_keeps_what_was_typed(client, staff):
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    data = person_objection(entry, evidence=None, name="王有据", statement="研发场地系租用，与申报不符。")

    response = client.post(detail_url(announcement), data, REMOTE_ADDR=new_ip())

    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"evidence"}
    html = response.content.decode()
    assert "个人提出异议须上传证据材料。" in html
    for typed in ("王有据", ID_NUMBER, "13800001234", "研发场地系租用，与申报不符。"):
        assert typed in html, typed
    assert not Objection.objects.exists()


@pytest.mark.django_db
def test_the_service_refuses_a_person_without_evidence_and_an_organisation_without_its_letter(staff):
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    with pytest.raises(ActionRefused, match="个人提出异议须上传证据材料"):
        lodge(entry, files=[])
    with pytest.raises(ActionRefused, match="个人提出异议须上传证据材料"):  # a sealed letter is not evidence
        lodge(entry, files=[(ObjectionFile.Kind.SEALED_LETTER, evidence_file())])
    with pytest.raises(ActionRefused, match="单位提出异议须上传加盖公章的异议书"):
        lodge(entry, kind=Objection.Kind.ORGANISATION, id_number="", contact_person="赵联系", files=[])
    assert not Objection.objects.exists()
    objection = lodge(entry)
    assert [f.kind for f in objection.files.all()] == [ObjectionFile.Kind.EVIDENCE]


@pytest.mark.django_db
def test_an_organisation_needs_a_sealed_letter_and_a_contact(client, staff):
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()

    response = client.post(
        detail_url(announcement), organisation_objection(entry, letter=False), REMOTE_ADDR=new_ip()
    )
    assert response.status_code == 200
    assert "单位提出异议须上传加盖公章的异议书" in " ".join(response.context["form"].errors["sealed_letter"])
    response = client.post(
        detail_url(announcement), organisation_objection(entry, contact_person=""), REMOTE_ADDR=new_ip()
    )
    assert "单位提出异议须填写联系人" in " ".join(response.context["form"].errors["contact_person"])
    assert not Objection.objects.exists()

    response = client.post(detail_url(announcement), organisation_objection(entry), REMOTE_ADDR=new_ip())
    [objection] = Objection.objects.all()
    assert objection.reference in response.content.decode()
    assert (objection.kind, objection.contact_person, objection.id_number) == ("organisation", "赵联系", "")
    [letter] = objection.files.all()
    assert (letter.kind, letter.original_name, letter.content_type) == (
        ObjectionFile.Kind.SEALED_LETTER,
        "异议书.pdf",
        "application/pdf",
    )
    assert letter.file.read() == PDF_BYTES


@pytest.mark.django_db
def test_the_sixth_objection_within_an_hour_from_one_address_is_refused(client, staff):
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    ip = new_ip()
    for n in range(5):
        response = client.post(
            detail_url(announcement), person_objection(entry, statement=f"第{n}件"), REMOTE_ADDR=ip
        )
        assert "受理编号" in response.content.decode()
    assert Objection.objects.count() == 5

    response = client.post(
        detail_url(announcement), person_objection(entry, statement="第6件"), REMOTE_ADDR=ip
    )

    assert response.status_code == 200
    assert "同一网络地址提交异议过于频繁" in response.content.decode()
    assert Objection.objects.count() == 5
    # Another address (and another person) is not affected.
    other = valid_id_number("11010519491231002")
    client.post(
        detail_url(announcement),
        person_objection(entry, statement="另一地址", id_number=other),
        REMOTE_ADDR=new_ip(),
    )
    assert Objection.objects.count() == 6


@pytest.mark.django_db
def test_four_form_errors_then_a_success_do_not_block_an_address(client, staff):
    """An office behind one NAT address: mistakes do not use up the limit of accepted objections."""
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    ip = new_ip()
    for _n in range(4):
        response = client.post(detail_url(announcement), person_objection(entry, phone="abc"), REMOTE_ADDR=ip)
        assert "phone" in response.context["form"].errors
    people = [valid_id_number(f"5001021990030{n:04d}") for n in range(6)]
    for n in range(5):
        response = client.post(
            detail_url(announcement), person_objection(entry, id_number=people[n]), REMOTE_ADDR=ip
        )
        assert "受理编号" in response.content.decode(), n
    assert Objection.objects.count() == 5

    response = client.post(
        detail_url(announcement), person_objection(entry, id_number=people[5]), REMOTE_ADDR=ip
    )

    assert "同一网络地址提交异议过于频繁" in response.content.decode()
    assert Objection.objects.count() == 5
    # What was typed and uploaded is kept for later.
    assert response.context["form"]["name"].value() == "王异议" and response.context["stashed"] == {
        "evidence": "证据.pdf"
    }


@pytest.mark.django_db
def test_the_limit_counts_accepted_objections_per_id_number_from_any_address(client, staff):
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    for n in range(5):
        client.post(
            detail_url(announcement), person_objection(entry, statement=f"第{n}件"), REMOTE_ADDR=new_ip()
        )
    assert Objection.objects.count() == 5

    response = client.post(detail_url(announcement), person_objection(entry), REMOTE_ADDR=new_ip())

    assert "同一身份证号码一小时内提交的异议已达上限" in response.content.decode()
    assert Objection.objects.count() == 5
    with pytest.raises(ActionRefused, match="同一身份证号码"):  # the service itself, whoever calls it
        lodge(entry, ip=None)
    # An hour later the person may object again.
    Objection.objects.update(created_at=timezone.now() - timedelta(minutes=61))
    assert lodge(entry, ip=None).reference


@pytest.mark.django_db
def test_refused_forms_have_their_own_higher_limit_per_address(client, staff, settings):
    settings.OBJECTION_FAILURES_PER_HOUR = 8
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    ip = new_ip()
    for _n in range(8):
        response = client.post(detail_url(announcement), person_objection(entry, phone="abc"), REMOTE_ADDR=ip)
        assert response.context["form"].errors

    response = client.post(detail_url(announcement), person_objection(entry), REMOTE_ADDR=ip)

    assert "同一网络地址提交失败的次数过多" in response.content.decode()
    assert not Objection.objects.exists()
    client.post(detail_url(announcement), person_objection(entry), REMOTE_ADDR=new_ip())  # others unaffected
    assert Objection.objects.count() == 1


@pytest.mark.django_db
def test_files_of_a_failed_submission_are_kept_and_used_on_the_next_post(client, staff):
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    ip = new_ip()
    data = organisation_objection(entry, contact_person="")  # the letter is fine, the contact missing

    first = client.post(detail_url(announcement), data, REMOTE_ADDR=ip)

    assert first.status_code == 200 and "contact_person" in first.context["form"].errors
    token = first.context["stash_token"]
    assert re.fullmatch(r"[0-9a-f]{32}", token)
    assert first.context["stashed"] == {"sealed_letter": "异议书.pdf"}
    html = first.content.decode()
    assert "以下文件已保留，无需重新选择" in html and "异议书.pdf" in html and f'value="{token}"' in html
    assert not Objection.objects.exists()

    second = client.post(
        detail_url(announcement), organisation_objection(entry, letter=False, stash=token), REMOTE_ADDR=ip
    )

    [objection] = Objection.objects.all()
    assert objection.reference in second.content.decode()
    [letter] = objection.files.all()
    assert (letter.kind, letter.original_name) == (ObjectionFile.Kind.SEALED_LETTER, "异议书.pdf")
    assert letter.file.read() == PDF_BYTES
    assert stash.names(token) == {}  # used up


@pytest.mark.django_db
def test_evidence_of_a_person_is_kept_across_a_wrong_id_number(client, staff):
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    evidence = SimpleUploadedFile("照片.pdf", PDF_BYTES, content_type="application/pdf")
    first = client.post(
        detail_url(announcement),
        person_objection(entry, id_number="", evidence=evidence),
        REMOTE_ADDR=new_ip(),
    )
    assert first.context["stashed"] == {"evidence": "照片.pdf"}

    client.post(
        detail_url(announcement),
        person_objection(entry, stash=first.context["stash_token"], evidence=None),
        REMOTE_ADDR=new_ip(),
    )

    [item] = Objection.objects.get().files.all()
    assert (item.kind, item.original_name, item.file.read()) == (
        ObjectionFile.Kind.EVIDENCE,
        "照片.pdf",
        PDF_BYTES,
    )


@pytest.mark.django_db
def test_evidence_that_is_not_pdf_jpg_or_png_is_refused_on_the_page(client, staff):
    _application, announcement = application_in_publicity(staff=staff)
    fake = SimpleUploadedFile("证据.pdf", b"MZ\x90\x00 not a pdf at all", content_type="application/pdf")
    client.raise_request_exception = False

    response = client.post(
        detail_url(announcement),
        person_objection(announcement.entries.get(), evidence=fake),
        REMOTE_ADDR=new_ip(),
    )

    assert response.status_code == 200
    assert "实际内容不是允许的类型" in response.content.decode()
    assert not Objection.objects.exists()


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_rate_limit_counts_each_client_address(client, staff, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    proxy = new_ip()
    for n in range(6):
        client.post(
            detail_url(announcement),
            person_objection(entry, statement=f"第{n}件", id_number=valid_id_number(f"5001021990030{n:04d}")),
            REMOTE_ADDR=proxy,
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n + 1}",
        )
    assert Objection.objects.count() == 6
    assert sorted(Objection.objects.values_list("ip_address", flat=True)) == [
        f"203.0.113.{n}" for n in range(1, 7)
    ]


# --- objections: reference numbers, staff resolve them, only staff see them ---------------------------------


@pytest.mark.django_db
def test_each_objection_gets_a_reference_of_the_day_and_a_random_part(staff):
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    first, second = lodge(entry), lodge(entry, name="李异议")
    today = timezone.localdate().strftime("%Y%m%d")
    for objection in (first, second):
        assert re.fullmatch(rf"YY{today}-[0-9A-F]{{6}}", objection.reference), objection.reference
        assert Objection.objects.get(pk=objection.pk).reference == objection.reference
    assert first.reference != second.reference
    assert (first.state, first.ip_address) == (Objection.State.PENDING, "198.51.100.200")


@pytest.mark.django_db
def test_a_reference_that_is_already_taken_is_drawn_again(staff, monkeypatch):
    _application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    draws = iter(["abc123", "abc123", "def456"])
    monkeypatch.setattr(publicity.secrets, "token_hex", lambda n: next(draws))
    today = timezone.localdate().strftime("%Y%m%d")

    assert lodge(entry).reference == f"YY{today}-ABC123"
    assert lodge(entry).reference == f"YY{today}-DEF456"
    assert Objection.objects.count() == 2


def test_the_reference_is_dated_by_chinas_calendar_day(monkeypatch):
    """16:30 UTC on 27 November is already 28 November in Chongqing."""
    objection_time = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)
    monkeypatch.setattr(publicity.timezone, "localdate", lambda: timezone.localtime(objection_time).date())
    assert publicity.new_reference().startswith("YY20261128-")


@pytest.mark.django_db
@pytest.mark.parametrize("state", [Objection.State.DISMISSED, Objection.State.UPHELD])
def test_staff_resolve_an_objection(staff, state):
    application, announcement = application_in_publicity(staff=staff)
    objection = lodge(announcement.entries.get())

    resolved = publicity.resolve_objection(objection, staff, state, "  经核查，情况属实与否已查明。 ")

    stored = Objection.objects.get(pk=objection.pk)
    assert (stored.state, stored.resolution, stored.resolved_by) == (
        state,
        "经核查，情况属实与否已查明。",
        staff,
    )
    assert stored.resolved_at is not None and resolved.pk == stored.pk
    [event] = events(application, "objection_resolved")
    assert event.comment.startswith(f"{objection.reference}：{Objection.State(state).label}。")
    assert (event.from_status, event.to_status, event.actor) == (Status.PUBLICITY, Status.PUBLICITY, staff)
    assert reload(application).status == Status.PUBLICITY  # resolving does not move the application


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("state", "resolution", "message"),
    [
        ("dismissed", "", "请写明处理意见"),
        ("upheld", "   ", "请写明处理意见"),
        ("pending", "处理意见", "请选择异议是否成立"),
        ("withdrawn", "处理意见", "请选择异议是否成立"),
    ],
)
def test_resolving_needs_a_verdict_and_a_resolution(staff, state, resolution, message):
    _application, announcement = application_in_publicity(staff=staff)
    objection = lodge(announcement.entries.get())
    with pytest.raises(ActionRefused, match=message):
        publicity.resolve_objection(objection, staff, state, resolution)
    stored = Objection.objects.get(pk=objection.pk)
    assert (stored.state, stored.resolution, stored.resolved_by) == (Objection.State.PENDING, "", None)


@pytest.mark.django_db
def test_an_objection_is_resolved_once_and_only_by_staff(staff):
    _application, announcement = application_in_publicity(staff=staff)
    objection = lodge(announcement.entries.get())
    for role in (Role.LEAD_UNIT, Role.EXPERT, Role.DISTRICT_STAFF, Role.SYSTEM_ADMIN):
        with pytest.raises(ActionRefused, match="只有市经济信息委工作人员可以处理异议"):
            publicity.resolve_objection(objection, user_with_role(role), "dismissed", "不成立")
    publicity.resolve_objection(objection, staff, "dismissed", "不成立")
    with pytest.raises(ActionRefused, match="该异议已处理"):
        publicity.resolve_objection(objection, user_with_role(Role.COMMISSION_STAFF), "upheld", "成立")
    assert Objection.objects.get(pk=objection.pk).state == Objection.State.DISMISSED


@pytest.mark.django_db
def test_staff_resolve_on_the_objections_page(client, staff):
    application, announcement = application_in_publicity(staff=staff)
    objection = lodge(announcement.entries.get())
    url = reverse("evaluation:objections", args=[announcement.pk])
    staff_with_password_confirmed(client, staff)
    prefix = f"o{objection.pk}"

    response = client.post(
        url, {"objection": objection.pk, f"{prefix}-state": "upheld", f"{prefix}-resolution": ""}
    )
    assert response.status_code == 200
    assert "请选择异议是否成立并写明处理意见" in response.content.decode()
    assert Objection.objects.get(pk=objection.pk).state == Objection.State.PENDING

    response = client.post(
        url,
        {
            "objection": objection.pk,
            f"{prefix}-state": "upheld",
            f"{prefix}-resolution": "研发人员数确有虚报。",
        },
        follow=True,
    )
    assert response.redirect_chain == [(url, 302)]
    html = response.content.decode()
    assert f"异议{objection.reference}已处理" in html and "研发人员数确有虚报。" in html
    assert Objection.objects.get(pk=objection.pk).state == Objection.State.UPHELD
    assert len(events(application, "objection_resolved")) == 1


@pytest.mark.django_db
def test_only_staff_see_the_objections_and_their_files(client, staff):
    _application, announcement = application_in_publicity(staff=staff)
    objection = lodge(
        announcement.entries.get(),
        files=[(ObjectionFile.Kind.EVIDENCE, SimpleUploadedFile("证据.pdf", PDF_BYTES))],
    )
    item = objection.files.get()
    urls = [
        reverse("evaluation:objections", args=[announcement.pk]),
        reverse("evaluation:objection_file", args=[objection.pk, item.pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login")), url
    for role in (Role.LEAD_UNIT, Role.EXPERT, Role.DISTRICT_STAFF, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN):
        client.force_login(user_with_role(role))
        for url in urls:
            assert client.get(url).status_code == 403, (role, url)
    # Staff confirm their password before the page with personal data.
    client.force_login(staff)
    response = client.get(urls[0])
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauth"))
    staff_with_password_confirmed(client, staff)
    page = client.get(urls[0])
    assert page.status_code == 200
    html = page.content.decode()
    for value in (
        "王异议",
        mask_id_number(ID_NUMBER),
        mask_phone("13800001234"),
        objection.reference,
        "证据.pdf",
    ):
        assert value in html, value
    download = client.get(urls[1])
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF_BYTES
    assert download["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [ObjectionFile.Kind.EVIDENCE, ObjectionFile.Kind.SEALED_LETTER])
def test_an_objection_file_downloads_only_after_the_password_again_and_is_audited(client, staff, kind):
    _application, announcement = application_in_publicity(staff=staff)
    if kind == ObjectionFile.Kind.EVIDENCE:
        objection = lodge(announcement.entries.get())
    else:
        objection = lodge(
            announcement.entries.get(),
            kind=Objection.Kind.ORGANISATION,
            id_number="",
            contact_person="赵联系",
            files=[(kind, evidence_file("异议书.pdf"))],
        )
    item = objection.files.get()
    url = reverse("evaluation:objection_file", args=[objection.pk, item.pk])
    client.force_login(staff)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('accounts:reauth')}?{urlencode({'next': url})}"
    assert not AuditEvent.objects.filter(action="objection.file_downloaded").exists()
    # After the password, the re-authentication page sends the person back to the file.
    back = client.post(reverse("accounts:reauth"), {"password": TEST_PASSWORD, "next": url})
    assert back.status_code == 302 and back["Location"] == url
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF_BYTES
    assert download["Cache-Control"] == "private, no-store"
    [event] = AuditEvent.objects.filter(action="objection.file_downloaded")
    assert (event.actor, event.target) == (staff, f"evaluation.ObjectionFile:{item.pk}")
    assert objection.reference in event.detail
    client.get(url)
    assert AuditEvent.objects.filter(action="objection.file_downloaded").count() == 2  # each download


@pytest.mark.django_db
def test_staff_can_see_the_full_identity_of_one_objector_on_request(client, staff):
    _application, announcement = application_in_publicity(staff=staff)
    objection = lodge(announcement.entries.get())
    staff_with_password_confirmed(client, staff)
    url = reverse("evaluation:objections", args=[announcement.pk])
    assert f'href="?show={objection.pk}"' in client.get(url).content.decode()

    html = client.get(url, {"show": objection.pk}).content.decode()

    assert ID_NUMBER in html and "13800001234" in html


# --- the deadline sweep -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sweep_after_the_end_approves_once_and_closes_the_announcement(staff, mailoutbox):
    application, announcement = application_in_publicity(staff=staff)
    expire_announcement(announcement)

    assert publicity.close_expired() == {"closed": 1, "approved": 1, "waiting": 0}

    assert reload(application).status == Status.APPROVED
    closed_at = Announcement.objects.get(pk=announcement.pk).closed_at
    assert closed_at is not None and timezone.now() - closed_at < timedelta(minutes=1)
    [event] = events(application, "approve")
    assert (event.from_status, event.to_status, event.actor, event.comment) == (
        Status.PUBLICITY,
        Status.APPROVED,
        None,
        "公示期满，无异议。",
    )
    # Once: a second sweep finds nothing to do.
    assert publicity.close_expired() == {"closed": 0, "approved": 0, "waiting": 0}
    assert len(events(application, "approve")) == 1
    assert Announcement.objects.get(pk=announcement.pk).closed_at == closed_at


@pytest.mark.django_db
def test_a_sweep_before_the_end_does_nothing(staff):
    application, announcement = application_in_publicity(staff=staff)
    assert timezone.now() < announcement.ends_at
    before = events(application)

    assert publicity.close_expired() == {"closed": 0, "approved": 0, "waiting": 0}

    assert reload(application).status == Status.PUBLICITY
    assert Announcement.objects.get(pk=announcement.pk).closed_at is None
    assert events(application) == before
    with pytest.raises(ActionRefused) as refused:
        publicity.approve(reload(application), staff)
    assert "公示期尚未结束。" in refused.value.details


@pytest.mark.django_db
def test_a_sweep_with_an_explicit_moment_closes_only_what_had_ended_by_then(staff):
    early_app, early = application_in_publicity(staff=staff)
    late_app, late = application_in_publicity(staff=staff)
    now = timezone.now()
    Announcement.objects.filter(pk=early.pk).update(
        starts_at=now - timedelta(days=9), ends_at=now - timedelta(days=2)
    )
    Announcement.objects.filter(pk=late.pk).update(
        starts_at=now - timedelta(days=9), ends_at=now - timedelta(hours=1)
    )

    assert publicity.close_expired(now - timedelta(days=1)) == {"closed": 1, "approved": 1, "waiting": 0}
    assert (reload(early_app).status, reload(late_app).status) == (Status.APPROVED, Status.PUBLICITY)


@pytest.mark.django_db
def test_a_pending_objection_keeps_the_application_in_publicity_and_tells_staff(staff):
    application, announcement = application_in_publicity(staff=staff)
    objection = lodge(announcement.entries.get())
    expire_announcement(announcement)
    other_staff = user_with_role(Role.COMMISSION_STAFF)
    Notification.objects.all().delete()

    assert publicity.close_expired() == {"closed": 1, "approved": 0, "waiting": 1}

    assert reload(application).status == Status.PUBLICITY
    assert Announcement.objects.get(pk=announcement.pk).closed_at is not None
    assert not events(application, "approve")
    told = Notification.objects.filter(subject__startswith="公示期满，有异议待处理")
    assert {n.recipient for n in told} == {staff, other_staff}
    assert all(application.centre_name in n.subject for n in told)
    assert not Notification.objects.exclude(pk__in=told).exists()  # the lead unit hears nothing yet
    # Approving is refused while the objection is pending ...
    with pytest.raises(ActionRefused) as refused:
        publicity.approve(reload(application), staff)
    assert refused.value.message == "还不能批复："
    assert refused.value.details == ["还有1件异议未处理。"]
    # ... and the sweep does not come back to it.
    assert publicity.close_expired() == {"closed": 0, "approved": 0, "waiting": 0}

    publicity.resolve_objection(objection, staff, Objection.State.DISMISSED, "经核查不属实。")
    publicity.approve(reload(application), staff, ip="203.0.113.5")

    assert reload(application).status == Status.APPROVED
    [event] = events(application, "approve")
    assert (event.actor, event.ip_address, event.comment) == (
        staff,
        "203.0.113.5",
        "公示期满，异议均不成立。",
    )


@pytest.mark.django_db
def test_after_staff_dismiss_the_move_page_approves(client, staff):
    application, announcement = application_in_publicity(staff=staff)
    objection = lodge(announcement.entries.get())
    expire_announcement(announcement)
    publicity.close_expired()
    publicity.resolve_objection(objection, staff, Objection.State.DISMISSED, "不成立。")
    client.force_login(staff)
    page = client.get(reverse("evaluation:application", args=[application.pk])).content.decode()
    url = reverse("evaluation:move", args=[application.pk, "approve"])
    assert url in page

    response = client.post(url, {"approve-confirm": "on", "approve-comment": ""}, REMOTE_ADDR="203.0.113.8")

    assert response.status_code == 302
    assert reload(application).status == Status.APPROVED


@pytest.mark.django_db
def test_an_upheld_objection_blocks_approval_and_sends_the_application_back(staff):
    application, announcement = application_in_publicity(staff=staff)
    objection = lodge(announcement.entries.get())
    expire_announcement(announcement)
    assert publicity.close_expired() == {"closed": 1, "approved": 0, "waiting": 1}
    publicity.resolve_objection(objection, staff, Objection.State.UPHELD, "研发人员数确有虚报。")

    with pytest.raises(ActionRefused) as refused:
        publicity.approve(reload(application), staff)
    assert refused.value.details == ["有1件异议成立，应不予认定或退回综合评估。"]
    assert reload(application).status == Status.PUBLICITY

    publicity.send_back_after_objection(reload(application), staff, comment="异议成立，重新评估。")

    assert reload(application).status == Status.COMPREHENSIVE
    [event] = events(application, "send_back_after_objection")
    assert (event.from_status, event.to_status, event.actor, event.comment) == (
        Status.PUBLICITY,
        Status.COMPREHENSIVE,
        staff,
        "异议成立，重新评估。",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("verdict", [None, Objection.State.DISMISSED])
def test_sending_back_needs_an_upheld_objection(staff, verdict):
    application, announcement = application_in_publicity(staff=staff)
    objection = lodge(announcement.entries.get())
    expire_announcement(announcement)
    if verdict:
        publicity.resolve_objection(objection, staff, verdict, "不成立。")
    with pytest.raises(ActionRefused, match="只有异议成立时才能退回综合评估"):
        publicity.send_back_after_objection(reload(application), staff)
    assert reload(application).status == Status.PUBLICITY


def _back_in_leadership_after_an_upheld_objection(staff) -> Application:
    """Approved by a first 委主任办公会, publicised, an objection upheld, sent back to 综合评估, decided
    again and so proposed to 委主任办公会审定 a second time."""
    application, announcement = application_in_publicity(staff=staff)
    objection = lodge(announcement.entries.get())
    expire_announcement(announcement)
    publicity.close_expired()
    publicity.resolve_objection(objection, staff, Objection.State.UPHELD, "研发人员数确有虚报。")
    publicity.send_back_after_objection(reload(application), staff, comment="异议成立，重新评估。")
    comprehensive.decide(reload(application), staff, "recognise", reason="核减研发人员后重新评估。")
    application = reload(application)
    assert application.status == Status.LEADERSHIP
    assert application.leadership_decisions.filter(decision="approve").count() == 1  # the first pass's
    return application


def _second_meeting(staff, application, day=None):
    return workflow.record_leadership_meeting(
        staff,
        meeting_date=day or timezone.localdate(),
        title="委主任办公会（再次审定）",
        minutes=SimpleUploadedFile("会议纪要.pdf", PDF_BYTES, content_type="application/pdf"),
        decisions={application.pk: ("approve", "")},
    )


@pytest.mark.django_db
def test_a_second_pass_through_the_leadership_needs_a_new_approval(staff):
    application = _back_in_leadership_after_an_upheld_objection(staff)

    # The first meeting's approval no longer counts: no publicity on it.
    assert workflow.leadership_approved(application) is False
    assert list(workflow.approved_for_publicity()) == []
    assert list(workflow.waiting_for_leadership()) == [application]
    with pytest.raises(ActionRefused) as refused:
        open_announcement(staff, [application])
    assert refused.value.details == [f"{application}尚未经委主任办公会审定同意。"]
    assert reload(application).status == Status.LEADERSHIP

    # A new meeting can be recorded, and then publicity opens again.
    _second_meeting(staff, application)
    assert workflow.leadership_approved(reload(application)) is True
    assert list(workflow.approved_for_publicity()) == [application]
    assert list(workflow.waiting_for_leadership()) == []
    announcement = open_announcement(staff, [reload(application)])
    assert reload(application).status == Status.PUBLICITY
    assert announcement.entries.get().application_id == application.pk


@pytest.mark.django_db
def test_the_pages_of_a_second_pass_ask_for_a_new_leadership_decision(client, staff):
    application = _back_in_leadership_after_an_upheld_objection(staff)
    client.force_login(staff)

    publish = client.get(reverse("evaluation:publicity_new"))
    assert publish.context["candidates"] == []
    assert "没有经委主任办公会审定同意、等待公示的申报。" in publish.content.decode()
    page = client.get(reverse("evaluation:application", args=[application.pk])).content.decode()
    assert "委主任办公会已审定同意，待公示" not in page
    leadership = client.get(reverse("evaluation:leadership")).content.decode()
    assert f'name="decision_{application.pk}"' in leadership

    response = client.post(
        reverse("evaluation:leadership"),
        {
            "title": "委主任办公会（再次审定）",
            "meeting_date": timezone.localdate().isoformat(),
            "minutes": SimpleUploadedFile("会议纪要.pdf", PDF_BYTES, content_type="application/pdf"),
            "confirm": "on",
            f"decision_{application.pk}": "approve",
            f"comment_{application.pk}": "",
        },
    )
    assert response.status_code == 302
    assert application.leadership_decisions.filter(decision="approve").count() == 2
    assert client.get(reverse("evaluation:publicity_new")).context["candidates"] == [application]


@pytest.mark.django_db
def test_a_meeting_dated_before_the_second_proposal_or_in_the_future_cannot_approve_it(staff):
    application = _back_in_leadership_after_an_upheld_objection(staff)
    today = timezone.localdate()

    with pytest.raises(ActionRefused) as refused:
        _second_meeting(staff, application, day=today - timedelta(days=1))
    assert refused.value.message == (
        f"会议日期{today - timedelta(days=1):%Y-%m-%d}早于申报提请审定的日期，这次会议不能审定它们："
    )
    assert refused.value.details == [f"{application}于{today:%Y-%m-%d}提请审定"]
    with pytest.raises(ActionRefused, match="晚于今天：只能记录已经召开的会议"):
        _second_meeting(staff, application, day=today + timedelta(days=1))
    assert workflow.leadership_approved(reload(application)) is False
    assert application.leadership_decisions.count() == 1


@pytest.mark.django_db
def test_the_sweep_leaves_an_application_that_left_publicity_meanwhile(staff):
    from evaluation import workflow

    application, announcement = application_in_publicity(staff=staff)
    workflow.reject(reload(application), staff, "发现重大违规。")
    expire_announcement(announcement)

    assert publicity.close_expired() == {"closed": 1, "approved": 0, "waiting": 0}
    assert reload(application).status == Status.REJECTED
    assert Announcement.objects.get(pk=announcement.pk).closed_at is not None


@pytest.mark.django_db
def test_one_announcement_for_several_applications_moves_each_on_its_own(staff):
    plain = application_in_leadership_approved(staff=staff)
    objected = application_in_leadership_approved(staff=staff)
    announcement = open_announcement(staff, [plain, objected])
    lodge(announcement.entries.get(application=objected))
    expire_announcement(announcement)

    assert publicity.close_expired() == {"closed": 1, "approved": 1, "waiting": 1}
    assert (reload(plain).status, reload(objected).status) == (Status.APPROVED, Status.PUBLICITY)


@pytest.mark.django_db
def test_the_management_command_sweeps_the_same_way(staff):
    application, announcement = application_in_publicity(staff=staff)
    held, held_announcement = application_in_publicity(staff=staff)
    lodge(held_announcement.entries.get())
    expire_announcement(announcement)
    expire_announcement(held_announcement)
    out = io.StringIO()

    call_command("close_expired_publicity", stdout=out)

    assert out.getvalue().strip() == "closed 2 announcement(s): 1 approved, 1 waiting for staff (objections)"
    assert (reload(application).status, reload(held).status) == (Status.APPROVED, Status.PUBLICITY)
    out = io.StringIO()
    call_command("close_expired_publicity", stdout=out)
    assert out.getvalue().strip() == "closed 0 announcement(s): 0 approved, 0 waiting for staff (objections)"
    assert len(events(application, "approve")) == 1


@pytest.mark.django_db
def test_the_beat_task_runs_the_sweep(staff):
    from evaluation.tasks import close_expired_publicity

    application, announcement = application_in_publicity(staff=staff)
    expire_announcement(announcement)
    assert close_expired_publicity.delay().get() == {"closed": 1, "approved": 1, "waiting": 0}
    assert reload(application).status == Status.APPROVED


@pytest.mark.django_db
def test_a_backlog_is_shared_out_in_chunks_and_each_period_is_closed_once(staff, monkeypatch):
    from evaluation import tasks

    pairs = applications_in_expired_publicity(5, staff=staff)
    monkeypatch.setattr(tasks, "SHARE_OUT_AT", 2)
    # Tasks run in-process here (eager); tests/test_publicity_worker.py runs the beat with a real worker.
    assert tasks.close_expired_publicity.delay().get() == {"shared_out": 5, "tasks": 3}
    for application, announcement in pairs:
        assert reload(application).status == Status.APPROVED
        assert Announcement.objects.get(pk=announcement.pk).closed_at is not None
        assert len(events(application, "approve")) == 1
    # A chunk that comes late (another worker, a redelivery) finds nothing left to do.
    again = tasks.close_announcements.delay([a.pk for _, a in pairs]).get()
    assert again == {"closed": 0, "approved": 0, "waiting": 0}


def _closing_record(application) -> dict:
    """What closing a period leaves behind for an application: status, history, audit, who was told."""
    from accounts.models import AuditEvent

    application = reload(application)
    event = events(application, "approve")
    audit = list(
        AuditEvent.objects.filter(
            target=f"applications.Application:{application.pk}", action="application.approve"
        )
    )
    told = Notification.objects.filter(body__contains=application.centre_name)
    return {
        "status": application.status,
        "stage_entered": application.stage_entered_at is not None,
        "history": [(e.action, e.from_status, e.to_status, e.actor_id, e.comment, e.internal) for e in event],
        "audit": [(a.actor_id, a.username, a.detail, a.ip_address, a.success) for a in audit],
        "told": sorted((n.recipient_id == application.created_by_id, n.subject) for n in told),
    }


@pytest.mark.django_db
def test_a_shared_out_chunk_leaves_exactly_what_the_one_by_one_sweep_leaves(staff):
    """The chunk path (one guarded UPDATE, bulk history and audit) against the one-by-one path (the FSM
    move and the history's signal): the same record for an approval, a pending objection and an
    application that another step moved meanwhile."""
    one_by_one = applications_in_expired_publicity(3, staff=staff)
    chunked = applications_in_expired_publicity(3, staff=staff)
    for pairs in (one_by_one, chunked):
        Objection.objects.create(  # lodged in time, still pending: the application waits for staff
            reference=f"YY-TEST-{pairs[1][1].pk}",
            entry=pairs[1][1].entries.get(),
            kind="person",
            name="异议人",
            id_number="11010519491231002X",
            phone="13800000000",
            statement="异议内容",
        )
        Application.objects.filter(pk=pairs[2][0].pk).update(status=Status.COMPREHENSIVE)  # moved meanwhile
    Notification.objects.all().delete()

    assert publicity.close_one(announcement_id=one_by_one[0][1].pk) == {
        "closed": 1,
        "approved": 1,
        "waiting": 0,
    }
    assert publicity.close_one(announcement_id=one_by_one[1][1].pk) == {
        "closed": 1,
        "approved": 0,
        "waiting": 1,
    }
    assert publicity.close_one(announcement_id=one_by_one[2][1].pk) == {
        "closed": 1,
        "approved": 0,
        "waiting": 0,
    }
    ids = [announcement.pk for _, announcement in chunked]
    assert publicity.close_many(ids) == {"closed": 3, "approved": 1, "waiting": 1}
    assert publicity.close_many(ids) == {"closed": 0, "approved": 0, "waiting": 0}

    for (a, _), (b, _) in zip(one_by_one, chunked, strict=True):
        left, right = _closing_record(a), _closing_record(b)
        assert left == right
    assert _closing_record(chunked[0][0])["status"] == Status.APPROVED
    assert _closing_record(chunked[0][0])["history"] and _closing_record(chunked[0][0])["audit"]
    assert _closing_record(chunked[0][0])["told"]
    assert _closing_record(chunked[1][0])["status"] == Status.PUBLICITY
    assert _closing_record(chunked[2][0])["status"] == Status.COMPREHENSIVE
    assert all(a.closed_at for a in Announcement.objects.filter(pk__in=ids))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_chunk_skips_a_period_someone_else_is_closing(staff):
    pairs = applications_in_expired_publicity(2, staff=staff)
    held = pairs[0][1]
    done = {}

    def other_connection():
        try:
            done["result"] = publicity.close_many([a.pk for _, a in pairs])
        finally:
            connection.close()

    with transaction.atomic():
        Announcement.objects.select_for_update().get(pk=held.pk)  # someone is closing this one
        worker = threading.Thread(target=other_connection)
        worker.start()
        worker.join(timeout=30)
    assert done["result"] == {"closed": 1, "approved": 1, "waiting": 0}
    assert reload(pairs[0][0]).status == Status.PUBLICITY
    assert reload(pairs[1][0]).status == Status.APPROVED


def test_the_beat_schedule_runs_the_sweep_at_the_configured_interval(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["close-expired-publicity"]
    assert entry["task"] == "evaluation.tasks.close_expired_publicity"
    assert entry["schedule"] > 0


def _sweep_in_threads(count):
    """``count`` sweeps at once, each in a thread of its own (own connection), released by a barrier."""
    barrier = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            barrier.wait(timeout=10)
            results[i] = publicity.close_expired()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
        assert not t.is_alive(), "a sweep hung"
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_once_move_each_application_exactly_once():
    staff = user_with_role(Role.COMMISSION_STAFF)
    applications, announcements = [], []
    for size in (1, 1, 2, 1, 3):
        batch = [application_in_leadership_approved(staff=staff) for _ in range(size)]
        announcements.append(open_announcement(staff, batch))
        applications.extend(batch)
    for announcement in announcements:
        expire_announcement(announcement)

    results = _sweep_in_threads(2)

    assert all(isinstance(r, dict) for r in results), results
    assert sum(r["closed"] for r in results) == len(announcements)
    assert sum(r["approved"] for r in results) == len(applications)
    for application in applications:
        assert reload(application).status == Status.APPROVED
        assert ApplicationEvent.objects.filter(application_id=application.pk, action="approve").count() == 1
    assert not Announcement.objects.filter(closed_at__isnull=True).exists()
    assert publicity.close_expired() == {"closed": 0, "approved": 0, "waiting": 0}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_sweep_skips_an_announcement_that_another_sweep_holds_instead_of_waiting():
    """What makes two sweeps safe: an announcement locked by one (here: held by another connection) is
    skipped by the other, not waited for and not processed twice."""
    staff = user_with_role(Role.COMMISSION_STAFF)
    held_app, held = application_in_publicity(staff=staff)
    free_app, free = application_in_publicity(staff=staff)
    expire_announcement(held)
    expire_announcement(free)
    locked, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                Announcement.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(10)
        assert publicity.close_expired() == {"closed": 1, "approved": 1, "waiting": 0}
        assert (reload(held_app).status, reload(free_app).status) == (Status.PUBLICITY, Status.APPROVED)
    finally:
        release.set()
        holder.join(timeout=30)
    assert publicity.close_expired() == {"closed": 1, "approved": 1, "waiting": 0}
    assert reload(held_app).status == Status.APPROVED


@pytest.mark.django_db
def test_an_objection_accepted_while_the_period_ends_is_not_lost(staff):
    application, announcement = application_in_publicity(staff=staff)
    entry = announcement.entries.get()
    Announcement.objects.filter(pk=announcement.pk).update(ends_at=timezone.now() + timedelta(seconds=1))
    entry = AnnouncementEntry.objects.select_related("announcement").get(pk=entry.pk)

    class SlowUpload(SimpleUploadedFile):
        """The visitor's evidence, read while the end passes and the beat's sweep runs."""

        swept = None

        def read(self, *args):
            if SlowUpload.swept is None:
                while timezone.now() < entry.announcement.ends_at:
                    threading.Event().wait(0.05)
                SlowUpload.swept = publicity.close_expired()
            return super().read(*args)

    objection = None
    with suppress(ActionRefused):  # refusing it (too late) would be right too
        objection = lodge(entry, files=[(ObjectionFile.Kind.EVIDENCE, SlowUpload("证据.pdf", PDF_BYTES))])
    assert SlowUpload.swept is not None
    # Either the objection was refused, or it holds the application in publicity.
    assert objection is None or reload(application).status == Status.PUBLICITY, (
        objection.reference,
        reload(application).status,
        SlowUpload.swept,
    )


# --- approval (批复) and award (授牌) -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("outcome", "kind"), [("recognise", Centre.Kind.RECOGNISED), ("pilot", Centre.Kind.PILOT)]
)
def test_record_approval_then_award_creates_the_centre(staff, outcome, kind):
    policy_version(support_years=4)  # the version in force when the application is submitted
    application = application_approved(staff=staff, outcome=outcome, centre_name="重庆市测试授牌创新中心")
    assert application.policy.support_years == 4

    approval = publicity.record_approval(
        application,
        staff,
        document_number="渝经信发〔2026〕12号",
        document_date=date(2026, 11, 20),
        ip="203.0.113.1",
    )
    centre = publicity.award(
        reload(application),
        staff,
        plaque_number=" CQZZCX-2026-001 ",
        award_date=date(2026, 11, 26),
        ip="203.0.113.1",
    )

    assert Approval.objects.get(application=application) == approval
    stored = Centre.objects.get(pk=centre.pk)
    assert (stored.application_id, stored.name, stored.field, stored.lead_unit) == (
        application.pk,
        "重庆市测试授牌创新中心",
        application.field,
        application.lead_unit,
    )
    assert (stored.kind, stored.status, stored.support_years) == (kind, Centre.Status.ACTIVE, 4)
    assert (stored.approval_number, stored.approval_date) == ("渝经信发〔2026〕12号", date(2026, 11, 20))
    assert (stored.plaque_number, stored.award_date, stored.created_by) == (
        "CQZZCX-2026-001",
        date(2026, 11, 26),
        staff,
    )
    assert stored.support_until == date(2030, 11, 25)
    assert reload(application).status == Status.AWARDED
    assert [e.action for e in events(application)][-2:] == ["approval_recorded", "award"]
    [award_event] = events(application, "award")
    assert (award_event.from_status, award_event.to_status, award_event.actor) == (
        Status.APPROVED,
        Status.AWARDED,
        staff,
    )
    assert (
        Notification.objects.filter(recipient=application.created_by, subject__startswith="授牌通知").count()
        == 1
    )


@pytest.mark.django_db
def test_the_approval_can_be_corrected_before_the_award(staff):
    application = application_approved(staff=staff)
    publicity.record_approval(
        application, staff, document_number="渝经信发〔2026〕1号", document_date=date(2026, 11, 20)
    )
    publicity.record_approval(
        application, staff, document_number="渝经信发〔2026〕2号", document_date=date(2026, 11, 21)
    )
    approval = Approval.objects.get(application=application)
    assert (approval.document_number, approval.document_date) == ("渝经信发〔2026〕2号", date(2026, 11, 21))
    assert [e.comment for e in events(application, "approval_recorded")] == [
        "渝经信发〔2026〕1号（2026-11-20）",
        "渝经信发〔2026〕2号（2026-11-21）",
    ]


def _award_state(application) -> dict:
    return {
        "status": reload(application).status,
        "centres": sorted(Centre.objects.values_list("application_id", "plaque_number")),
        "events": [e.pk for e in events(application)],
        "notifications": Notification.objects.count(),
    }


@pytest.mark.django_db
def test_a_plaque_number_already_used_is_refused_and_nothing_changes(staff):
    first = application_approved(staff=staff)
    second = application_approved(staff=staff)
    for application in (first, second):
        publicity.record_approval(
            application, staff, document_number="渝经信发〔2026〕3号", document_date=date(2026, 11, 20)
        )
    publicity.award(reload(first), staff, plaque_number="CQZZCX-2026-007", award_date=date(2026, 11, 26))
    before = _award_state(second)

    with pytest.raises(ActionRefused) as refused:
        publicity.award(reload(second), staff, plaque_number="CQZZCX-2026-007", award_date=date(2026, 11, 26))

    assert refused.value.message == "牌匾编号CQZZCX-2026-007已被使用。"
    assert _award_state(second) == before
    assert before["status"] == Status.APPROVED and before["centres"] == [(first.pk, "CQZZCX-2026-007")]
    # Another number works.
    publicity.award(reload(second), staff, plaque_number="CQZZCX-2026-008", award_date=date(2026, 11, 26))
    assert reload(second).status == Status.AWARDED


@pytest.mark.django_db
def test_the_page_after_a_duplicate_plaque_still_shows_the_application_as_approved(client, staff):
    first = application_approved(staff=staff)
    second = application_approved(staff=staff)
    for application in (first, second):
        publicity.record_approval(
            application, staff, document_number="渝经信发〔2026〕3号", document_date=date(2026, 11, 20)
        )
    publicity.award(reload(first), staff, plaque_number="CQZZCX-2026-007", award_date=date(2026, 11, 26))
    client.force_login(staff)

    response = client.post(
        reverse("evaluation:approval", args=[second.pk]),
        {"award": "", "plaque_number": "CQZZCX-2026-007", "award_date": "2026-11-26", "confirm": "on"},
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "牌匾编号CQZZCX-2026-007已被使用。" in html
    assert reload(second).status == Status.APPROVED
    assert re.search(r'id="status">批复<', html), "the page shows a status the application does not have"
    assert "已授牌。" not in html


@pytest.mark.django_db
def test_award_without_an_approval_is_refused(staff):
    application = application_approved(staff=staff)
    before = _award_state(application)
    with pytest.raises(ActionRefused, match="请先登记批复文号和日期"):
        publicity.award(application, staff, plaque_number="CQZZCX-2026-009", award_date=date(2026, 11, 26))
    assert _award_state(application) == before and before["centres"] == []


@pytest.mark.django_db
def test_award_needs_a_plaque_number(staff):
    application = application_approved(staff=staff)
    publicity.record_approval(
        application, staff, document_number="渝经信发〔2026〕4号", document_date=date(2026, 11, 20)
    )
    before = _award_state(application)
    with pytest.raises(ActionRefused, match="请填写牌匾编号"):
        publicity.award(reload(application), staff, plaque_number="   ", award_date=date(2026, 11, 26))
    assert _award_state(application) == before


@pytest.mark.django_db
def test_approval_and_award_only_after_publicity_and_only_by_staff(staff):
    application, _announcement = application_in_publicity(staff=staff)
    with pytest.raises(ActionRefused, match="当前处于“公示”阶段，不能登记批复"):
        publicity.record_approval(
            application, staff, document_number="渝经信发〔2026〕5号", document_date=date(2026, 11, 20)
        )
    with pytest.raises(ActionRefused, match="当前处于“公示”阶段，不能授牌"):
        publicity.award(application, staff, plaque_number="CQZZCX-2026-010", award_date=date(2026, 11, 26))
    assert not Approval.objects.exists() and not Centre.objects.exists()

    approved = application_approved(staff=staff)
    lead = approved.created_by
    with pytest.raises(ActionRefused, match="只有市经济信息委工作人员可以登记批复"):
        publicity.record_approval(
            approved, lead, document_number="渝经信发〔2026〕6号", document_date=date(2026, 11, 20)
        )
    publicity.record_approval(
        approved, staff, document_number="渝经信发〔2026〕6号", document_date=date(2026, 11, 20)
    )
    with pytest.raises(ActionRefused, match="您没有权限"):
        publicity.award(
            reload(approved), lead, plaque_number="CQZZCX-2026-011", award_date=date(2026, 11, 26)
        )
    assert reload(approved).status == Status.APPROVED and not Centre.objects.exists()


@pytest.mark.django_db
def test_the_awarded_centre_is_in_the_public_directory_and_has_its_page(client, staff):
    application = application_approved(staff=staff, outcome="pilot", centre_name="重庆市名录测试创新中心")
    publicity.record_approval(
        application, staff, document_number="渝经信发〔2026〕21号", document_date=date(2026, 11, 20)
    )
    centre = publicity.award(
        reload(application), staff, plaque_number="CQZZCX-2026-021", award_date=date(2026, 11, 26)
    )

    directory = client.get(reverse("centres:directory"))
    html = directory.content.decode()
    assert [c.pk for c in directory.context["page"]] == [centre.pk]
    for text in (
        "重庆市名录测试创新中心",
        "CQZZCX-2026-021",
        "2026-11-26",
        "培育试点",
        application.lead_unit.name,
    ):
        assert text in html, text
    assert reverse("centres:detail", args=[centre.pk]) in html
    assert [
        c.pk for c in client.get(reverse("centres:directory"), {"kind": "recognised"}).context["page"]
    ] == []

    page = client.get(reverse("centres:detail", args=[centre.pk]))
    assert page.status_code == 200
    for text in (
        "重庆市名录测试创新中心",
        "渝经信发〔2026〕21号",
        "2026-11-20",
        "CQZZCX-2026-021",
        "培育试点",
    ):
        assert text in page.content.decode(), text


@pytest.mark.django_db
def test_the_award_date_is_not_before_the_approval_nor_in_the_future(staff):
    application = application_approved(staff=staff)
    publicity.record_approval(
        application, staff, document_number="渝经信发〔2026〕40号", document_date=date(2026, 11, 20)
    )
    before = _award_state(application)
    tomorrow = timezone.localdate() + timedelta(days=1)

    with pytest.raises(ActionRefused) as refused:
        publicity.award(
            reload(application), staff, plaque_number="CQZZCX-2026-040", award_date=date(2020, 1, 1)
        )
    assert refused.value.message == "授牌日期2020-01-01早于批复日期2026-11-20：授牌须在批复之后。"
    with pytest.raises(ActionRefused, match=f"授牌日期{tomorrow:%Y-%m-%d}晚于今天"):
        publicity.award(reload(application), staff, plaque_number="CQZZCX-2026-040", award_date=tomorrow)
    assert _award_state(application) == before

    # On the day of the approval itself it is accepted.
    centre = publicity.award(
        reload(application), staff, plaque_number="CQZZCX-2026-040", award_date=date(2026, 11, 20)
    )
    assert (centre.approval_date, centre.award_date) == (date(2026, 11, 20), date(2026, 11, 20))


@pytest.mark.django_db
def test_an_approval_cannot_be_dated_in_the_future(staff):
    application = application_approved(staff=staff)
    tomorrow = timezone.localdate() + timedelta(days=1)
    with pytest.raises(ActionRefused, match=f"批复日期{tomorrow:%Y-%m-%d}晚于今天"):
        publicity.record_approval(
            application, staff, document_number="渝经信发〔2026〕41号", document_date=tomorrow
        )
    assert not Approval.objects.filter(application=application).exists()


@pytest.mark.django_db
def test_a_centre_is_never_created_with_an_award_before_its_approval(staff):
    from centres.services import create_centre

    application = application_approved(staff=staff)
    with pytest.raises(ActionRefused, match="早于批复日期"):
        create_centre(
            application,
            staff,
            approval_number="渝经信发〔2026〕42号",
            approval_date=date(2026, 12, 1),
            plaque_number="CQZZCX-2026-042",
            award_date=date(2020, 1, 1),
        )
    assert not Centre.objects.exists()


@pytest.mark.django_db
def test_the_staff_page_refuses_wrong_dates_on_their_fields_and_keeps_what_was_typed(client, staff):
    application = application_approved(staff=staff)
    url = reverse("evaluation:approval", args=[application.pk])
    client.force_login(staff)
    tomorrow = timezone.localdate() + timedelta(days=1)

    response = client.post(
        url,
        {
            "record_approval": "",
            "document_number": "渝经信发〔2026〕43号",
            "document_date": tomorrow.isoformat(),
        },
    )
    assert response.status_code == 200
    assert "晚于今天" in response.context["approval_form"].errors["document_date"][0]
    assert not Approval.objects.exists()

    client.post(
        url, {"record_approval": "", "document_number": "渝经信发〔2026〕43号", "document_date": "2026-11-20"}
    )
    response = client.post(
        url, {"award": "", "plaque_number": "CQZZCX-2026-043", "award_date": "2020-01-01", "confirm": "on"}
    )
    assert response.status_code == 200
    assert response.context["award_form"].errors["award_date"] == [
        "授牌日期2020-01-01早于批复日期2026-11-20：授牌须在批复之后。"
    ]
    html = response.content.decode()
    assert 'value="CQZZCX-2026-043"' in html and 'value="2020-01-01"' in html
    assert 'min="2026-11-20"' in html
    assert not Centre.objects.exists()
    assert reload(application).status == Status.APPROVED


@pytest.mark.django_db
def test_approval_and_award_through_the_staff_page(client, staff):
    application = application_approved(staff=staff, centre_name="重庆市页面授牌创新中心")
    url = reverse("evaluation:approval", args=[application.pk])
    client.force_login(staff)

    response = client.post(
        url, {"record_approval": "", "document_number": "渝经信发〔2026〕30号", "document_date": "2026-11-20"}
    )
    assert response.status_code == 302 and response["Location"] == url
    response = client.post(
        url, {"award": "", "plaque_number": "CQZZCX-2026-030", "award_date": "2026-11-26", "confirm": "on"}
    )

    centre = Centre.objects.get(application=application)
    assert response.status_code == 302 and response["Location"] == reverse("centres:detail", args=[centre.pk])
    assert (centre.approval_number, centre.plaque_number) == ("渝经信发〔2026〕30号", "CQZZCX-2026-030")
    for role in (Role.LEAD_UNIT, Role.EXPERT):
        client.force_login(user_with_role(role))
        assert client.get(url).status_code == 403


@pytest.mark.django_db
def test_the_application_page_of_an_approved_application_links_to_approval_and_award(client, staff):
    application = application_approved(staff=staff)
    client.force_login(staff)
    html = client.get(reverse("evaluation:application", args=[application.pk])).content.decode()
    assert reverse("evaluation:approval", args=[application.pk]) in html


# --- query counts of the public pages -----------------------------------------------------------------------


def _queries(client, url) -> int:
    """The queries of rendering ``url`` (a cache miss: the rows below are bulk-created, without the
    signals that invalidate the public-page cache, so it is invalidated here as a save would)."""
    public_cache.invalidate()
    cache.clear()  # and no cached fragment or count either
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


def _draft_applications(n) -> list[Application]:
    """Rows for the listing pages only (not a lifecycle): drafts of distinct lead units and fields."""
    fields = list(Field.objects.all())
    return [
        ApplicationFactory(centre_name=f"重庆市第{i}号创新中心", field=fields[i % len(fields)])
        for i in range(n)
    ]


def _announcement_rows(n, staff, *, ended: bool):
    now = timezone.now()
    rows = Announcement.objects.bulk_create(
        Announcement(
            title=f"{'往期' if ended else '当前'}公示{i}",
            list_type="recognise",
            starts_at=now - timedelta(days=20 if ended else 1),
            ends_at=now - timedelta(days=10) if ended else now + timedelta(days=6),
            working_days=5,
            created_by=staff,
            **ANNOUNCEMENT_CONTACTS,
        )
        for i in range(n)
    )
    applications = _draft_applications(2)
    AnnouncementEntry.objects.bulk_create(
        AnnouncementEntry(announcement=row, application=application, order=k)
        for row in rows
        for k, application in enumerate(applications)
    )


# Measured with this suite: what each page needs, whatever the number of rows.
LIST_QUERIES = 3  # open announcements; count and page of the past ones
DIRECTORY_QUERIES = 3  # the filter's field choices; count and page of centres
DETAIL_QUERIES = 3  # the announcement, its entries with lead units and fields, the form's entry choices


@pytest.mark.django_db
def test_the_announcement_list_needs_the_same_queries_for_1_and_100_announcements(client, staff):
    _announcement_rows(1, staff, ended=False)
    _announcement_rows(1, staff, ended=True)
    one = _queries(client, reverse("announcements:list"))
    _announcement_rows(99, staff, ended=False)
    _announcement_rows(99, staff, ended=True)
    hundred = _queries(client, reverse("announcements:list"))
    assert one == hundred <= LIST_QUERIES, (one, hundred)


@pytest.mark.django_db
def test_the_centre_directory_needs_the_same_queries_for_1_and_100_centres(client, staff):
    applications = _draft_applications(100)

    def centres(chosen):
        Centre.objects.bulk_create(
            Centre(
                application=a,
                name=a.centre_name,
                field=a.field,
                lead_unit=a.lead_unit,
                kind=Centre.Kind.RECOGNISED,
                approval_number=f"渝经信发〔2026〕{a.pk}号",
                approval_date=date(2026, 11, 20),
                plaque_number=f"CQZZCX-{a.pk}",
                award_date=date(2026, 11, 26),
                support_years=3,
                created_by=staff,
            )
            for a in chosen
        )

    centres(applications[:1])
    one = _queries(client, reverse("centres:directory"))
    centres(applications[1:])
    hundred = _queries(client, reverse("centres:directory"))
    assert one == hundred <= DIRECTORY_QUERIES, (one, hundred)
    assert client.get(reverse("centres:directory"), {"page": 4}).context["page"].number == 4


@pytest.mark.django_db
def test_an_announcement_page_needs_the_same_queries_for_1_and_100_entries(client, staff):
    now = timezone.now()
    announcement = Announcement.objects.create(
        title="名单很长的公示",
        list_type="recognise",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=6),
        working_days=5,
        created_by=staff,
        **ANNOUNCEMENT_CONTACTS,
    )
    applications = _draft_applications(100)
    AnnouncementEntry.objects.create(announcement=announcement, application=applications[0])
    one = _queries(client, detail_url(announcement))
    AnnouncementEntry.objects.bulk_create(
        AnnouncementEntry(announcement=announcement, application=a, order=i)
        for i, a in enumerate(applications[1:], 1)
    )
    response = client.get(detail_url(announcement))
    assert all(a.centre_name in response.content.decode() for a in applications)
    hundred = _queries(client, detail_url(announcement))
    assert one == hundred <= DETAIL_QUERIES, (one, hundred)

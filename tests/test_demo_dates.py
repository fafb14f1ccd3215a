"""The demo works on any day: loaded with the clock at any date, every step of its history lies in the past
and in order, every stage the README lists is there; on a day of a year whose holidays are not entered, every
other stage is there and the staff are told to enter that year's holidays first."""

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from applications.models import Application, ApplicationEvent, Status
from centres.models import Centre, DistrictCentre
from config import clock
from evaluation.models import Announcement
from evaluation.workflow import leadership_approved
from reports.demo import last_year_due
from reports.models import AnnualSummary, Assessment

pytestmark = pytest.mark.django_db
REVIEW = {
    "重庆市高档数控机床创新中心": Status.EXPERT_REVIEW,
    "重庆市生物医药创新中心": Status.SITE_INSPECTION,
    "重庆市集成电路创新中心": Status.COMPREHENSIVE,
    "重庆市智能装备创新中心": Status.LEADERSHIP,
}
OPEN_PUBLICITY = "重庆市新材料创新中心"


def status_of(name: str) -> str:
    return Application.objects.get(centre_name=name).status


def assert_every_stage_but_open_publicity(today: date) -> None:
    now = timezone.now()
    # lead_demo: a draft and a plan waiting for 材料初审
    assert status_of("重庆市工业互联网创新中心") == Status.DRAFT
    assert status_of("重庆市智能网联汽车创新中心") == Status.SUBMITTED
    for name, status in REVIEW.items():
        assert status_of(name) == status, name
    # 委主任办公会审定: approved, ready to publish
    assert leadership_approved(Application.objects.get(centre_name="重庆市智能装备创新中心"))
    # awarded centres, each approved before its award, both in the past
    centres = {c.name: c for c in Centre.objects.all()}
    assert set(centres) == {
        "重庆市物联网创新中心",
        "重庆市虚拟现实创新中心",
        "重庆市能源及环保装备创新中心",
        "重庆市现代航空装备创新中心",
    }
    for centre in centres.values():
        assert centre.approval_date <= centre.award_date <= today, centre.name
        announcement = Announcement.objects.get(entries__application=centre.application)
        assert announcement.closed_at is not None  # the closed announcements
        assert announcement.ends_at.date() < centre.approval_date
    year = last_year_due(today)
    accepted = AnnualSummary.objects.get(centre=centres["重庆市物联网创新中心"], reporting_year__year=year)
    assert accepted.state == AnnualSummary.State.ACCEPTED
    assert accepted.reporting_year.due_date < today
    overdue = AnnualSummary.objects.get(centre=centres["重庆市虚拟现实创新中心"], reporting_year__year=year)
    assert overdue.state not in (AnnualSummary.State.SUBMITTED, AnnualSummary.State.ACCEPTED)
    assert Assessment.objects.filter(
        centre=centres["重庆市物联网创新中心"], confirmed_at__isnull=True
    ).exists()
    assert centres["重庆市物联网创新中心"].nominations.exists()
    assert centres["重庆市能源及环保装备创新中心"].status == Centre.Status.EXCLUDED
    assert centres["重庆市能源及环保装备创新中心"].excluded_until > today
    assert centres["重庆市现代航空装备创新中心"].status == Centre.Status.WITHDRAWN
    # special support: a centre's first year granted and disbursed, its second granted
    lines = centres["重庆市虚拟现实创新中心"].support_grants.order_by("year")
    assert [(g.support_year, g.status) for g in lines] == [(1, "disbursed"), (2, "granted")]
    assert all(g.planned_on <= g.granted_on <= today for g in lines)
    # a district-level centre recommended upwards, linked to the lead unit's municipal application
    recommended = DistrictCentre.objects.get(name="两江新区智能网联汽车创新中心")
    assert recommended.status == DistrictCentre.Status.RECOMMENDED
    assert recommended.application.centre_name == "重庆市智能网联汽车创新中心"
    # every step was taken in the past, and each application's history is in calendar order
    assert not ApplicationEvent.objects.filter(created_at__gt=now).exists()
    for application in Application.objects.all():
        moments = list(application.events.order_by("pk").values_list("created_at", flat=True))
        assert moments == sorted(moments), application.centre_name
    # numbers follow the order of submission
    submitted = Application.objects.exclude(number=None).order_by("submitted_at")
    numbers = [a.number for a in submitted]
    assert len(set(numbers)) == len(numbers)
    assert sorted(numbers, key=lambda n: (n.split("-")[2], n)) == numbers


def staff_publish_page(client) -> str:
    client.force_login(User.objects.get(username="staff_demo"))
    return client.get(reverse("evaluation:publicity_new")).content.decode()


@pytest.mark.parametrize(
    "day",
    [date(2026, 12, 21), date(2026, 12, 31), date(2026, 10, 4)],  # the last: inside National Day
)
def test_the_demo_loaded_on_a_known_day_has_every_stage_of_the_readme(day, client):
    with clock.at(clock.china(day, 11)):
        call_command("seed_demo", stdout=io.StringIO())
        assert_every_stage_but_open_publicity(day)
        application = Application.objects.get(centre_name=OPEN_PUBLICITY)
        assert application.status == Status.PUBLICITY
        announcement = Announcement.objects.get(entries__application=application)
        assert announcement.starts_at < timezone.now() < announcement.ends_at  # open, within a known year
        page = staff_publish_page(client)
        assert "重庆市智能装备创新中心" in page  # ready to publish
        # publishing today would reach 2027 only from the last days of December
        assert ("尚未录入2027年的法定节假日" in page) == (day == date(2026, 12, 31))
        call_command("seed_demo", stdout=io.StringIO())  # idempotent on that day too
        assert Application.objects.filter(centre_name=OPEN_PUBLICITY).count() == 1


def test_the_demo_loaded_in_a_year_whose_holidays_are_not_entered_shows_every_other_stage(client):
    day = date(2027, 3, 1)
    with clock.at(clock.china(day, 11)):
        call_command("seed_demo", stdout=io.StringIO())
        assert_every_stage_but_open_publicity(day)
        # the plan that would be in publicity waits, approved, for the year's holidays
        application = Application.objects.get(centre_name=OPEN_PUBLICITY)
        assert application.status == Status.LEADERSHIP and leadership_approved(application)
        assert not Announcement.objects.filter(closed_at__isnull=True).exists()
        page = staff_publish_page(client)
        assert "尚未录入2027年的法定节假日" in page
        assert OPEN_PUBLICITY in page

"""Issue 19, upgrades and nominations: the district-level centres' register kept by district staff, a
district's recommendation to apply at municipal level and the municipal application linked to it; national
nominations only for active, non-excluded recognised centres; a centre whose annual summary is more than
the policy's months overdue is flagged for a staff decision (withdraw or not), never automatically."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.roles import Role
from applications.models import Application
from applications.services import ActionRefused
from centres import services as centre_services
from centres.models import Centre, CentreEvent, DistrictCentre, Nomination
from reports import overdue
from reports.models import OverdueDecision, ReportingYear
from tests.factories import (
    annual_summary,
    awarded_centre,
    complete_application,
    district_staff_in,
    policy_version,
    user_with_role,
)

pytestmark = pytest.mark.django_db

D = datetime.date


def today():
    return timezone.localdate()


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


@pytest.fixture
def lead(db):
    return user_with_role(Role.LEAD_UNIT, full_name="李明")  # 渝北区


@pytest.fixture
def district(db):
    return user_with_role(Role.DISTRICT_STAFF, full_name="王芳")  # 渝北区


def register(district, lead, name="渝北区智能装备创新中心"):
    return centre_services.register_district_centre(
        district,
        name=name,
        lead_unit=lead.organisation,
        recognised_on=D(2024, 5, 1),
        document_number="渝北经信〔2024〕3号",
    )


# --- district-level centres ------------------------------------------------------------------------------


def test_district_staff_register_recommend_and_the_lead_unit_links_its_application(district, lead, staff):
    dc = register(district, lead)
    assert (dc.district_id, dc.status) == (district.district_id, DistrictCentre.Status.REGISTERED)
    other_district = district_staff_in("500103")
    with pytest.raises(ActionRefused, match="只有该区县的区县经信委工作人员"):
        centre_services.recommend_district_centre(
            dc, other_district, recommended_on=today(), recommendation="推荐"
        )
    with pytest.raises(ActionRefused, match="区县推荐后才能关联"):
        centre_services.link_application(dc, complete_application(lead_user=lead), lead)
    dc = centre_services.recommend_district_centre(
        dc, district, recommended_on=today(), recommendation="建设成效显著，推荐申报市级。"
    )
    assert dc.status == DistrictCentre.Status.RECOMMENDED
    assert Notification.objects.filter(recipient=lead, subject__contains="推荐申报市级").exists()
    assert Notification.objects.filter(recipient=staff, subject__contains="推荐申报市级").exists()
    with pytest.raises(ActionRefused, match="已于"):
        centre_services.recommend_district_centre(dc, district, recommended_on=today(), recommendation="再次")

    foreign = complete_application(lead_user=user_with_role(Role.LEAD_UNIT))
    with pytest.raises(ActionRefused, match="只能关联该牵头单位自己的"):
        centre_services.link_application(dc, foreign, staff)
    application = complete_application(lead_user=lead)
    dc = centre_services.link_application(dc, application, lead)
    assert Application.objects.get(pk=application.pk).district_centre == dc

    # The award of that application upgrades the district-level centre in its register.
    centre_services.create_centre(
        application,
        staff,
        approval_number="渝经信发〔2026〕1号",
        approval_date=today(),
        plaque_number="CQMIC-UP-1",
        award_date=today(),
    )
    assert DistrictCentre.objects.get(pk=dc.pk).status == DistrictCentre.Status.UPGRADED


def test_only_district_staff_register_and_a_name_is_registered_once(district, lead, staff):
    with pytest.raises(ActionRefused, match="只有区县经信委工作人员"):
        register(staff, lead)
    register(district, lead)
    with pytest.raises(ActionRefused, match="已有"):
        register(district, lead)


def test_the_register_pages_show_each_viewer_their_part(client, district, lead, staff):
    mine = register(district, lead)
    other_staff = district_staff_in("500103")
    theirs = register(other_staff, user_with_role(Role.LEAD_UNIT), name="渝中区物联网创新中心")
    client.force_login(district)
    page = client.get(reverse("centres:district_register")).content.decode()
    assert mine.name in page and theirs.name not in page
    assert client.get(reverse("centres:district_centre", args=[theirs.pk])).status_code == 403
    response = client.post(
        reverse("centres:district_register"),
        {
            "name": "渝北区新材料创新中心",
            "lead_unit_credit_code": lead.organisation.credit_code,
            "recognised_on": "2025-01-10",
            "document_number": "渝北经信〔2025〕1号",
        },
    )
    assert response.status_code == 302
    assert DistrictCentre.objects.filter(name="渝北区新材料创新中心", district=district.district).exists()
    bad = client.post(
        reverse("centres:district_register"),
        {"name": "渝北区X中心", "lead_unit_credit_code": "91500000000000000X", "recognised_on": "2025-01-10"},
    )
    assert bad.status_code == 200 and "没有找到该统一社会信用代码的注册单位" in bad.content.decode()
    assert 'value="渝北区X中心"' in bad.content.decode()  # a failed form keeps what was typed

    response = client.post(
        reverse("centres:district_centre", args=[mine.pk]),
        {"recommend": "1", "recommended_on": today().isoformat(), "recommendation": "推荐申报市级。"},
    )
    assert response.status_code == 302
    client.force_login(lead)
    application = complete_application(lead_user=lead)
    page = client.get(reverse("centres:district_centre", args=[mine.pk])).content.decode()
    assert "关联市级申报" in page
    response = client.post(
        reverse("centres:district_centre", args=[mine.pk]), {"link": "1", "application": application.pk}
    )
    assert response.status_code == 302
    assert DistrictCentre.objects.get(pk=mine.pk).application_id == application.pk
    client.force_login(staff)
    assert theirs.name in client.get(reverse("centres:district_register")).content.decode()


def test_the_district_register_keeps_a_fixed_number_of_queries(
    client, district, lead, django_assert_max_num_queries
):
    client.force_login(district)
    register(district, lead, name="一号中心")
    client.get(reverse("centres:district_register"))  # the session's first request renews it
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("centres:district_register"))
    for n in range(5):
        register(district, user_with_role(Role.LEAD_UNIT), name=f"中心{n}")
    with django_assert_max_num_queries(30) as many:
        client.get(reverse("centres:district_register"))
    assert len(many.captured_queries) == len(few.captured_queries)


# --- national nominations --------------------------------------------------------------------------------


def test_national_nominations_only_for_recognised_centres_and_not_to_municipal(staff, lead):
    pilot = awarded_centre(lead_user=lead, kind=Centre.Kind.PILOT)
    with pytest.raises(ActionRefused, match="培育试点创新中心须经验收认定"):
        centre_services.nominate(pilot, staff, kind=Nomination.Kind.TO_NATIONAL, nominated_on=today())
    centre = awarded_centre(lead_user=lead)
    with pytest.raises(ActionRefused, match="市级创新中心只能推荐争创国家级"):
        centre_services.nominate(centre, staff, kind=Nomination.Kind.TO_MUNICIPAL, nominated_on=today())
    nomination = centre_services.nominate(
        centre, staff, kind=Nomination.Kind.TO_NATIONAL, nominated_on=today()
    )
    assert nomination.get_outcome_display() == "已报送，待定"
    centre_services.record_outcome(
        nomination, staff, outcome=Nomination.Outcome.FAILED, outcome_date=today(), document="工信部函"
    )
    assert Centre.objects.get(pk=centre.pk).is_national is False  # not approved: not national in public


# --- long-overdue annual summaries -----------------------------------------------------------------------


@pytest.fixture
def late(staff, lead):
    """A centre whose 2024 summary was due seven months ago and was never filed."""
    centre = awarded_centre(lead_user=lead, award_date=D(2022, 6, 1), name="逾期中心")
    year = ReportingYear.objects.create(
        year=2024, due_date=overdue.months_before(today(), 7), opened_by=staff
    )
    return annual_summary(centre, year)


def test_a_summary_overdue_beyond_the_policy_months_is_flagged_never_withdrawn_by_itself(late):
    assert list(overdue.flagged()) == [late]
    assert Centre.objects.get(pk=late.centre_id).status == Centre.Status.ACTIVE
    policy_version(summary_overdue_months=8)
    assert list(overdue.flagged()) == []


def test_staff_decide_not_to_withdraw_with_a_reason_and_the_flag_goes(staff, lead, late):
    with pytest.raises(ActionRefused, match="只有市经济信息委工作人员"):
        overdue.decide(late, lead, withdraw=False, reason="x")
    with pytest.raises(ActionRefused, match="请写明理由"):
        overdue.decide(late, staff, withdraw=False, reason=" ")
    overdue.decide(late, staff, withdraw=False, reason="企业重组，已书面说明，限期补报。")
    assert list(overdue.flagged()) == []
    assert Centre.objects.get(pk=late.centre_id).status == Centre.Status.ACTIVE
    assert CentreEvent.objects.filter(centre_id=late.centre_id, action="overdue_kept").exists()
    with pytest.raises(ActionRefused, match="已作出决定"):
        overdue.decide(late, staff, withdraw=True, reason="再次")


def test_staff_withdraw_the_title_from_the_overdue_page(client, staff, lead, late):
    client.force_login(staff)
    url = reverse("reports:overdue")
    page = client.get(url).content.decode()
    assert "逾期中心" in page
    prefix = f"s{late.pk}"
    unconfirmed = client.post(
        url, {f"{prefix}-summary": late.pk, f"{prefix}-withdraw": "1", f"{prefix}-reason": "长期未报送"}
    )
    assert unconfirmed.status_code == 200 and Centre.objects.get(pk=late.centre_id).status == "active"
    assert "撤销称号前请勾选确认" in unconfirmed.content.decode()
    response = client.post(
        url,
        {
            f"{prefix}-summary": late.pk,
            f"{prefix}-withdraw": "1",
            f"{prefix}-reason": "长期未报送",
            f"{prefix}-confirm": "on",
        },
    )
    assert response.status_code == 302
    centre = Centre.objects.get(pk=late.centre_id)
    assert centre.status == Centre.Status.WITHDRAWN and "长期未报送" in centre.withdrawal_reason
    assert OverdueDecision.objects.get(centre=centre).withdraw is True
    assert Notification.objects.filter(recipient=lead, subject__contains="撤销").exists()

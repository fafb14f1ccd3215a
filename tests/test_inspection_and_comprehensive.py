"""现场考核 (evaluation.inspection) and 综合评估 (evaluation.comprehensive): the leader's sign-off and
the lock, closing the stage, the composite and the bands, and staff's decision with or without a reason."""

import contextlib
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.roles import Role
from applications.models import Application, ApplicationEvent, Policy, Status
from applications.services import ActionRefused
from evaluation import comprehensive, inspection, workflow
from evaluation.models import ComprehensiveEvaluation, InspectionFile, SiteInspection
from tests.factories import (
    PDF_BYTES,
    application_in,
    application_in_expert_review,
    complete_site_inspection,
    expert_with_profile,
    panel_with_experts,
    policy_version,
    stamp_policy,
    submit_sheet,
    user_with_role,
)

ALL_FOUND = {item: {"ok": True, "finding": "与申报材料一致。"} for item in SiteInspection.Item.values}


def reload(application) -> Application:
    return Application.objects.get(pk=application.pk)


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


@pytest.fixture
def leader(db):
    return expert_with_profile(full_name="刘组长")


@pytest.fixture
def visiting(staff, leader):
    """An application in 现场考核 whose inspection is opened with an expert as leader, nothing filled in."""
    application = application_in("site_inspection", staff=staff)
    return inspection.open_inspection(application, staff, leader=leader)


def fill(record, user, **overrides):
    values = {
        "findings": ALL_FOUND,
        "score": Decimal("86.5"),
        "conclusion": "现场考核通过。",
        "visit_date": timezone.localdate(),
        "team": "刘组长，重庆大学，教授",
    }
    values.update(overrides)
    return inspection.save_record(record, user, **values)


# --- 6. site inspection ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_the_leader_signs_off(visiting, staff):
    fill(visiting, staff)
    for someone in (staff, expert_with_profile(), user_with_role(Role.LEAD_UNIT)):
        with pytest.raises(ActionRefused) as refused:
            inspection.sign_off(visiting, someone)
        assert refused.value.message == "只有考核组长可以签字确认。"
    assert SiteInspection.objects.get(pk=visiting.pk).signed_off_at is None
    inspection.sign_off(visiting, visiting.leader)
    assert SiteInspection.objects.get(pk=visiting.pk).signed_off_at is not None


@pytest.mark.django_db
def test_sign_off_is_refused_while_the_record_is_incomplete_listing_what_is_missing(visiting, leader):
    partial = {
        "premises": {"ok": True, "finding": "场地与租赁合同一致。"},
        "equipment": {"ok": True, "finding": "设备与台账一致。"},
        "staff": {"ok": False, "finding": "   "},  # blank counts as missing
        "rd_ledger": {"ok": True, "finding": "已核对。"},
    }
    inspection.save_record(visiting, leader, findings=partial, score=None, conclusion="")
    with pytest.raises(ActionRefused) as refused:
        inspection.sign_off(visiting, leader)
    assert refused.value.message == "现场考核记录不完整，不能签字："
    # No date, the three items without a finding (in checklist order), no score, no conclusion.
    assert refused.value.details == [
        "请填写考核日期。",
        "“人员花名册与社保缴纳记录相符”尚未填写核查情况。",
        "“审计报告”尚未填写核查情况。",
        "“联盟及专家委员会会议纪要”尚未填写核查情况。",
        "请填写现场考核得分。",
        "请填写考核结论。",
    ]
    assert SiteInspection.objects.get(pk=visiting.pk).signed_off_at is None


@pytest.mark.django_db
def test_sign_off_locks_the_record(visiting, staff, leader):
    fill(visiting, leader)
    inspection.sign_off(visiting, leader)
    before = SiteInspection.objects.filter(pk=visiting.pk).values()[0]
    for user in (leader, staff):
        with pytest.raises(ActionRefused) as refused:
            fill(visiting, user, score=Decimal("60"), conclusion="改")
        assert refused.value.message == "现场考核已由组长签字确认，不能再修改。"
        with pytest.raises(ActionRefused):
            inspection.add_file(visiting, user, SimpleUploadedFile("photo.pdf", PDF_BYTES))
    with pytest.raises(ActionRefused):
        inspection.sign_off(visiting, leader)
    assert SiteInspection.objects.filter(pk=visiting.pk).values()[0] == before
    assert not InspectionFile.objects.exists()


@pytest.mark.django_db
def test_a_signed_off_record_cannot_be_reopened_with_another_leader(visiting, staff, leader):
    fill(visiting, leader)
    inspection.sign_off(visiting, leader)
    before = SiteInspection.objects.filter(pk=visiting.pk).values()[0]
    with contextlib.suppress(ActionRefused):  # refusing would be a fine fix
        inspection.open_inspection(reload(visiting.application), staff, leader=staff)
    assert SiteInspection.objects.filter(pk=visiting.pk).values()[0] == before


@pytest.mark.django_db
def test_the_sign_off_history_entry_has_a_readable_label(visiting, leader):
    fill(visiting, leader)
    inspection.sign_off(visiting, leader)
    event = ApplicationEvent.objects.get(application=visiting.application, action="inspection_signed_off")
    assert event.actor == leader
    assert event.comment == "现场考核得分86.5。现场考核通过。"
    assert event.action_label != "inspection_signed_off"


@pytest.mark.django_db
def test_the_inspection_page_keeps_a_signed_off_record_unchanged(client, visiting, leader):
    fill(visiting, leader)
    inspection.sign_off(visiting, leader)
    before = SiteInspection.objects.filter(pk=visiting.pk).values()[0]
    client.force_login(leader)
    url = reverse("evaluation:inspection_record", args=[visiting.application_id])
    response = client.post(url, {"save_record": "1", "score": "50", "conclusion": "改了"})
    assert response.status_code == 200
    assert "不能再修改" in response.content.decode()
    assert SiteInspection.objects.filter(pk=visiting.pk).values()[0] == before


@pytest.mark.django_db
def test_the_leader_fills_in_and_signs_off_through_the_page(client, visiting, leader):
    client.force_login(leader)
    sign_off = reverse("evaluation:inspection_sign_off", args=[visiting.application_id])
    url = reverse("evaluation:inspection_record", args=[visiting.application_id])
    refused = client.post(sign_off, {"sign_off": "1"})
    assert refused.status_code == 200
    assert "请填写考核日期。" in refused.content.decode()
    data = {
        "save_record": "1",
        "visit_date": "2026-05-20",
        "team": "刘组长",
        "score": "88",
        "conclusion": "通过",
    }
    for item in SiteInspection.Item.values:
        data[f"ok_{item}"] = "on"
        data[f"finding_{item}"] = "一致"
    assert client.post(url, data).status_code == 302
    assert client.post(sign_off, {"sign_off": "1"}).status_code == 302
    record = SiteInspection.objects.get(pk=visiting.pk)
    assert record.signed_off_at is not None
    assert record.score == Decimal(88)


@pytest.mark.django_db
def test_each_inspection_action_is_its_own_view_with_its_own_permission(client, staff, visiting, leader):
    """Saving, uploading and signing off are three views (POST only); signing is the leader's alone."""
    fill(visiting, leader)
    pk = visiting.application_id
    client.force_login(staff)
    for name in ("inspection_record", "inspection_upload", "inspection_sign_off"):
        assert client.get(reverse(f"evaluation:{name}", args=[pk])).status_code == 405
    assert client.post(reverse("evaluation:inspection_sign_off", args=[pk])).status_code == 403
    assert SiteInspection.objects.get(pk=visiting.pk).signed_off_at is None
    assert staff.has_perm("evaluation.fill_inspection", visiting)
    assert not staff.has_perm("evaluation.sign_off_inspection", visiting)
    assert leader.has_perm("evaluation.sign_off_inspection", visiting)
    client.force_login(leader)
    assert client.post(reverse("evaluation:inspection_sign_off", args=[pk])).status_code == 302
    assert SiteInspection.objects.get(pk=visiting.pk).signed_off_at is not None


@pytest.mark.django_db
def test_close_site_inspection_is_refused_before_the_inspection_is_opened_or_signed_off(staff, leader):
    application = application_in("site_inspection", staff=staff)
    with pytest.raises(ActionRefused) as refused:
        workflow.close_site_inspection(application, staff)
    assert refused.value.details == ["尚未安排现场考核。"]
    record = inspection.open_inspection(application, staff, leader=leader)
    fill(record, leader)
    with pytest.raises(ActionRefused) as refused:
        workflow.close_site_inspection(application, staff)
    assert refused.value.details == ["现场考核记录尚未由考核组长签字确认。"]
    assert reload(application).status == Status.SITE_INSPECTION
    inspection.sign_off(record, leader)
    workflow.close_site_inspection(application, staff)
    assert reload(application).status == Status.COMPREHENSIVE


@pytest.mark.django_db
def test_only_staff_open_an_inspection_and_only_in_its_stage(staff, leader):
    application = application_in("site_inspection", staff=staff)
    with pytest.raises(ActionRefused):
        inspection.open_inspection(application, leader, leader=leader)
    early = application_in_expert_review(staff=staff)
    with pytest.raises(ActionRefused) as refused:
        inspection.open_inspection(early, staff, leader=leader)
    assert "专家论证" in refused.value.message
    assert not SiteInspection.objects.exists()


# --- 7. comprehensive evaluation ---------------------------------------------------------------------------


def in_comprehensive(
    staff, expert_totals, site_score, policy: Policy | None = None, **overrides
) -> Application:
    """An application brought to 综合评估 for real: a panel whose experts submit ``expert_totals``, closed;
    the site inspection signed off with ``site_score``, closed. ``policy`` is stamped before scoring."""
    application = application_in_expert_review(staff=staff, **overrides)
    if policy is not None:
        application = stamp_policy(application, policy)
    _panel, assignments = panel_with_experts(application, staff, size=len(expert_totals))
    for assignment, total in zip(assignments, expert_totals, strict=True):
        submit_sheet(assignment, total=total)
    workflow.close_expert_review(application, staff)
    complete_site_inspection(application, staff, score=Decimal(str(site_score)))
    workflow.close_site_inspection(application, staff)
    application = reload(application)
    assert application.status == Status.COMPREHENSIVE
    return application


@pytest.mark.django_db
def test_the_default_policy_has_the_domain_bands_and_weight():
    policy = Policy.current()
    assert (policy.band_recognise_min, policy.band_pilot_min) == (Decimal(80), Decimal(70))
    assert policy.composite_expert_weight == 60


EDGES_DEFAULT = [
    ("80.00", True, "recognise"),  # exactly band_recognise_min → 拟认定
    ("79.99", True, "pilot"),  # just below → 培育试点
    ("70.00", True, "pilot"),  # exactly band_pilot_min → 培育试点
    ("69.99", True, "reject"),  # just below → 不予认定
    ("100.00", True, "recognise"),
    ("0.00", True, "reject"),
    ("80.00", False, "pilot"),  # a failed basic condition caps 拟认定 at 培育试点
    ("100.00", False, "pilot"),
    ("70.00", False, "pilot"),
    ("69.99", False, "reject"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("composite,eligible,expected", EDGES_DEFAULT)
def test_recommendation_at_the_default_band_edges(composite, eligible, expected):
    assert comprehensive.recommend(Decimal(composite), eligible, Policy.current()) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "composite,eligible,expected",
    [
        ("85.50", True, "recognise"),
        ("85.49", True, "pilot"),
        ("72.00", True, "pilot"),
        ("71.99", True, "reject"),
        ("80.00", True, "pilot"),  # 拟认定 under the default bands, not under these
        ("85.50", False, "pilot"),
    ],
)
def test_recommendation_follows_the_bands_of_the_policy_version(composite, eligible, expected):
    policy = policy_version(band_recognise_min=Decimal("85.50"), band_pilot_min=Decimal(72))
    assert comprehensive.recommend(Decimal(composite), eligible, policy) == expected


@pytest.mark.django_db
def test_composite_with_the_default_weight(staff):
    application = in_comprehensive(staff, [90] * 5, 85)
    figures = comprehensive.compute(application)
    # (60 × 90.00 + 40 × 85.0) / 100 = (5400 + 3400) / 100 = 88.00 → 拟认定
    assert figures["expert_score"] == Decimal("90.00")
    assert figures["site_score"] == Decimal("85.0")
    assert figures["weight"] == Decimal(60)
    assert figures["composite"] == Decimal("88.00")
    assert figures["eligibility_passed"] is True
    assert figures["recommendation"] == "recognise"


@pytest.mark.django_db
def test_composite_with_another_weight_and_rounding(staff):
    policy = policy_version(composite_expert_weight=55, score_aggregate=Policy.Aggregate.TRIMMED_MEAN)
    application = in_comprehensive(staff, [70, 70, 80, 95, 95], "77.5", policy=policy)
    figures = comprehensive.compute(application)
    # expert: trimmed mean of 70, 70, 80, 95, 95 → (70 + 80 + 95) / 3 = 81.666… → 81.67
    # (55 × 81.67 + 45 × 77.5) / 100 = (4491.85 + 3487.5) / 100 = 79.7935 → 79.79 → 培育试点
    assert figures["expert_score"] == Decimal("81.67")
    assert figures["weight"] == Decimal(55)
    assert figures["composite"] == Decimal("79.79")
    assert figures["recommendation"] == "pilot"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "expert,site,composite,recommendation",
    [
        # (60 × 80 + 40 × 80) / 100 = 80.00: exactly the line → 拟认定
        (80, "80", "80.00", "recognise"),
        # (60 × 80 + 40 × 79.9) / 100 = (4800 + 3196) / 100 = 79.96 → 培育试点
        (80, "79.9", "79.96", "pilot"),
        # (60 × 70 + 40 × 70) / 100 = 70.00 → 培育试点
        (70, "70", "70.00", "pilot"),
        # (60 × 70 + 40 × 69.9) / 100 = (4200 + 2796) / 100 = 69.96 → 不予认定
        (70, "69.9", "69.96", "reject"),
    ],
)
def test_composite_at_the_band_edges_end_to_end(staff, expert, site, composite, recommendation):
    application = in_comprehensive(staff, [expert] * 5, site)
    figures = comprehensive.compute(application)
    assert figures["composite"] == Decimal(composite)
    assert figures["recommendation"] == recommendation


@pytest.mark.django_db
def test_a_failed_basic_condition_caps_the_recommendation_at_pilot(staff):
    # 10 R&D staff of 1000 employees: 1% against the 30% the policy asks → a basic condition fails.
    application = in_comprehensive(staff, [95] * 5, 95, rd_staff=10)
    assert application.eligibility["passed"] is False
    figures = comprehensive.compute(application)
    # (60 × 95 + 40 × 95) / 100 = 95.00, well above 80, yet 培育试点
    assert figures["composite"] == Decimal("95.00")
    assert figures["eligibility_passed"] is False
    assert figures["recommendation"] == "pilot"


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   \n"])
def test_deciding_other_than_the_recommendation_needs_a_reason(staff, reason):
    application = in_comprehensive(staff, [90] * 5, 85)  # 88.00 → 拟认定
    with pytest.raises(ActionRefused) as refused:
        comprehensive.decide(application, staff, "pilot", reason)
    assert refused.value.message == "评估结论与系统建议（拟认定）不一致，须写明理由。"
    assert reload(application).status == Status.COMPREHENSIVE
    assert not ComprehensiveEvaluation.objects.filter(application=application).exists()


@pytest.mark.django_db
def test_deciding_other_than_the_recommendation_with_a_reason_goes_to_leadership(staff):
    application = in_comprehensive(staff, [90] * 5, 85)  # 88.00 → 拟认定
    evaluation = comprehensive.decide(application, staff, "pilot", "  研发人员尚在招聘，先行培育。 ")
    stored = reload(application)
    assert stored.status == Status.LEADERSHIP
    assert stored.outcome == "pilot"
    evaluation.refresh_from_db()
    assert (evaluation.recommendation, evaluation.decision) == ("recognise", "pilot")
    assert evaluation.reason == "研发人员尚在招聘，先行培育。"
    assert evaluation.composite == Decimal("88.00")
    assert evaluation.decided_by == staff


@pytest.mark.django_db
@pytest.mark.parametrize(
    "totals,site,decision,status,outcome",
    [
        ([90] * 5, 85, "recognise", Status.LEADERSHIP, "recognise"),  # 88.00 → 拟认定, as recommended
        ([75] * 5, 75, "pilot", Status.LEADERSHIP, "pilot"),  # 75.00 → 培育试点, as recommended
        ([60] * 5, 60, "reject", Status.REJECTED, ""),  # 60.00 → 不予认定, as recommended
    ],
)
def test_deciding_as_recommended_needs_no_reason_and_moves_the_application(
    staff, totals, site, decision, status, outcome
):
    application = in_comprehensive(staff, totals, site)
    evaluation = comprehensive.decide(application, staff, decision)
    stored = reload(application)
    assert stored.status == status
    assert stored.outcome == outcome
    assert evaluation.decision == evaluation.recommendation == decision
    assert evaluation.reason == ""


@pytest.mark.django_db
def test_rejecting_against_a_recommendation_with_a_reason_rejects(staff):
    application = in_comprehensive(staff, [90] * 5, 85)  # 拟认定
    comprehensive.decide(application, staff, "reject", "现场发现研发场地为临时租用。")
    stored = reload(application)
    assert stored.status == Status.REJECTED
    assert stored.outcome == ""
    assert ComprehensiveEvaluation.objects.get(application=application).decision == "reject"


@pytest.mark.django_db
def test_decide_refuses_an_unknown_decision_someone_not_staff_and_the_wrong_stage(staff):
    application = in_comprehensive(staff, [90] * 5, 85)
    with pytest.raises(ActionRefused):
        comprehensive.decide(application, staff, "recognize")
    with pytest.raises(ActionRefused):
        comprehensive.decide(application, expert_with_profile(), "recognise")
    assert reload(application).status == Status.COMPREHENSIVE
    earlier = application_in("site_inspection", staff=staff)
    with pytest.raises(ActionRefused) as refused:
        comprehensive.decide(earlier, staff, "recognise")
    assert "现场考核" in refused.value.message
    assert not ComprehensiveEvaluation.objects.exists()


@pytest.mark.django_db
def test_the_comprehensive_page_refuses_a_departure_without_reason_and_keeps_the_choice(client, staff):
    application = in_comprehensive(staff, [90] * 5, 85)
    client.force_login(staff)
    url = reverse("evaluation:comprehensive", args=[application.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "88.00" in page.content.decode()
    response = client.post(url, {"decision": "pilot", "reason": "", "confirm": "on"})
    assert response.status_code == 200
    assert "须写明理由" in response.content.decode()
    assert response.context["form"]["decision"].value() == "pilot"
    assert reload(application).status == Status.COMPREHENSIVE
    response = client.post(url, {"decision": "pilot", "reason": "先行培育。", "confirm": "on"})
    assert response.status_code == 302
    assert reload(application).outcome == "pilot"

"""Demo data for the review: an expert pool and applications waiting in each review stage. Idempotent."""

from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from accounts.demo import DEMO_PASSWORD
from accounts.models import District, Organisation, User
from accounts.roles import Role
from accounts.validators import credit_code_check_character
from applications import services
from applications.demo import fill_complete
from applications.models import Application, Field
from applications.services import ActionRefused
from evaluation import comprehensive, inspection, panels, publicity, workdays, workflow
from evaluation.models import Announcement, Assignment, ExpertProfile, PreliminaryCheck, SiteInspection

EXPERTS = [
    # username, name, title, employer name, employer code (17 chars), field names
    ("expert2_demo", "孙强", "研究员", "重庆示范研究院", "12500000450500DEM", ["高档数控机床", "智能装备"]),
    ("expert3_demo", "周敏", "教授", "重庆示范理工大学", "12500000450600DEM", ["生物医药", "化工新材料"]),
    ("expert4_demo", "吴涛", "高级工程师", "重庆示范检测中心", "12500000450700DEM", ["集成电路", "物联网"]),
    ("expert5_demo", "郑丽", "正高级会计师", "重庆示范会计师事务所", "91500000450800DEM", []),
]
# centre name, field, lead unit name, lead unit code (17 chars), how far the review gets
STAGES = [
    (
        "重庆市高档数控机床创新中心",
        "高档数控机床",
        "重庆示范机床集团有限公司",
        "91500000MA60DEM10",
        "expert_review",
    ),
    (
        "重庆市生物医药创新中心",
        "生物医药",
        "重庆示范药业股份有限公司",
        "91500000MA60DEM20",
        "site_inspection",
    ),
    ("重庆市集成电路创新中心", "集成电路", "重庆示范微电子有限公司", "91500000MA60DEM30", "comprehensive"),
    ("重庆市智能装备创新中心", "智能装备", "重庆示范智能装备有限公司", "91500000MA60DEM40", "leadership"),
    ("重庆市新材料创新中心", "化工新材料", "重庆示范新材料有限公司", "91500000MA60DEM50", "publicity"),
    ("重庆市物联网创新中心", "物联网", "重庆示范物联网有限公司", "91500000MA60DEM60", "awarded"),
    ("重庆市虚拟现实创新中心", "虚拟现实", "重庆示范虚拟现实有限公司", "91500000MA60DEM70", "awarded"),
    (
        "重庆市能源及环保装备创新中心",
        "能源及环保装备",
        "重庆示范能源装备有限公司",
        "91500000MA60DEM80",
        "awarded",
    ),
    (
        "重庆市现代航空装备创新中心",
        "现代航空装备",
        "重庆示范航空装备有限公司",
        "91500000MA60DEM90",
        "awarded",
    ),
]
SCORES = [Decimal(x) for x in ("17", "22", "17", "18", "13")]  # per criterion of the default sheet: 87


def _code(first17: str) -> str:
    return first17 + credit_code_check_character(first17)


def _expert_pool(users) -> list[User]:
    group = Group.objects.get(name=Role.EXPERT)
    district = District.objects.get(code="500106")
    pool = []
    demo_expert = users[Role.EXPERT]
    ExpertProfile.objects.get_or_create(
        user=demo_expert, defaults={"title": "教授", "employer": demo_expert.organisation}
    )
    pool.append(demo_expert)
    for username, name, title, employer, code, field_names in EXPERTS:
        organisation, _ = Organisation.objects.get_or_create(
            credit_code=_code(code),
            defaults={
                "name": employer,
                "kind": Organisation.Kind.RESEARCH_INSTITUTE,
                "district": district,
                "address": "重庆市沙坪坝区",
                "legal_representative": "示范",
                "contact_name": name,
                "contact_phone": "023-65000000",
            },
        )
        user, created = User.objects.get_or_create(
            username=username, defaults={"full_name": name, "email": f"{username}@example.com"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(group)
        profile, _ = ExpertProfile.objects.get_or_create(
            user=user, defaults={"title": title, "employer": organisation}
        )
        profile.fields.set(Field.objects.filter(name__in=field_names))
        pool.append(user)
    return pool


def _lead_unit(name: str, code: str) -> tuple[Organisation, User]:
    organisation, _ = Organisation.objects.get_or_create(
        credit_code=_code(code),
        defaults={
            "name": name,
            "kind": Organisation.Kind.ENTERPRISE,
            "district": District.objects.get(code="500112"),
            "address": "重庆市渝北区",
            "legal_representative": "示范",
            "contact_name": "联系人",
            "contact_phone": "023-67000000",
        },
    )
    username = f"lead{code[-2:]}_demo"
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "full_name": f"{name[2:6]}联系人",
            "organisation": organisation,
            "email": f"{username}@example.com",
        },
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save()
    user.groups.add(Group.objects.get(name=Role.LEAD_UNIT))
    return organisation, user


def _score_all(panel, experts):
    for assignment in Assignment.objects.filter(panel=panel, expert__in=experts):
        if assignment.state == Assignment.State.ASSIGNED:
            assignment = panels.declare(
                assignment, assignment.expert, dict.fromkeys(Assignment.CONFLICT_QUESTIONS, False)
            )
        if assignment.state == Assignment.State.DECLARED:
            criteria = list(panel.template.criteria.order_by("order"))
            scores = {
                c.pk: (min(points, c.max_points), "示范评语")
                for c, points in zip(criteria, SCORES, strict=False)
            }
            panels.save_sheet(assignment, assignment.expert, scores, "同意通过。", submit=True)


@transaction.atomic
def seed(users) -> None:
    staff = users[Role.COMMISSION_STAFF]
    pool = _expert_pool(users)
    for centre, field_name, unit, code, target in STAGES:
        organisation, lead = _lead_unit(unit, code)
        if Application.objects.filter(lead_unit=organisation, centre_name=centre).exists():
            continue
        application = services.create_draft(lead)
        Application.objects.filter(pk=application.pk).update(centre_name=centre)
        fill_complete(application, lead)
        Application.objects.filter(pk=application.pk).update(field=Field.objects.get(name=field_name))
        services.submit(application, lead)
        workflow.start_preliminary(application, staff)
        workflow.pass_preliminary(application, staff, PreliminaryCheck.Item.values, "材料齐全。")
        panel = panels.create_panel(
            Application.objects.get(pk=application.pk), staff, deadline=timezone.now() + timedelta(days=7)
        )
        panels.assign(panel, staff, pool)
        if target == "expert_review":
            _score_all(panel, pool[1:3])  # the demo expert still has to declare and score
            continue
        _score_all(panel, pool)
        workflow.close_expert_review(application, staff)
        found = inspection.open_inspection(
            Application.objects.get(pk=application.pk),
            staff,
            leader=staff,
            visit_date=timezone.localdate(),
            team="张伟（市经济信息委）\n孙强（重庆示范研究院）",
        )
        if target == "site_inspection":
            continue
        inspection.save_record(
            found,
            staff,
            score=Decimal("84"),
            conclusion="场地、设备、人员与申报一致。",
            findings={item: {"ok": True, "finding": "核查一致。"} for item in SiteInspection.Item.values},
        )
        inspection.sign_off(found, staff)
        workflow.close_site_inspection(application, staff)
        if target == "comprehensive":
            continue
        comprehensive.decide(Application.objects.get(pk=application.pk), staff, "recognise")
        if target == "leadership":
            continue
        try:
            _through_leadership_and_publicity(application, staff, centre, past=target == "awarded")
        except ActionRefused as error:  # e.g. the period reaches a year whose holidays are not entered yet
            print(f"demo: {centre} stays before publicity: {error.message}")
            continue
        if target == "awarded":
            application = Application.objects.get(pk=application.pk)
            publicity.close_expired()
            publicity.record_approval(
                Application.objects.get(pk=application.pk),
                staff,
                document_number=f"渝经信发〔{timezone.localdate().year}〕{application.pk}号",
                document_date=timezone.localdate(),
            )
            publicity.award(
                Application.objects.get(pk=application.pk),
                staff,
                plaque_number=f"CQZZCX-{timezone.localdate().year}-{application.pk:03d}",
                award_date=timezone.localdate(),
            )


def _through_leadership_and_publicity(application, staff, centre, past: bool):
    from django.core.files.base import ContentFile

    from applications.demo import demo_pdf

    minutes = ContentFile(demo_pdf("minutes"), name="会议纪要.pdf")
    workflow.record_leadership_meeting(
        staff,
        meeting_date=timezone.localdate(),
        title="委主任办公会（示范）",
        minutes=minutes,
        decisions={application.pk: ("approve", "")},
    )
    announcement = publicity.open_publicity(
        staff,
        [Application.objects.get(pk=application.pk)],
        title=f"关于{centre}拟认定为重庆市制造业创新中心的公示",
        list_type="recognise",
        contact_person="张伟",
        contact_phone="023-63899999",
        contact_address="重庆市渝北区示范路1号",
        supervision_phone="023-63899000",
    )
    if past:
        # A real period cannot start in the past: the demo's closed one is moved back, as if its five working
        # days had passed (started 20 days ago, its end counted from that start).
        starts_at = timezone.now() - timedelta(days=20)
        Announcement.objects.filter(pk=announcement.pk).update(
            starts_at=starts_at, ends_at=workdays.add_working_days(starts_at, announcement.working_days)
        )

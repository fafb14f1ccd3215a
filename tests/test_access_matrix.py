"""The access matrix: every URL of the portal × every kind of visitor, against an explicit allow/deny table.

The URLs come from the resolver (``django.urls.get_resolver()``, walked recursively; Django admin's own
pages are left out, they have their own permission checks), so a new page without a row in ``MATRIX``
fails ``test_every_url_pattern_has_a_row_in_the_matrix``. Each URL is filled with real ids from one world
of data (``world``): organisation A's applications (a draft, and one in publicity with attachments, a
panel, a signed-off inspection with a file, an announcement with an objection), A's awarded centre with an
annual summary, an assessment and an approval, an export job; and outsiders (organisation B, another
district, an expert not on the panel).

Actors: anonymous, one user per role (accounts.roles.Role) acting for organisation A / A's district / the
panel, and the outsiders. Expectations per cell:
- ``OK``: 200; ``REDIRECT``: 302 somewhere else than the sign-in page (a page that redirects by design);
- ``LOGIN``: 302 to the sign-in page (anonymous on a non-public page);
- ``DENY``: 403; ``GONE``: 404 (an object hidden from that actor, or a URL naming objects that do not
  belong together); ``NOT_ALLOWED``: 405 (POST-only URLs asked with GET);
- ``REAUTH``: 302 to the re-authentication page (sensitive pages).

The outsiders' 200 pages must not contain organisation A's plan text or credit code, nor (on pages that
are not public anyway) A's centre or organisation names.

The world is built once for the module inside a transaction that is rolled back at the end; each test
runs in its own savepoint (pytest-django's ``db``), so pages that write (the 2FA setup page creates a
device, the notification list marks rows read) leave nothing behind.
"""

import datetime
from types import SimpleNamespace

import pytest
from captcha.models import CaptchaStore
from django.contrib.auth.tokens import default_token_generator
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import District, User
from accounts.roles import Role
from applications.editor import STEPS
from applications.models import Application
from centres.models import Centre, DistrictCentre
from evaluation import pool, publicity, verification
from evaluation.models import (
    Announcement,
    Approval,
    Assignment,
    InspectionFile,
    Objection,
    ObjectionFile,
    SiteInspection,
    VerificationCode,
)
from reports import assessment as assessments
from reports import exports, summaries
from reports.models import ExportJob, ReportingYear, SupportAttachment, SupportRequest
from tests.factories import (
    PDF_BYTES,
    OrganisationFactory,
    annual_summary,
    application_in_leadership_approved,
    awarded_centre,
    complete_application,
    expert_user,
    make_credit_code,
    open_announcement,
    user_with_role,
    valid_id_number,
)

# --- actors ------------------------------------------------------------------------------------------------

ANON = "anonymous"
LEAD = "lead_unit"  # lead unit user of organisation A
DISTRICT = "district_staff"  # district staff of A's district
STAFF = "commission_staff"
EXPERT = "expert"  # on the panel of A's application (and holding an assignment)
SYSADMIN = "system_admin"
SECADMIN = "security_admin"
AUDITADMIN = "audit_admin"
LEAD_B = "lead_unit_of_organisation_b"  # same district as A, another organisation
DISTRICT_X = "district_staff_of_another_district"
EXPERT_X = "expert_not_assigned"

ACTORS = [ANON, LEAD, DISTRICT, STAFF, EXPERT, SYSADMIN, SECADMIN, AUDITADMIN, LEAD_B, DISTRICT_X, EXPERT_X]
SIGNED_IN = [a for a in ACTORS if a != ANON]
# Who must never see organisation A's private data.
OUTSIDERS = [ANON, LEAD_B, DISTRICT_X, EXPERT_X, SYSADMIN, SECADMIN, AUDITADMIN]
ROLE_OF = {
    LEAD: Role.LEAD_UNIT,
    DISTRICT: Role.DISTRICT_STAFF,
    STAFF: Role.COMMISSION_STAFF,
    EXPERT: Role.EXPERT,
    SYSADMIN: Role.SYSTEM_ADMIN,
    SECADMIN: Role.SECURITY_ADMIN,
    AUDITADMIN: Role.AUDIT_ADMIN,
    LEAD_B: Role.LEAD_UNIT,
    DISTRICT_X: Role.DISTRICT_STAFF,
    EXPERT_X: Role.EXPERT,
}

# --- expectations ------------------------------------------------------------------------------------------

OK = "200"
DENY = "403"
GONE = "404"
NOT_ALLOWED = "405"
WITHDRAWN = "410"  # a withdrawn title's public page: says so, with the date
NO_TOKEN = "401"  # the API's endpoints for other systems: a token, never a person's session
REDIRECT = "302"  # anywhere but the sign-in page
LOGIN = "302:/accounts/login/?next="
REAUTH = "302:/accounts/reauth/?next="


def everyone(expect: str) -> dict:
    return dict.fromkeys(ACTORS, expect)


def only(*allowed, ok=OK, anon=LOGIN, others=DENY, **special) -> dict:
    """``allowed`` get ``ok``, anonymous gets ``anon``, every other signed-in actor ``others``;
    ``special`` overrides single actors (keyword = actor constant's value)."""
    row = dict.fromkeys(ACTORS, others)
    row[ANON] = anon
    for actor in allowed:
        row[actor] = ok
    for actor, expect in special.items():
        assert actor in ACTORS, actor
        row[actor] = expect
    return row


A_VIEWERS = (LEAD, DISTRICT, STAFF)  # who may see A's submitted application (applications.view)

# Keys are URL names (namespace:name), optionally with "[variant]" for a second set of ids.
MATRIX = {
    # --- public and general
    "home": everyone(OK),
    "healthz": everyone(OK),
    "captcha-image": everyone(OK),  # the sign-in form's CAPTCHA picture
    "set_language": everyone(REDIRECT),  # GET changes nothing and sends back to the site
    "accounts:reader_mode": everyone(REDIRECT),  # a display preference in a cookie, then back to the site
    "announcements:list": everyone(OK),
    "announcements:detail": everyone(OK),
    "announcements:detail[not-yet-published]": everyone(GONE),
    "centres:directory": everyone(OK),
    "centres:detail": everyone(OK),
    "centres:detail[title-withdrawn]": everyone(WITHDRAWN),
    # --- accounts
    "accounts:login": only(*SIGNED_IN, ok=REDIRECT, anon=OK),  # signed-in people go to their home
    "accounts:logout": everyone(NOT_ALLOWED),  # POST only
    "accounts:home": only(*SIGNED_IN, ok=REDIRECT),  # to the role's home
    "accounts:notifications": only(*SIGNED_IN),
    "accounts:notification_settings": only(*SIGNED_IN),
    "accounts:password_change": only(*SIGNED_IN),
    "accounts:password_change_done": only(*SIGNED_IN),
    "accounts:password_reset": everyone(OK),
    "accounts:password_reset_done": everyone(OK),
    "accounts:password_reset_confirm": everyone(REDIRECT),
    "accounts:activate": everyone(
        REDIRECT
    ),  # the same one-time link, for a new account  # a valid token is swapped for a session marker
    "accounts:password_reset_complete": everyone(OK),
    "accounts:system_admin_home": only(SYSADMIN),
    "accounts:security_admin_home": only(SECADMIN),
    "accounts:audit_admin_home": only(AUDITADMIN),  # 三员: not the system administrator
    "accounts:two_factor": only(*SIGNED_IN),
    "accounts:reauth": only(*SIGNED_IN),
    # --- applications (lead unit, district)
    "applications:lead_home": only(LEAD, LEAD_B),
    "applications:district_home": only(DISTRICT, DISTRICT_X),
    "applications:create": everyone(NOT_ALLOWED),  # POST only
    "applications:detail": only(*A_VIEWERS),
    "applications:detail[draft]": only(LEAD),  # nobody but the lead unit sees a draft
    "applications:edit": only(LEAD),  # the draft
    "applications:edit[locked]": only(*A_VIEWERS, ok=REDIRECT),  # locked: to the read-only page
    "applications:submit": only(LEAD),  # the draft
    "applications:withdraw": only(LEAD),  # the draft
    "applications:print": only(*A_VIEWERS),
    "applications:versions": only(*A_VIEWERS),
    "applications:recommend": only(DISTRICT),
    "applications:attachment": only(*A_VIEWERS),
    # A's attachment asked for under B's application: no such pair, whoever asks.
    "applications:attachment[under-another-application]": only(*SIGNED_IN, ok=GONE),
    "applications:delete_attachment": everyone(NOT_ALLOWED),  # POST only
    # --- evaluation: staff, experts
    "evaluation:staff_home": only(STAFF),
    "evaluation:expert_home": only(EXPERT, EXPERT_X),
    "evaluation:assignment": only(EXPERT),  # only the assigned expert
    "evaluation:panel": only(STAFF),
    "evaluation:inspection": only(STAFF),  # staff and the inspection leader (here: staff)
    "evaluation:inspection_file": only(STAFF),
    "evaluation:inspection_record": everyone(NOT_ALLOWED),  # POST only
    "evaluation:inspection_upload": everyone(NOT_ALLOWED),  # POST only
    "evaluation:inspection_sign_off": everyone(NOT_ALLOWED),  # POST only
    "evaluation:comprehensive": only(STAFF),
    "evaluation:summary": only(STAFF),
    "evaluation:application": only(STAFF),
    "evaluation:preliminary": only(STAFF, ok=REDIRECT),  # not in 材料初审 any more: to the review page
    "evaluation:move": only(STAFF),
    "evaluation:move[unknown-move]": only(STAFF, ok=GONE),
    "evaluation:leadership": only(STAFF),
    "evaluation:announcements": only(STAFF),
    "evaluation:publicity_new": only(STAFF),
    "evaluation:calendar": only(STAFF),
    "evaluation:calendar_year": only(STAFF),  # a year the package does not know
    "evaluation:objections": only(STAFF, ok=REAUTH),  # objectors' identities: password again first
    "evaluation:objection_file": only(STAFF, ok=REAUTH),  # names the objector: password again first
    "evaluation:approval": only(STAFF),
    "evaluation:approval_notice": only(STAFF),
    "evaluation:plaque_sheet": only(STAFF),
    # --- the API, open data, verification (public, except the token endpoints)
    "api:schema": everyone(OK),
    "api:docs": everyone(OK),
    "api:announcements": everyone(OK),
    "api:announcement": everyone(OK),
    "api:announcement[not-yet-published]": everyone(GONE),
    "api:centres": everyone(OK),
    "api:centre": everyone(OK),
    "api:centre[title-withdrawn]": everyone(OK),  # its record says withdrawn, with the date
    "api:applications": everyone(NO_TOKEN),
    "api:summaries": everyone(NO_TOKEN),
    "api:assessments": everyone(NO_TOKEN),
    "api:not_found": everyone(GONE),
    "open_data:index": everyone(OK),
    "open_data:centres": everyone(OK),
    "open_data:announcements": everyone(OK),
    "verify:document": everyone(OK),
    "verify:document[revoked]": everyone(GONE),
    # --- reports: summaries, centres, assessment, dashboard, exports
    "reports:my_summaries": only(LEAD, LEAD_B),
    "reports:summary": only(*A_VIEWERS),
    "reports:summary_edit": only(LEAD, **{DISTRICT: REDIRECT, STAFF: REDIRECT}),  # read-only for them
    "reports:summary_review": only(STAFF),
    "reports:summary_attachment": only(*A_VIEWERS),
    "reports:summary_attachment_delete": everyone(NOT_ALLOWED),  # POST only
    "reports:years": only(STAFF),
    "reports:year": only(STAFF),
    "reports:my_centres": only(LEAD, LEAD_B),
    "reports:centres": only(STAFF),
    "reports:centre": only(*A_VIEWERS),
    "reports:assessments": only(STAFF),
    "reports:assessment": only(STAFF),
    "reports:dashboard": only(STAFF, DISTRICT, DISTRICT_X),
    "reports:export_new": only(STAFF, DISTRICT, DISTRICT_X),
    "reports:export_new[panel_scores]": only(STAFF),  # experts' scores: staff only
    "reports:export_job": only(STAFF),  # its owner only
    "reports:export_download": only(STAFF),
    # --- reports: special support (nothing financial is public) and long-overdue summaries
    "reports:support_ledger": only(STAFF),
    "reports:centre_support": only(*A_VIEWERS),
    "reports:support_request_new": only(LEAD),  # the centre's own lead unit asks
    "reports:support_request": only(*A_VIEWERS),
    "reports:support_attachment": only(*A_VIEWERS),
    "reports:overdue": only(STAFF),
    # --- centres: the district-level centres' register (private)
    "centres:district_register": only(LEAD, DISTRICT, STAFF, LEAD_B, DISTRICT_X),  # each sees their own part
    "centres:district_centre": only(LEAD, DISTRICT, STAFF),
    # --- joining the programme: registration, verification, the organisation's people, the expert pool
    "registration:register": everyone(OK),
    "registration:confirm": everyone(OK),  # a button: a mail scanner's GET confirms nothing
    "registration:queue": only(DISTRICT, DISTRICT_X, STAFF),
    "registration:verify": only(DISTRICT),  # A's district (the commission verifies those without one)
    "registration:licence": only(LEAD, DISTRICT),
    "registration:organisation": only(LEAD, LEAD_B),
    "registration:organisation_edit": only(LEAD),  # A's administrator
    "registration:invite": only(LEAD),
    "registration:deactivate": only(LEAD),  # a confirmation page first
    "registration:hand_over": only(LEAD),
    "pool:apply": everyone(OK),
    "pool:home": only(STAFF),
    "pool:application": only(STAFF),
    "pool:application_file": only(STAFF),
    "pool:expert": only(STAFF),
    "pool:my_profile": only(EXPERT, EXPERT_X),
}

# Ids for the URLs that take parameters: key → callable(world) → kwargs for reverse().
FILL = {
    "captcha-image": lambda w: {"key": CaptchaStore.generate_key()},
    "announcements:detail": lambda w: {"pk": w.announcement.pk},
    "announcements:detail[not-yet-published]": lambda w: {"pk": w.future_announcement.pk},
    "centres:detail": lambda w: {"pk": w.centre.pk},
    "centres:detail[title-withdrawn]": lambda w: {"pk": w.withdrawn_centre.pk},
    "accounts:activate": lambda w: {
        "uidb64": urlsafe_base64_encode(force_bytes(w.users[LEAD].pk)),
        "token": default_token_generator.make_token(User.objects.get(pk=w.users[LEAD].pk)),
    },
    "accounts:password_reset_confirm": lambda w: {
        "uidb64": urlsafe_base64_encode(force_bytes(w.users[LEAD].pk)),
        "token": default_token_generator.make_token(User.objects.get(pk=w.users[LEAD].pk)),
    },
    "applications:detail": lambda w: {"pk": w.a1.pk},
    "applications:detail[draft]": lambda w: {"pk": w.a0.pk},
    "applications:edit": lambda w: {"pk": w.a0.pk, "step": STEPS[0].slug},
    "applications:edit[locked]": lambda w: {"pk": w.a1.pk, "step": STEPS[0].slug},
    "applications:submit": lambda w: {"pk": w.a0.pk},
    "applications:withdraw": lambda w: {"pk": w.a0.pk},
    "applications:print": lambda w: {"pk": w.a1.pk},
    "applications:versions": lambda w: {"pk": w.a1.pk},
    "applications:recommend": lambda w: {"pk": w.a1.pk},
    "applications:attachment": lambda w: {"pk": w.a1.pk, "attachment_pk": w.a1_attachment.pk},
    "applications:attachment[under-another-application]": lambda w: {
        "pk": w.b0.pk,
        "attachment_pk": w.a1_attachment.pk,
    },
    "applications:delete_attachment": lambda w: {"pk": w.a0.pk, "attachment_pk": w.a0_attachment.pk},
    "evaluation:assignment": lambda w: {"pk": w.assignment.pk},
    "evaluation:panel": lambda w: {"pk": w.a1.pk},
    "evaluation:inspection": lambda w: {"pk": w.a1.pk},
    "evaluation:inspection_record": lambda w: {"pk": w.a1.pk},
    "evaluation:inspection_upload": lambda w: {"pk": w.a1.pk},
    "evaluation:inspection_sign_off": lambda w: {"pk": w.a1.pk},
    "evaluation:inspection_file": lambda w: {"pk": w.a1.pk, "file_pk": w.inspection_file.pk},
    "evaluation:comprehensive": lambda w: {"pk": w.a1.pk},
    "evaluation:summary": lambda w: {"pk": w.a1.pk},
    "evaluation:application": lambda w: {"pk": w.a1.pk},
    "evaluation:preliminary": lambda w: {"pk": w.a1.pk},
    "evaluation:move": lambda w: {"pk": w.a1.pk, "name": "approve"},
    "evaluation:move[unknown-move]": lambda w: {"pk": w.a1.pk, "name": "no_such_move"},
    "evaluation:objections": lambda w: {"pk": w.announcement.pk},
    "evaluation:calendar_year": lambda w: {"year": 2999},
    "evaluation:objection_file": lambda w: {"pk": w.objection.pk, "file_pk": w.objection_file.pk},
    "evaluation:approval": lambda w: {"pk": w.a1.pk},
    "evaluation:approval_notice": lambda w: {"pk": w.centre.application_id},
    "evaluation:plaque_sheet": lambda w: {"pk": w.centre.application_id},
    "api:announcement": lambda w: {"pk": w.announcement.pk},
    "api:announcement[not-yet-published]": lambda w: {"pk": w.future_announcement.pk},
    "api:centre": lambda w: {"pk": w.centre.pk},
    "api:centre[title-withdrawn]": lambda w: {"pk": w.withdrawn_centre.pk},
    "open_data:centres": lambda w: {"fmt": "csv"},
    "open_data:announcements": lambda w: {"fmt": "json"},
    "verify:document": lambda w: {"token": w.verification.token},
    "verify:document[revoked]": lambda w: {"token": w.revoked_verification.token},
    "reports:summary": lambda w: {"pk": w.summary.pk},
    "reports:summary_edit": lambda w: {"pk": w.summary.pk},
    "reports:summary_review": lambda w: {"pk": w.summary.pk},
    "reports:summary_attachment": lambda w: {"pk": w.summary.pk, "attachment_pk": w.summary_attachment.pk},
    "reports:summary_attachment_delete": lambda w: {
        "pk": w.summary.pk,
        "attachment_pk": w.summary_attachment.pk,
    },
    "reports:year": lambda w: {"year": w.reporting_year.year},
    "reports:centre": lambda w: {"pk": w.centre.pk},
    "reports:assessment": lambda w: {"pk": w.assessment.pk},
    "reports:export_new": lambda w: {"kind": "applications"},
    "reports:export_new[panel_scores]": lambda w: {"kind": "panel_scores"},
    "reports:export_job": lambda w: {"pk": w.export_job.pk},
    "reports:export_download": lambda w: {"pk": w.export_job.pk},
    "reports:centre_support": lambda w: {"pk": w.centre.pk},
    "reports:support_request_new": lambda w: {"pk": w.centre.pk},
    "reports:support_request": lambda w: {"pk": w.support_request.pk},
    "reports:support_attachment": lambda w: {"pk": w.support_attachment.pk},
    "centres:district_centre": lambda w: {"pk": w.district_centre.pk},
    "registration:confirm": lambda w: {"token": "not-a-real-token"},
    "registration:verify": lambda w: {"pk": w.users[LEAD].organisation_id},
    "registration:licence": lambda w: {"pk": w.users[LEAD].organisation_id},
    "registration:deactivate": lambda w: {"pk": w.colleague_a.pk},
    "registration:hand_over": lambda w: {"pk": w.colleague_a.pk},
    "pool:application": lambda w: {"pk": w.expert_application.pk},
    "pool:application_file": lambda w: {"pk": w.expert_application.pk, "name": "cv"},
    "pool:expert": lambda w: {"pk": w.assignment.expert.expert_profile.pk},
}

# Organisation A's private data (``world``), never on an outsider's page.
A_PLAN_TEXT = "甲单位保密的建设方案内容ALPHA-PLAN-7731"
A_DRAFT_PLAN_TEXT = "甲单位草稿中的建设方案ALPHA-DRAFT-5519"
A_CREDIT_CODE = make_credit_code(88_000_001)
A_ORGANISATION = "重庆甲保密测试科技有限公司"
A_CENTRE_NAME = "重庆市甲保密制造业创新中心"  # the application in publicity (public only on the announcement)
A_DRAFT_CENTRE_NAME = "重庆市甲草稿制造业创新中心"
A_AWARDED_CENTRE_NAME = "重庆市甲已授牌制造业创新中心"  # public in the directory

# --- the URL patterns --------------------------------------------------------------------------------------

SKIPPED_NAMESPACES = {"admin"}  # Django admin: its own permission checks (tested in test_security)


def url_patterns(resolver=None, namespace=None, prefix=""):
    """(name, route, pattern) for every named pattern of the portal, recursively."""
    resolver = resolver or get_resolver()
    found = []
    for item in resolver.url_patterns:
        if isinstance(item, URLResolver):
            if item.namespace in SKIPPED_NAMESPACES:
                continue
            inner = ":".join(n for n in (namespace, item.namespace) if n) or None
            found += url_patterns(item, inner, prefix + str(item.pattern))
        elif isinstance(item, URLPattern):
            name = f"{namespace}:{item.name}" if namespace and item.name else item.name
            found.append((name, prefix + str(item.pattern), item))
    return found


def base_name(key: str) -> str:
    return key.split("[", 1)[0]


def test_every_url_pattern_has_a_row_in_the_matrix():
    patterns = url_patterns()
    unnamed = [route for name, route, _p in patterns if not name]
    assert not unnamed, f"URL patterns without a name cannot be checked: {unnamed}"
    names = {name for name, _route, _p in patterns}
    rows = {base_name(key) for key in MATRIX}
    missing = sorted(names - rows)
    assert not missing, f"new URL pattern(s) without an access rule, add it to the matrix: {missing}"
    stale = sorted(rows - names)
    assert not stale, f"matrix rows for URL names that no longer exist: {stale}"
    for key, row in MATRIX.items():
        assert set(row) == set(ACTORS), key
    # Every row of a pattern that takes ids must say where its ids come from in the world.
    takes_ids = {name for name, route, _p in patterns if "<" in route}
    unfillable = sorted(key for key in MATRIX if base_name(key) in takes_ids and key not in FILL)
    assert not unfillable, f"matrix row(s) for URLs that take ids but have no FILL entry: {unfillable}"
    assert set(FILL) <= set(MATRIX), f"FILL entries without a matrix row: {sorted(set(FILL) - set(MATRIX))}"
    assert set(ROLE_OF.values()) == set(Role), "every role must be an actor"


# --- the world ---------------------------------------------------------------------------------------------


def pdf_upload(name="材料.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def build_world() -> SimpleNamespace:
    w = SimpleNamespace()
    home_district = District.objects.get(code="500112")
    other_district = District.objects.exclude(pk=home_district.pk).order_by("code").first()
    organisation_a = OrganisationFactory(
        name=A_ORGANISATION, credit_code=A_CREDIT_CODE, district=home_district
    )
    organisation_b = OrganisationFactory(name="重庆乙测试科技有限公司", district=home_district)
    organisation_a.licence_type, organisation_a.licence_name = "application/pdf", "营业执照.pdf"
    organisation_a.licence.save("营业执照.pdf", ContentFile(PDF_BYTES))
    staff = user_with_role(Role.COMMISSION_STAFF)
    lead_a = user_with_role(Role.LEAD_UNIT, organisation=organisation_a, is_organisation_admin=True)
    w.colleague_a = user_with_role(Role.LEAD_UNIT, organisation=organisation_a)
    lead_b = user_with_role(Role.LEAD_UNIT, organisation=organisation_b)

    # A's application in publicity: attachments, versions, a panel (experts assigned, sheets submitted),
    # a signed-off site inspection, the comprehensive evaluation, the leadership decision, an announcement.
    # (The announcement's title does not name the centre: the audit log, which records the title, is
    # read by the audit administrator, an outsider to A.)
    w.a1 = application_in_leadership_approved(
        staff=staff, lead_user=lead_a, centre_name=A_CENTRE_NAME, construction_plan=A_PLAN_TEXT
    )
    w.announcement = open_announcement(staff, [w.a1], title="关于2026年第一批拟认定制造业创新中心的公示")
    w.a1 = Application.objects.get(pk=w.a1.pk)
    w.a1_attachment = w.a1.attachments.order_by("pk").first()
    w.assignment = Assignment.objects.filter(panel__application=w.a1).order_by("pk").first()
    inspection = SiteInspection.objects.get(application=w.a1)
    w.inspection_file = InspectionFile(
        inspection=inspection, original_name="现场照片.pdf", content_type="application/pdf", uploaded_by=staff
    )
    w.inspection_file.file.save("现场照片.pdf", ContentFile(PDF_BYTES), save=False)
    w.inspection_file.save()
    w.objection = publicity.lodge_objection(
        w.announcement.entries.get(),
        kind=Objection.Kind.PERSON,
        name="王异议",
        phone="13800001234",
        statement="研发人员数量与实际不符。",
        id_number=valid_id_number(),
        files=[(ObjectionFile.Kind.EVIDENCE, pdf_upload("证据.pdf"))],
        ip="198.51.100.20",
    )
    w.objection_file = w.objection.files.get()
    now = timezone.now()
    w.future_announcement = Announcement.objects.create(
        title="尚未发布的公示",
        list_type=Announcement.ListType.RECOGNISE,
        starts_at=now + datetime.timedelta(days=30),
        ends_at=now + datetime.timedelta(days=40),
        working_days=5,
        contact_person="张伟",
        contact_phone="023-63899999",
        contact_address="重庆市渝北区测试路1号",
        supervision_phone="023-63899000",
        created_by=staff,
    )

    # A's draft (only A sees it) and B's draft (for a URL pairing B's application with A's attachment).
    w.a0 = complete_application(
        lead_user=lead_a, centre_name=A_DRAFT_CENTRE_NAME, construction_plan=A_DRAFT_PLAN_TEXT
    )
    w.a0_attachment = w.a0.attachments.order_by("pk").first()
    w.b0 = complete_application(lead_user=lead_b, centre_name="重庆市乙测试制造业创新中心")

    # A's awarded centre: approval, annual summary with an attachment, an assessment; a withdrawn one.
    w.centre = awarded_centre(lead_user=lead_a, name=A_AWARDED_CENTRE_NAME)
    Approval.objects.create(
        application=w.centre.application,
        document_number="渝经信发〔2024〕9号",
        document_date=datetime.date(2024, 5, 20),
        recorded_by=staff,
    )
    w.withdrawn_centre = awarded_centre(lead_user=lead_a, status=Centre.Status.WITHDRAWN)
    w.revoked_verification = verification.revoke(
        verification.code_for(w.centre.application, VerificationCode.Kind.PLAQUE), by=staff, reason="重新印发"
    )
    w.verification = verification.code_for(w.centre.application, VerificationCode.Kind.APPROVAL_NOTICE)
    w.reporting_year = ReportingYear.objects.create(
        year=2025, due_date=datetime.date(2026, 3, 31), opened_by=staff
    )
    w.summary = annual_summary(w.centre, w.reporting_year)
    w.summary_attachment = summaries.add_attachment(w.summary, lead_a, pdf_upload("年度总结附件.pdf"))
    w.assessment = assessments.open_by_staff(w.centre, staff)

    # A's support: a request (stored directly: the world has no passed assessment) with an attachment, and
    # a district-level centre of A in A's district.
    w.support_request = SupportRequest.objects.create(
        centre=w.centre,
        project_name="甲项目",
        goals="目标",
        budget="预算",
        amount_requested=100,
        requested_by=lead_a,
    )
    w.support_attachment = SupportAttachment(
        centre=w.centre,
        request=w.support_request,
        original_name="项目方案.pdf",
        content_type="application/pdf",
        size=len(PDF_BYTES),
        uploaded_by=lead_a,
    )
    w.support_attachment.file.save("项目方案.pdf", ContentFile(PDF_BYTES), save=False)
    w.support_attachment.save()
    w.district_centre = DistrictCentre.objects.create(
        district=home_district,
        name="甲区县级创新中心",
        lead_unit=organisation_a,
        recognised_on=datetime.date(2024, 1, 5),
        document_number="渝北经信〔2024〕1号",
        recorded_by=staff,
    )

    # A pending application to join the expert pool.
    w.expert_application = pool.apply(
        {
            "full_name": "入库申请人",
            "id_number": valid_id_number("50010219800101123"),
            "username": "pool_applicant",
            "employer_credit_code": make_credit_code(88_000_777),
            "employer_name": "重庆入库申请单位",
            "title": "高级工程师",
            "category": "technical",
            "mobile": "13600136000",
            "email": "pool@example.cn",
            "fields": [],
        },
        {"cv": (pdf_upload("简历.pdf"), {"original_name": "简历.pdf"})},
    )

    # An export job of the commission staff user, built for real.
    w.export_job = ExportJob.objects.create(owner=staff, kind="applications", params={"query": ""})
    exports.build(w.export_job)
    w.export_job.refresh_from_db()
    assert w.export_job.state == ExportJob.State.DONE

    w.users = {
        LEAD: lead_a,
        DISTRICT: user_with_role(Role.DISTRICT_STAFF, district=home_district),
        STAFF: staff,
        EXPERT: w.assignment.expert,
        SYSADMIN: user_with_role(Role.SYSTEM_ADMIN),
        SECADMIN: user_with_role(Role.SECURITY_ADMIN),
        AUDITADMIN: user_with_role(Role.AUDIT_ADMIN),
        LEAD_B: lead_b,
        DISTRICT_X: user_with_role(Role.DISTRICT_STAFF, district=other_district),
        EXPERT_X: expert_user(),
    }
    return w


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("access-matrix-media")


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, media_root):
    """Overrides conftest's: the world's files live in the module's folder, seen by every test here."""
    settings.MEDIA_ROOT = media_root


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, media_root):
    with django_db_blocker.unblock(), override_settings(MEDIA_ROOT=media_root):
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build_world()
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


# --- the checks --------------------------------------------------------------------------------------------


def body_of(response) -> str:
    # (A streaming response is closed by the test client once read.)
    data = b"".join(response.streaming_content) if response.streaming else response.content
    return data.decode("utf-8", errors="replace")


def mismatch(response, expect: str) -> str | None:
    """None when ``response`` meets ``expect``, else what was seen."""
    status = response.status_code
    location = response.get("Location", "")
    seen = f"{status} {location}".strip()
    if expect.startswith("302"):
        if status != 302:
            return seen
        target = expect.partition(":")[2]
        if target and not location.startswith(target):
            return seen
        if not target and location.startswith(LOGIN.partition(":")[2]):
            return seen
        return None
    return None if str(status) == expect else seen


def url_for(key: str, world) -> str:
    name = base_name(key)
    kwargs = FILL[key](world) if key in FILL else {}
    return reverse(name, kwargs=kwargs)


def test_the_world_fills_every_row(world, db):  # db: runs with the other db tests, before any flush
    for key in MATRIX:
        assert url_for(key, world)  # reverse() raises when a pattern cannot be filled


@pytest.mark.parametrize("actor", ACTORS)
def test_access_matrix(world, actor, db):
    client = Client()
    if actor != ANON:
        user = User.objects.get(pk=world.users[actor].pk)  # force_login changes last_login in memory
        assert user.has_role(ROLE_OF[actor])
        client.force_login(user)
    wrong, leaks = [], []
    for key, row in MATRIX.items():
        url = url_for(key, world)
        response = client.get(url)
        problem = mismatch(response, row[actor])
        if problem:
            wrong.append(f"{key} {url}: expected {row[actor]}, got {problem}")
        body = body_of(response)
        if actor in OUTSIDERS and response.status_code == 200:
            secrets = [A_PLAN_TEXT, A_DRAFT_PLAN_TEXT, A_CREDIT_CODE]
            if row[ANON] != OK:  # a page the public sees anyway may name A (announcement, directory)
                secrets += [A_ORGANISATION, A_CENTRE_NAME, A_DRAFT_CENTRE_NAME, A_AWARDED_CENTRE_NAME]
            leaks += [f"{key} {url}: shows {secret!r}" for secret in secrets if secret in body]
    assert not wrong, f"{actor}: {len(wrong)} cell(s) differ from the matrix:\n" + "\n".join(wrong)
    assert not leaks, f"{actor} sees organisation A's data:\n" + "\n".join(leaks)


def test_the_insiders_do_see_organisation_a(world, db):
    """The leak check is only worth something if the secrets are on A's own pages."""
    client = Client()
    client.force_login(world.users[LEAD])
    body = body_of(client.get(reverse("applications:detail", args=[world.a1.pk])))
    assert A_PLAN_TEXT in body and A_CENTRE_NAME in body and A_CREDIT_CODE in body
    assert A_DRAFT_CENTRE_NAME in body_of(client.get(reverse("applications:lead_home")))
    assert A_DRAFT_PLAN_TEXT in body_of(client.get(reverse("applications:print", args=[world.a0.pk])))

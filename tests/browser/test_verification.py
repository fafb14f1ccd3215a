"""A printed approval notice is verified by its QR code: staff print the notice, a visitor's phone (here: the
QR image decoded by zxing-cpp) opens the address, and the verification page shows the centre, the document
number and date and the centre's current status; after staff revoke the code the address is "not found"."""

import datetime
import io

import pytest
import zxingcpp
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from accounts.roles import Role
from centres.models import Centre
from evaluation import verification
from evaluation.models import Approval, VerificationCode
from tests.browser.a11y import assert_accessible
from tests.factories import awarded_centre, sign_in, user_with_role

pytestmark = pytest.mark.browser


def decode_qr(png: bytes) -> str:
    (result,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    return result.text


def test_the_qr_code_of_a_printed_notice_lands_on_the_verification_page(browser, page, portal):
    staff = user_with_role(Role.COMMISSION_STAFF)
    centre = awarded_centre(name="重庆市核验测试制造业创新中心")
    Approval.objects.create(
        application=centre.application,
        document_number="渝经信发〔2024〕88号",
        document_date=datetime.date(2024, 5, 20),
        recorded_by=staff,
    )
    sign_in(page, portal, staff)
    page.goto(f"{portal}/review/applications/{centre.application_id}/approval/notice/")
    qr = page.locator("#verify-qr")
    expect(qr).to_be_visible()
    address = decode_qr(qr.screenshot())
    assert address.startswith(portal + "/verify/")

    visitor_context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    visitor = visitor_context.new_page()
    try:
        visitor.goto(address)
        expect(visitor.locator("h1")).to_have_text("文件核验")
        expect(visitor.locator("#verify-centre")).to_have_text(centre.name)
        expect(visitor.locator("#verify-number")).to_have_text("渝经信发〔2024〕88号")
        expect(visitor.locator("#verify-status [data-status]")).to_have_attribute("data-status", "active")
        assert_accessible(visitor, "verification page")

        until = timezone.localdate() + datetime.timedelta(days=365)
        Centre.objects.filter(pk=centre.pk).update(status=Centre.Status.EXCLUDED, excluded_until=until)
        visitor.reload()
        expect(visitor.locator("#verify-status [data-status]")).to_have_attribute("data-status", "excluded")
        expect(visitor.locator("#verify-status")).to_contain_text(
            f"{until.year}年{until.month}月{until.day}日"
        )

        code = VerificationCode.objects.get(application=centre.application, kind="approval_notice")
        verification.revoke(code, by=staff, reason="文件重新印发")
        response = visitor.goto(address)
        assert response.status == 404
        expect(visitor.locator("body")).not_to_contain_text(centre.name)
    finally:
        visitor_context.close()

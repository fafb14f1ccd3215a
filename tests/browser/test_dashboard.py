"""Commission staff open the dashboard from the navigation, read the figures, export the applications list
and download the workbook when the job is done."""

import openpyxl
import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from reports.models import ExportJob
from tests.factories import TEST_PASSWORD, application_in, awarded_centre, lead_user_in, user_with_role

pytestmark = pytest.mark.browser

HEADERS = [
    "申报编号",
    "创新中心名称",
    "牵头单位",
    "统一社会信用代码",
    "领域",
    "区县",
    "阶段",
    "基本条件",
    "实际投资总额（万元）",
    "提交时间",
]


def sign_in(page, portal, user):
    page.goto(portal + "/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_staff_open_the_dashboard_and_download_the_applications_list(page, portal, tmp_path):
    staff = user_with_role(Role.COMMISSION_STAFF, full_name="张伟")
    submitted = application_in(
        "submitted", staff=staff, lead_user=lead_user_in("500112"), centre_name="重庆市看板甲创新中心"
    )
    application_in(
        "preliminary", staff=staff, lead_user=lead_user_in("500103"), centre_name="重庆市看板乙创新中心"
    )
    awarded_centre(name="重庆市看板丙创新中心", is_national=True)

    sign_in(page, portal, staff)
    expect(page.get_by_role("heading", level=1)).to_have_text("评审工作台")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="工作看板").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("工作看板")

    # The figures: 1 submitted, 1 in preliminary review, 1 awarded (the centre's application); 2 wait for
    # staff; 1 recognised centre, national too.
    expect(page.locator('[data-stage="submitted"]')).to_have_text("1")
    expect(page.locator('[data-stage="preliminary"]')).to_have_text("1")
    expect(page.locator('[data-stage="awarded"]')).to_have_text("1")
    expect(page.locator('[data-stage="expert_review"]')).to_have_text("0")
    expect(page.locator("#waiting-staff")).to_have_text("2")
    expect(page.locator("#recognised-count")).to_have_text("1")
    expect(page.get_by_role("img", name="各阶段申报数量")).to_be_visible()

    page.get_by_role("link", name="导出申报清单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("导出Excel")
    page.get_by_role("button", name="开始导出").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("导出进度")
    # Celery runs eagerly here, so the job is usually done at once; otherwise the page refreshes every 2 s.
    link = page.get_by_role("link", name="下载Excel文件")
    expect(link).to_be_visible(timeout=20_000)
    expect(page.get_by_role("progressbar", name="导出进度")).to_contain_text("3 / 3")

    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.startswith("申报清单-")
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / "export.xlsx"
    download.save_as(path)

    sheet = openpyxl.load_workbook(path).active
    assert [cell.value for cell in sheet[1]] == HEADERS
    assert sheet.freeze_panes == "A2"
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=2)]
    # The centre's application keeps the name it was filed under (the factory's default).
    assert {row[1] for row in rows} == {
        "重庆市看板甲创新中心",
        "重庆市看板乙创新中心",
        "重庆市测试制造业创新中心",
    }
    assert next(row for row in rows if row[0] == submitted.number)[6] == "已提交"
    job = ExportJob.objects.get(owner=staff)
    assert (job.state, job.done_rows, job.total_rows) == (ExportJob.State.DONE, 3, 3)

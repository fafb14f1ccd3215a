"""A lead unit writes a whole construction plan in the browser and submits it."""

import re

import pytest
from playwright.sync_api import expect

from accounts.roles import Role
from applications.demo import demo_pdf
from applications.models import Application, Status
from tests.factories import TEST_PASSWORD, make_credit_code, user_with_role

pytestmark = pytest.mark.browser


def save_and_continue(page):
    page.get_by_role("button", name="保存并继续").click()


def test_lead_unit_fills_the_plan_step_by_step_and_submits(page, portal, tmp_path):
    user = user_with_role(Role.LEAD_UNIT, full_name="李明")
    files = {}
    for kind in ("plan", "agreement", "licence", "audit"):
        files[kind] = tmp_path / f"{kind}.pdf"
        files[kind].write_bytes(demo_pdf(kind))
    forged = tmp_path / "审计报告.pdf"
    forged.write_bytes(b"MZ\x90\x00" + b"\x00" * 512)

    page.goto(portal + "/accounts/login/")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的申报")
    page.get_by_role("button", name="新建建设方案").click()

    # 1 基本信息
    expect(page.get_by_role("heading", level=1)).to_have_text("基本信息")
    page.get_by_label("创新中心名称").fill("重庆市轻量化材料创新中心")
    page.get_by_label("重点布局领域").select_option(label="轻量化材料及成型技术与装备")
    page.get_by_label("依托公司名称").fill("重庆轻量化材料创新中心有限公司")
    page.get_by_label("依托公司统一社会信用代码").fill(make_credit_code(424242).lower())  # lower case is fine
    page.get_by_label("依托公司注册资本（万元）").fill("3000")
    page.get_by_label("依托公司成立日期").fill("2025-03-01")
    page.get_by_label("董事会组成").fill("董事长一名，董事四名。")
    page.get_by_label("管理团队").fill("总经理、技术总监、财务总监。")
    save_and_continue(page)

    # 2 方案正文
    expect(page.get_by_role("heading", level=1)).to_have_text("方案正文")
    for label in (
        "建设基础条件",
        "建设规划",
        "技术发展方向和目标",
        "运营模式",
        "预期成果",
        "经济社会效益",
        "技术路线图",
    ):
        page.get_by_label(label, exact=True).fill(f"{label}：详见附件。")
    save_and_continue(page)

    # 3 成果指标
    expect(page.get_by_role("heading", level=1)).to_have_text("成果指标")
    page.get_by_label("指标").first.fill("突破关键共性技术")
    page.get_by_label("目标值").first.fill("8项")
    page.get_by_label("完成年度").first.fill("2028")
    save_and_continue(page)

    # 4 投入与人员: first below the R&D staff threshold, the panel says so; then corrected
    expect(page.get_by_role("heading", level=1)).to_have_text("投入与人员")
    page.get_by_label("资本投入（万元）").fill("900")
    page.get_by_label("知识产权投入（万元）").fill("100")
    page.get_by_label("职工总数").fill("1000")
    page.get_by_label("研发及相关人员数").fill("299")
    page.get_by_label("年度总成本支出（万元）").fill("5000")
    page.get_by_label("年度研发经费支出（万元）").fill("1500")
    page.get_by_role("button", name="保存", exact=True).click()
    panel = page.get_by_role("complementary", name="基本条件核验")
    expect(panel).to_contain_text("29.90%，要求不低于30.00%")
    page.get_by_label("研发及相关人员数").fill("300")
    save_and_continue(page)

    # 5 专家委员会
    expect(page.get_by_role("heading", level=1)).to_have_text("专家委员会")
    page.get_by_label("姓名").first.fill("周院士")
    page.get_by_label("职称/职务").first.fill("中国工程院院士")
    page.get_by_label("工作单位").first.fill("重庆大学")
    page.get_by_label("主任委员").first.check()
    save_and_continue(page)

    # 6 共建单位: two rows, the second appears after saving the first
    expect(page.get_by_role("heading", level=1)).to_have_text("共建单位")
    page.get_by_label("单位名称").first.fill("重庆轻合金股份有限公司")
    page.get_by_label("统一社会信用代码").first.fill(make_credit_code(515151))
    page.get_by_label("单位类型").first.select_option(label="企业")
    page.get_by_label("成员关系").first.select_option(label="股东单位")
    page.get_by_label("出资方式").first.select_option(label="资金")
    page.get_by_label("出资额（万元）").first.fill("900")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_label("单位名称").nth(1)).to_have_value("")
    page.get_by_label("单位名称").nth(1).fill("重庆材料研究院")
    page.get_by_label("统一社会信用代码").nth(1).fill(make_credit_code(616161))
    page.get_by_label("单位类型").nth(1).select_option(label="科研院所")
    page.get_by_label("成员关系").nth(1).select_option(label="联盟成员")
    page.get_by_label("出资方式").nth(1).select_option(label="知识产权")
    page.get_by_label("出资额（万元）").nth(1).fill("100")
    save_and_continue(page)

    # 7 条件声明
    expect(page.get_by_role("heading", level=1)).to_have_text("条件声明")
    for checkbox in page.get_by_role("checkbox").all():
        checkbox.check()
    save_and_continue(page)

    # 8 附件: a forged audit report is refused, the other three files are kept; then the real one
    expect(page.get_by_role("heading", level=1)).to_have_text("附件")
    page.get_by_label("建设方案（PDF）").set_input_files(str(files["plan"]))
    page.get_by_label("共建协议").set_input_files(str(files["agreement"]))
    page.get_by_label("营业执照").set_input_files(str(files["licence"]))
    page.get_by_label("审计报告").set_input_files(str(forged))
    save_and_continue(page)
    expect(page.locator("main")).to_contain_text("实际内容不是允许的类型")
    expect(page.get_by_role("table")).to_contain_text("plan.pdf")
    expect(page.get_by_role("table")).not_to_contain_text("审计报告.pdf")
    page.get_by_label("审计报告").set_input_files(str(files["audit"]))
    save_and_continue(page)

    # 核对并提交
    expect(page.get_by_role("heading", level=1)).to_have_text("核对并提交")
    expect(page.get_by_role("complementary").or_(page.locator("main"))).to_contain_text("全部符合")
    page.get_by_label(re.compile("我单位承诺")).check()
    page.get_by_role("button", name="提交建设方案").click()

    expect(page.locator("#status")).to_have_text("已提交")
    application = Application.objects.get(lead_unit=user.organisation)
    assert application.status == Status.SUBMITTED
    expect(page.locator("main")).to_contain_text(application.number)
    assert application.eligibility["passed"] is True
    assert application.attachments.count() == 4

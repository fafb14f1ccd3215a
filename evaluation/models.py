from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from accounts.choices import ChoiceLabelsMixin
from accounts.fields import EncryptedCharField, KeyedHashField
from accounts.files import random_name
from accounts.triggers import append_only
from applications.models import AppendOnlyQuerySet


class CalendarYear(models.Model):
    """Staff declare that a year's statutory holidays and make-up working days are completely entered.

    Needed only for years the ``chinese-calendar`` package does not know: without a row, working days
    in that year cannot be counted (``evaluation.workdays.UnknownCalendarYear``).
    """

    year = models.PositiveSmallIntegerField(_("年份"), unique=True, validators=[MinValueValidator(1)])
    notice = models.CharField(
        _("依据通知"),
        max_length=100,
        help_text=_("录入所依据的国务院办公厅通知文号，例如“国办发明电〔2026〕7号”。"),
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calendar_years_entered",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("节假日安排")
        verbose_name_plural = _("节假日安排")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=models.Q(year__gte=1), name="evaluation_calendaryear_positive")
        ]

    def __str__(self):
        return _("%(year)s年节假日安排") % {"year": self.year}


class CalendarDay(models.Model):
    """One statutory holiday or make-up working day (调休上班) entered by staff.

    Entries decide their day for any year, overriding the ``chinese-calendar`` package where it knows
    the year (a correction).
    """

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("法定节假日")
        MAKEUP_WORKDAY = "makeup_workday", _("调休上班")

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("节日名称"), max_length=40, help_text=_("例如“春节”“国庆节”。"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calendar_days_entered",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("节假日与调休日")
        verbose_name_plural = _("节假日与调休日")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}（{self.get_kind_display()}）"

    @property
    def is_working_day(self):
        return self.kind == self.Kind.MAKEUP_WORKDAY


class PreliminaryCheck(models.Model):
    """The completeness checklist staff tick during 材料初审 (one per application, updated as they go)."""

    class Item(models.TextChoices):
        PLAN = "plan", _("建设方案内容完整，各部分均已填写")
        LICENCE = "licence", _("营业执照与依托公司、统一社会信用代码一致")
        AGREEMENT = "agreement", _("共建协议已签署盖章，成员与填报一致")
        AUDIT = "audit", _("审计报告与填报的投入、研发经费数据一致")
        COMMITTEE = "committee", _("专家委员会组成和主任委员符合要求")
        ELIGIBILITY = "eligibility", _("已核对基本条件自动核验结果")

    application = models.OneToOneField(
        "applications.Application", on_delete=models.CASCADE, related_name="preliminary_check"
    )
    ticked = models.JSONField(_("已核对项目"), default=list)
    checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("初审核对表")
        verbose_name_plural = _("初审核对表")

    def __str__(self):
        return f"{self.application_id}: {len(self.ticked)}/{len(self.Item.values)}"

    @property
    def missing(self) -> list[str]:
        return [label for value, label in self.Item.choices if value not in self.ticked]


def minutes_path(instance, filename):
    return random_name("leadership", filename=filename)


class LeadershipMeeting(models.Model):
    """委主任办公会: one meeting decides on a batch of proposed applications; staff record it."""

    meeting_date = models.DateField(_("会议日期"))
    title = models.CharField(_("会议名称"), max_length=200)
    minutes = models.FileField(_("会议纪要"), upload_to=minutes_path)
    minutes_name = models.CharField(_("纪要文件名"), max_length=200)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("委主任办公会")
        triggers = append_only("the leadership meetings")
        verbose_name_plural = _("委主任办公会")
        ordering = ["-meeting_date", "-pk"]

    def __str__(self):
        return f"{self.title}（{self.meeting_date:%Y-%m-%d}）"


class LeadershipDecisionQuerySet(models.QuerySet):
    def of_current_pass(self):
        """Decisions recorded since each application last entered 委主任办公会审定: an application sent back
        (after an upheld objection or a deferral) and proposed again needs a new decision, the old one no
        longer counts. (An application that was never moved has no entry time: all its decisions count.)"""
        return self.filter(
            models.Q(application__stage_entered_at__isnull=True)
            | models.Q(meeting__recorded_at__gte=models.F("application__stage_entered_at"))
        )

    def approvals(self):
        return self.filter(decision=LeadershipDecision.Decision.APPROVE)


class LeadershipDecision(ChoiceLabelsMixin, models.Model):
    class Decision(models.TextChoices):
        APPROVE = "approve", _("同意")
        REJECT = "reject", _("不同意（不予认定）")
        DEFER = "defer", _("暂缓，退回综合评估")

    meeting = models.ForeignKey(LeadershipMeeting, on_delete=models.PROTECT, related_name="decisions")
    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="leadership_decisions"
    )
    decision = models.CharField(_("审定结果"), max_length=10, choices=Decision.choices)
    comment = models.TextField(_("说明"), blank=True)

    objects = LeadershipDecisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("审定结果")
        triggers = append_only("the leadership decisions")
        verbose_name_plural = _("审定结果")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "application"], name="one_decision_per_meeting")
        ]

    def __str__(self):
        return f"{self.application_id}: {self.decision}"


# --- experts, score sheets and panels ---------------------------------------------------------------------


class ExpertProfile(ChoiceLabelsMixin, models.Model):
    """An expert in the pool: who they are, where they work (for the conflict rules), what they know."""

    class Category(models.TextChoices):
        TECHNICAL = "technical", _("技术")
        MANAGEMENT = "management", _("管理")
        FINANCE = "finance", _("财务")

    class Status(models.TextChoices):
        ACTIVE = "active", _("在库")
        SUSPENDED = "suspended", _("暂停")
        RETIRED = "retired", _("退出")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="expert_profile"
    )
    title = models.CharField(_("职称/职务"), max_length=100)
    employer = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("工作单位"), on_delete=models.PROTECT, related_name="experts"
    )
    fields = models.ManyToManyField(
        "applications.Field", verbose_name=_("熟悉领域"), blank=True, related_name="+"
    )
    category = models.CharField(
        _("专家类别"), max_length=20, choices=Category.choices, default=Category.TECHNICAL
    )
    is_active = models.BooleanField(_("在库可用"), default=True)  # False while suspended or once retired
    note = models.CharField(_("备注"), max_length=300, blank=True)
    status = models.CharField(_("在库状态"), max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(_("暂停或退出原因"), max_length=300, blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)
    employer_since = models.DateField(_("现单位入职日期"), null=True, blank=True)
    id_number = EncryptedCharField(_("身份证号码"), max_length=18, blank=True)
    id_number_hash = KeyedHashField(source="id_number")

    class Meta:
        verbose_name = _("专家")
        verbose_name_plural = _("专家库")
        ordering = ["user__full_name"]

    def __str__(self):
        return f"{self.user}（{self.employer}）"


class PastEmployer(models.Model):
    """An expert's former employer with its dates: the conflict rules look at employers of the last three
    years (``evaluation.panels``). Written by ``evaluation.pool.update_profile`` when the employer changes."""

    profile = models.ForeignKey(ExpertProfile, on_delete=models.CASCADE, related_name="past_employers")
    organisation = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("工作单位"), on_delete=models.PROTECT, related_name="+"
    )
    started_on = models.DateField(_("起始日期"), null=True, blank=True)
    ended_on = models.DateField(_("离开日期"))
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("曾任职单位")
        verbose_name_plural = _("曾任职单位")
        ordering = ["-ended_on", "-pk"]
        indexes = [models.Index(fields=["organisation", "ended_on"])]

    def __str__(self):
        return f"{self.organisation}（至{self.ended_on}）"


def expert_file_path(instance, filename):
    return random_name("expert-applications", filename=filename)


class ExpertApplication(ChoiceLabelsMixin, models.Model):
    """专家入库申请: someone asks to join the pool; staff verify it (an account, the expert role and an
    ``ExpertProfile``) or reject it with a reason (``evaluation.pool``)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已入库")
        REJECTED = "rejected", _("未通过")

    full_name = models.CharField(_("姓名"), max_length=60)
    id_number = EncryptedCharField(_("身份证号码"), max_length=18)
    id_number_hash = KeyedHashField(source="id_number")
    username = models.CharField(_("用户名"), max_length=150)
    employer = models.ForeignKey(
        "accounts.Organisation", verbose_name=_("工作单位"), on_delete=models.PROTECT, related_name="+"
    )
    employer_since = models.DateField(_("现单位入职日期"), null=True, blank=True)
    title = models.CharField(_("职称/职务"), max_length=100)
    fields = models.ManyToManyField("applications.Field", verbose_name=_("熟悉领域"), related_name="+")
    category = models.CharField(
        _("专家类别"), max_length=20, choices=ExpertProfile.Category.choices, default="technical"
    )
    mobile = EncryptedCharField(_("手机号码"), max_length=20)
    email = models.EmailField(_("电子邮箱"))
    cv = models.FileField(_("个人简历"), upload_to=expert_file_path, max_length=200)
    cv_name = models.CharField(max_length=200, blank=True)
    certificate = models.FileField(_("职称证书"), upload_to=expert_file_path, max_length=200)
    certificate_name = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    reason = models.TextField(_("审核意见"), blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("专家入库申请")
        verbose_name_plural = _("专家入库申请")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.full_name}（{self.get_status_display()}）"


class ScoreSheetTemplate(models.Model):
    """A score sheet: criteria with maximum points. Frozen once a panel uses it, so scores stay comparable."""

    class Kind(models.TextChoices):
        EXPERT_REVIEW = "expert_review", _("专家论证")
        ASSESSMENT = "assessment", _("考核评估")

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("用途"), max_length=20, choices=Kind.choices)
    is_default = models.BooleanField(_("默认使用"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("评分表")
        verbose_name_plural = _("评分表")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(is_default=True), name="one_default_template_per_kind"
            )
        ]

    def __str__(self):
        # The name in the reader's language: the default sheets' names are in the catalogue
        # (DEFAULT_SHEET_TEXTS); a name staff typed is shown as typed. (Shown raw, the staff's panel page kept
        # "· 专家论证" in Chinese on the English page although the catalogue has it.)
        return gettext(self.name) if self.name else self.name

    @property
    def is_frozen(self) -> bool:
        return self.panels.exists()

    @property
    def max_total(self):
        return sum(c.max_points for c in self.criteria.all())


class Criterion(models.Model):
    template = models.ForeignKey(ScoreSheetTemplate, on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveSmallIntegerField(_("序号"))
    name = models.CharField(_("评分项"), max_length=100)
    max_points = models.DecimalField(
        _("满分"), max_digits=5, decimal_places=1, validators=[MinValueValidator(Decimal("0.5"))]
    )
    guidance = models.TextField(_("评分要点"), blank=True)

    class Meta:
        verbose_name = _("评分项")
        verbose_name_plural = _("评分项")
        ordering = ["template", "order"]
        constraints = [models.UniqueConstraint(fields=["template", "order"], name="criterion_order_unique")]

    def __str__(self):
        return f"{self.name}（{self.max_points}）"

    @property
    def label(self) -> str:
        """The name in the reader's language: the default sheets' names are in the catalogue
        (``DEFAULT_SHEET_TEXTS``); a name staff typed is shown as typed."""
        return gettext(self.name) if self.name else self.name

    @property
    def guidance_label(self) -> str:
        return gettext(self.guidance) if self.guidance else self.guidance


# The texts of the default score sheets (data migration evaluation/0004), marked for the catalogue.
DEFAULT_SHEET_TEXTS = (
    gettext_noop("专家论证评分表（默认）"),
    gettext_noop("建设基础与条件"),
    gettext_noop("牵头单位在该领域的研发积累、平台、人才和投入；共建单位的互补性。"),
    gettext_noop("技术方向与目标"),
    gettext_noop("关键共性技术方向是否明确、先进，目标是否可量化、可考核。"),
    gettext_noop("运营模式与机制"),
    gettext_noop("公司+联盟模式、治理结构、知识产权和成果转化机制是否可行。"),
    gettext_noop("预期成果与效益"),
    gettext_noop("成果指标是否具体，经济社会效益是否可信。"),
    gettext_noop("牵头单位能力"),
    gettext_noop("整合资源、转移扩散技术和持续投入的能力。"),
    gettext_noop("考核评估指标表（默认）"),
    gettext_noop("建设目标完成"),
    gettext_noop("建设方案中量化目标的完成情况。"),
    gettext_noop("共性技术与成果"),
    gettext_noop("突破的关键共性技术、专利、标准。"),
    gettext_noop("创新投入"),
    gettext_noop("研发经费投入及占比、研发人员。"),
    gettext_noop("协同创新"),
    gettext_noop("成员单位协同、平台共享、联合攻关。"),
    gettext_noop("成果转化与市场化"),
    gettext_noop("技术转让、成果转化、企业孵化和收入。"),
    gettext_noop("可持续发展"),
    gettext_noop("自我造血能力、运营机制和人才队伍。"),
)


class Panel(ChoiceLabelsMixin, models.Model):
    """The experts who score one application at one stage, against one score sheet, by a deadline."""

    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="panels"
    )
    kind = models.CharField(_("评审类型"), max_length=20, choices=ScoreSheetTemplate.Kind.choices)
    template = models.ForeignKey(
        ScoreSheetTemplate, verbose_name=_("评分表"), on_delete=models.PROTECT, related_name="panels"
    )
    deadline = models.DateTimeField(_("评分截止时间"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    result = models.JSONField(_("汇总结果"), null=True, blank=True)
    # When staff were told the deadline passed with sheets missing (panels.tell_staff_of_overdue_panels).
    overdue_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("专家组")
        verbose_name_plural = _("专家组")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "kind"],
                condition=models.Q(kind="expert_review"),
                name="one_expert_review_panel_per_application",
            )
        ]

    def __str__(self):
        return f"{self.application} · {self.get_kind_display()}"


class Assignment(ChoiceLabelsMixin, models.Model):
    """One expert on one panel: the conflict-of-interest declaration, then the score sheet."""

    class State(models.TextChoices):
        ASSIGNED = "assigned", _("待回避声明")
        DECLARED = "declared", _("评分中")
        SUBMITTED = "submitted", _("已提交评分")
        WITHDRAWN = "withdrawn", _("已回避")

    # The declaration's questions (DOMAIN: within three years ...). Any "yes" withdraws the expert.
    CONFLICT_QUESTIONS = {
        "worked_for": _("近三年内在申报单位或共建单位任职、兼职"),
        "advised": _("近三年内为申报单位或共建单位提供过咨询、顾问服务"),
        "legal_dispute": _("与申报单位或共建单位存在法律纠纷"),
        "prepared_plan": _("参与了本建设方案的编制"),
        "investment_link": _("与申报单位或共建单位存在投资、控股等利益关系"),
        "relative_link": _("近亲属在申报单位或共建单位任职或有上述关系"),
    }

    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="assignments")
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("专家"), on_delete=models.PROTECT, related_name="assignments"
    )
    state = models.CharField(
        _("状态"), max_length=20, choices=State.choices, default=State.ASSIGNED, db_index=True
    )
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)
    declaration = models.JSONField(_("回避声明"), null=True, blank=True)
    declared_at = models.DateTimeField(_("声明时间"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("评审任务")
        verbose_name_plural = _("评审任务")
        constraints = [models.UniqueConstraint(fields=["panel", "expert"], name="expert_once_per_panel")]
        indexes = [models.Index(fields=["expert", "state"])]

    def __str__(self):
        return f"{self.expert} · {self.panel}"

    @property
    def is_active(self) -> bool:
        return self.state != self.State.WITHDRAWN


class PanelDeadlineChange(models.Model):
    """A panel's scoring deadline moved by staff: when, by whom, from what to what and why. Append-only."""

    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="deadline_changes")
    previous_deadline = models.DateTimeField(_("原截止时间"))
    new_deadline = models.DateTimeField(_("新截止时间"))
    reason = models.TextField(_("延期理由"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("办理人"), on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(_("办理时间"), auto_now_add=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("评分截止时间延期")
        verbose_name_plural = _("评分截止时间延期")
        ordering = ["changed_at", "pk"]
        triggers = append_only("the panel deadline changes")

    def __str__(self):
        return (
            f"{self.panel_id}: {self.previous_deadline:%Y-%m-%d %H:%M} → {self.new_deadline:%Y-%m-%d %H:%M}"
        )

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("历史记录只能追加，不能修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("历史记录只能追加，不能删除。"))


class ScoreSheet(models.Model):
    """An expert's scores on one assignment. Locked once submitted; other experts never see it."""

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="sheet")
    opinion = models.TextField(_("总体意见"), blank=True)
    total = models.DecimalField(_("总分"), max_digits=6, decimal_places=1, null=True, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("保存时间"), auto_now=True)

    class Meta:
        verbose_name = _("评分表（专家）")
        verbose_name_plural = _("评分表（专家）")

    def __str__(self):
        return f"{self.assignment}: {self.total}"


class Score(models.Model):
    sheet = models.ForeignKey(ScoreSheet, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    points = models.DecimalField(_("得分"), max_digits=5, decimal_places=1, null=True, blank=True)
    comment = models.TextField(_("评语"), blank=True)

    class Meta:
        verbose_name = _("评分")
        verbose_name_plural = _("评分")
        constraints = [
            models.UniqueConstraint(fields=["sheet", "criterion"], name="one_score_per_criterion"),
            models.CheckConstraint(condition=models.Q(points__gte=0), name="score_not_negative"),
        ]

    def __str__(self):
        return f"{self.criterion_id}: {self.points}"


# --- site inspection and comprehensive evaluation -----------------------------------------------------------


class SiteInspection(models.Model):
    """现场考核: the team's visit, findings per checklist item, a score and a conclusion, signed off."""

    class Item(models.TextChoices):
        PREMISES = "premises", _("办公和研发场地")
        EQUIPMENT = "equipment", _("研发仪器设备与设备台账相符")
        STAFF = "staff", _("人员花名册与社保缴纳记录相符")
        RD_LEDGER = "rd_ledger", _("研发经费辅助账")
        AUDIT = "audit", _("审计报告")
        MINUTES = "minutes", _("联盟及专家委员会会议纪要")

    application = models.OneToOneField(
        "applications.Application", on_delete=models.PROTECT, related_name="site_inspection"
    )
    visit_date = models.DateField(_("考核日期"), null=True, blank=True)
    team = models.TextField(_("考核组成员"), blank=True, help_text=_("每行一人：姓名、单位、职务。"))
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("考核组长"), on_delete=models.PROTECT, related_name="+"
    )
    findings = models.JSONField(_("核查情况"), default=dict, blank=True)
    score = models.DecimalField(
        _("现场考核得分"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
    )
    conclusion = models.TextField(_("考核结论"), blank=True)
    signed_off_at = models.DateTimeField(_("组长签字时间"), null=True, blank=True)
    # The leader's reminder before the visit date (evaluation.tasks.remind_inspection_leaders); cleared
    # when the date moves, so the reminder follows the new date.
    reminded_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("现场考核")
        verbose_name_plural = _("现场考核")
        constraints = [
            # The maximum is the policy's (applications.Policy.inspection_max_score, checked by
            # evaluation.inspection.save_record); the database keeps the score from going negative.
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=0),
                name="inspection_score_not_negative",
            )
        ]

    def __str__(self):
        return f"{self.application} · {_('现场考核')}"


def inspection_file_path(instance, filename):
    return random_name(f"inspections/{instance.inspection_id}", content_type=instance.content_type)


class InspectionFile(models.Model):
    """A photo or document taken during the inspection."""

    inspection = models.ForeignKey(SiteInspection, on_delete=models.CASCADE, related_name="files")
    file = models.FileField(_("文件"), upload_to=inspection_file_path)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(max_length=100)
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("现场照片和材料")
        verbose_name_plural = _("现场照片和材料")

    def __str__(self):
        return self.original_name


class ComprehensiveEvaluation(ChoiceLabelsMixin, models.Model):
    """综合评估: the composite of the expert and site scores and the eligibility, the recommendation the
    policy's bands give, and staff's decision (a departure from the recommendation needs a reason)."""

    class Recommendation(models.TextChoices):
        RECOGNISE = "recognise", _("拟认定")
        PILOT = "pilot", _("培育试点")
        REJECT = "reject", _("不予认定")

    application = models.OneToOneField(
        "applications.Application", on_delete=models.PROTECT, related_name="comprehensive"
    )
    expert_score = models.DecimalField(_("专家论证得分"), max_digits=6, decimal_places=2)
    site_score = models.DecimalField(_("现场考核得分"), max_digits=6, decimal_places=2)
    eligibility_passed = models.BooleanField(_("基本条件全部符合"))
    composite = models.DecimalField(_("综合得分"), max_digits=6, decimal_places=2)
    recommendation = models.CharField(_("系统建议"), max_length=20, choices=Recommendation.choices)
    decision = models.CharField(_("评估结论"), max_length=20, choices=Recommendation.choices)
    reason = models.TextField(_("与建议不一致的理由"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("综合评估")
        verbose_name_plural = _("综合评估")

    def __str__(self):
        return f"{self.application}: {self.composite}"


# --- publicity, objections, approval ------------------------------------------------------------------------


class AnnouncementQuerySet(models.QuerySet):
    def open_at(self, moment):
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)

    def due_for_closing(self, moment):
        return self.filter(ends_at__lte=moment, closed_at__isnull=True)


class Announcement(ChoiceLabelsMixin, models.Model):
    """公示: one announcement lists one or many applications; its end is computed once and stored."""

    class ListType(models.TextChoices):
        RECOGNISE = "recognise", _("拟认定")
        PILOT = "pilot", _("培育试点")

    title = models.CharField(_("公示标题"), max_length=200)
    list_type = models.CharField(_("名单类型"), max_length=20, choices=ListType.choices)
    starts_at = models.DateTimeField(_("公示开始"))
    ends_at = models.DateTimeField(_("公示截止"), db_index=True)
    working_days = models.PositiveSmallIntegerField(_("公示期（工作日）"))
    contact_person = models.CharField(_("联系人"), max_length=60)
    contact_phone = models.CharField(_("联系电话"), max_length=40)
    contact_address = models.CharField(_("通讯地址"), max_length=300)
    supervision_phone = models.CharField(_("监督电话"), max_length=40)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(_("期满处理时间"), null=True, blank=True)

    objects = AnnouncementQuerySet.as_manager()

    class Meta:
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        ordering = ["-starts_at", "-pk"]
        indexes = [
            models.Index(fields=["closed_at", "ends_at"]),
            # The deadline sweep's question (what has ended and is still open?) must not read every period
            # ever closed: 2.8 ms on 8,900 closed periods without it.
            models.Index(
                fields=["ends_at"], name="announcement_due", condition=models.Q(closed_at__isnull=True)
            ),
        ]

    def __str__(self):
        return self.title

    def is_open(self, moment) -> bool:
        return self.starts_at <= moment < self.ends_at


class AnnouncementEntry(models.Model):
    announcement = models.ForeignKey(Announcement, on_delete=models.PROTECT, related_name="entries")
    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="announcement_entries"
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("公示名单")
        verbose_name_plural = _("公示名单")
        ordering = ["announcement", "order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["announcement", "application"], name="application_once_per_announcement"
            )
        ]

    def __str__(self):
        return f"{self.announcement_id}: {self.application_id}"


class Objection(ChoiceLabelsMixin, models.Model):
    """异议: real-name. The objector's identity is shown to commission staff only."""

    class Kind(models.TextChoices):
        PERSON = "person", _("个人")
        ORGANISATION = "organisation", _("单位")

    class State(models.TextChoices):
        PENDING = "pending", _("待处理")
        DISMISSED = "dismissed", _("不成立")
        UPHELD = "upheld", _("成立")

    reference = models.CharField(_("受理编号"), max_length=30, unique=True)
    entry = models.ForeignKey(AnnouncementEntry, on_delete=models.PROTECT, related_name="objections")
    kind = models.CharField(_("异议人类型"), max_length=20, choices=Kind.choices)
    name = models.CharField(_("姓名或单位名称"), max_length=200)
    id_number = EncryptedCharField(_("身份证号码"), max_length=18, blank=True)
    id_number_hash = KeyedHashField(source="id_number")  # finds one person's objections (rate limit)
    contact_person = models.CharField(_("联系人"), max_length=60, blank=True)
    phone = EncryptedCharField(_("联系电话"), max_length=20)
    statement = models.TextField(_("异议内容"))
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(
        _("处理结果"), max_length=20, choices=State.choices, default=State.PENDING, db_index=True
    )
    resolution = models.TextField(_("处理意见"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("异议")
        verbose_name_plural = _("异议")
        ordering = ["-created_at"]
        # The limit of accepted objections per address counts the last hour (publicity._check_rate).
        indexes = [models.Index(fields=["ip_address", "created_at"], name="objection_address_recent")]

    def __str__(self):
        return self.reference


def objection_file_path(instance, filename):
    return random_name(f"objections/{instance.objection_id}", content_type=instance.content_type)


class ObjectionFile(models.Model):
    class Kind(models.TextChoices):
        EVIDENCE = "evidence", _("证据材料")
        SEALED_LETTER = "sealed_letter", _("加盖公章的异议书")

    objection = models.ForeignKey(Objection, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    file = models.FileField(upload_to=objection_file_path)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()

    class Meta:
        verbose_name = _("异议材料")
        verbose_name_plural = _("异议材料")

    def __str__(self):
        return self.original_name


class Approval(models.Model):
    """批复: the approval document for an application that passed publicity."""

    application = models.OneToOneField(
        "applications.Application", on_delete=models.PROTECT, related_name="approval"
    )
    document_number = models.CharField(_("批复文号"), max_length=100)
    document_date = models.DateField(_("批复日期"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("批复")
        verbose_name_plural = _("批复")

    def __str__(self):
        return self.document_number


class VerificationCode(ChoiceLabelsMixin, models.Model):
    """The unguessable token behind the QR code of a printed document (the approval notice, the plaque
    sheet): ``/verify/<token>/`` shows the document's number and date and the centre's current status.
    Revoking it (a document reissued, lost or forged) makes the address a plain "not found"."""

    class Kind(models.TextChoices):
        APPROVAL_NOTICE = "approval_notice", _("批复通知")
        PLAQUE = "plaque", _("牌匾")

    application = models.ForeignKey(
        "applications.Application", on_delete=models.PROTECT, related_name="verification_codes"
    )
    kind = models.CharField(_("文件"), max_length=20, choices=Kind.choices)
    token = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    revoke_reason = models.CharField(_("吊销理由"), max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("防伪核验码")
        verbose_name_plural = _("防伪核验码")
        constraints = [
            models.UniqueConstraint(
                fields=["application", "kind"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_active_verification_code_per_document",
            )
        ]

    def __str__(self):
        return f"{self.application_id} {self.kind}"

"""Construction plans (建设方案) and what they are judged against: fields, the versioned policy.

Models hold fields, constraints and querysets only. The procedures that change an application live in
``applications.services`` (the lead unit's steps) and ``evaluation.workflow`` (the review); the status
field is protected, so nothing can set it except a transition below.
"""

from decimal import Decimal
from functools import cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Mod
from django.db.models.lookups import Exact
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.choices import ChoiceLabelsMixin
from accounts.files import random_name
from accounts.models import District, Organisation
from accounts.triggers import append_only
from accounts.validators import validate_credit_code
from applications import stages

WAN = _("万元")
# DOMAIN.md: a panel is an odd number of experts, at least 5. A policy may ask for more, never for fewer.
MIN_PANEL_FLOOR = 5


class PolicyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError(_("政策参数的历史版本不能修改，请新建一个版本。"))

    def delete(self):
        raise ValidationError(_("政策参数的历史版本不能删除。"))


def parse_day_list(value: str) -> tuple[int, ...]:
    """ "30,7,1" (commas of either width or 、 between) → (30, 7, 1), largest first; ValueError if not."""
    parts = [p.strip() for p in str(value).replace("，", ",").replace("、", ",").split(",") if p.strip()]
    days = tuple(sorted({int(p) for p in parts}, reverse=True))
    if not days or any(d < 1 for d in days):
        raise ValueError(value)
    return days


def validate_day_list(value: str) -> None:
    try:
        parse_day_list(value)
    except ValueError:
        raise ValidationError(_("请填写用逗号分隔的正整数天数，例如“30,7,1”。")) from None


def validate_panel_size(value: int) -> None:
    if value is not None and (value < MIN_PANEL_FLOOR or value % 2 == 0):
        raise ValidationError(_("专家组最少人数应为不少于5人的奇数。"))


class Policy(models.Model):
    """The thresholds and periods of the programme. Rows are never edited: a change is a new version."""

    class Aggregate(models.TextChoices):
        MEAN = "mean", _("算术平均")
        TRIMMED_MEAN = "trimmed_mean", _("去掉一个最高分和一个最低分后平均")

    version = models.PositiveIntegerField(_("版本"), unique=True, editable=False)
    effective_from = models.DateTimeField(_("生效时间"), default=timezone.now)
    note = models.CharField(_("修订说明"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("修订人"), on_delete=models.PROTECT, null=True, blank=True
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    min_total_investment = models.DecimalField(
        _("实际投资总额下限（万元）"), max_digits=12, decimal_places=2, default=Decimal("1000.00")
    )
    min_rd_staff_ratio = models.DecimalField(
        _("研发人员占比下限（%）"), max_digits=5, decimal_places=2, default=Decimal("30.00")
    )
    min_rd_expense_ratio = models.DecimalField(
        _("研发经费占总成本支出比例下限（%）"), max_digits=5, decimal_places=2, default=Decimal("30.00")
    )
    min_panel_size = models.PositiveSmallIntegerField(
        _("专家组最少人数（奇数）"),
        default=5,
        validators=[validate_panel_size],
        help_text=_("不少于5人的奇数。"),
    )
    score_aggregate = models.CharField(
        _("专家评分汇总方式"), max_length=20, choices=Aggregate.choices, default=Aggregate.MEAN
    )
    trimmed_mean_min_sheets = models.PositiveSmallIntegerField(
        _("去掉最高最低分所需的最少评分表数"),
        default=5,
        validators=[MinValueValidator(3)],
        help_text=_("有效评分表少于此数时，按算术平均汇总。"),
    )
    inspection_max_score = models.PositiveSmallIntegerField(
        _("现场考核满分"),
        default=100,
        validators=[MinValueValidator(1)],
        help_text=_("综合得分计算时，现场考核得分按满分折算为百分制。"),
    )
    band_recognise_min = models.DecimalField(_("拟认定分数线"), max_digits=5, decimal_places=2, default=80)
    band_pilot_min = models.DecimalField(_("培育试点分数线"), max_digits=5, decimal_places=2, default=70)
    composite_expert_weight = models.PositiveSmallIntegerField(
        _("综合得分中专家论证的权重（%）"),
        default=60,
        validators=[MaxValueValidator(100)],
        help_text=_("其余为现场考核的权重。"),
    )
    publicity_working_days = models.PositiveSmallIntegerField(_("公示期（工作日）"), default=5)
    grade_excellent_min = models.DecimalField(
        _("考核“优秀”分数线"), max_digits=5, decimal_places=2, default=90
    )
    grade_good_min = models.DecimalField(_("考核“良好”分数线"), max_digits=5, decimal_places=2, default=80)
    grade_pass_min = models.DecimalField(_("考核“合格”分数线"), max_digits=5, decimal_places=2, default=60)
    support_years = models.PositiveSmallIntegerField(_("连续支持年数"), default=3)
    assessment_interval_years = models.PositiveSmallIntegerField(_("考核评估周期（年）"), default=3)
    exclusion_years = models.PositiveSmallIntegerField(_("考核不合格后不予支持年数"), default=3)
    summary_due_month = models.PositiveSmallIntegerField(
        _("年度总结截止月"), default=3, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    summary_due_day = models.PositiveSmallIntegerField(
        _("年度总结截止日"), default=31, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    summary_reminder_days = models.CharField(
        _("年度总结提前提醒天数"),
        max_length=50,
        default="30,7,1",
        validators=[validate_day_list],
        help_text=_("截止日期前多少天提醒尚未报送的牵头单位，用逗号分隔，例如“30,7,1”。"),
    )
    attachment_max_mb = models.PositiveSmallIntegerField(_("单个附件大小上限（MB）"), default=20)
    summary_overdue_months = models.PositiveSmallIntegerField(
        _("年度总结逾期提请撤销称号的月数"),
        default=6,
        validators=[MinValueValidator(1)],
        help_text=_(
            "年度总结逾期超过此月数仍未报送的创新中心，提请工作人员决定是否撤销称号（不会自动撤销）。"
        ),
    )

    objects = PolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("政策参数")
        verbose_name_plural = _("政策参数")
        ordering = ["-version"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(min_panel_size__gte=MIN_PANEL_FLOOR)
                & models.Q(Exact(Mod("min_panel_size", 2), 1)),
                name="policy_panel_size_odd_at_least_5",
                violation_error_message=_("专家组最少人数应为不少于5人的奇数。"),
            ),
            models.CheckConstraint(
                condition=models.Q(trimmed_mean_min_sheets__gte=3),
                name="policy_trimmed_mean_needs_three_sheets",
                violation_error_message=_("去掉最高最低分至少需要3份评分表。"),
            ),
            models.CheckConstraint(
                condition=models.Q(inspection_max_score__gt=0),
                name="policy_inspection_max_positive",
                violation_error_message=_("现场考核满分应大于0。"),
            ),
            models.CheckConstraint(
                condition=models.Q(band_recognise_min__gt=models.F("band_pilot_min")),
                name="policy_bands_ordered",
                violation_error_message=_("拟认定分数线应高于培育试点分数线。"),
            ),
            models.CheckConstraint(
                condition=models.Q(grade_excellent_min__gt=models.F("grade_good_min"))
                & models.Q(grade_good_min__gt=models.F("grade_pass_min")),
                name="policy_grades_ordered",
                violation_error_message=_("考核分数线应按优秀、良好、合格从高到低排列。"),
            ),
        ]

    def __str__(self):
        return _("第%(version)d版（%(date)s起）") % {
            "version": self.version,
            "date": timezone.localtime(self.effective_from).date().isoformat(),
        }

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("政策参数的历史版本不能修改，请新建一个版本。"))
        if self.version is None:
            last = Policy.objects.order_by("-version").values_list("version", flat=True).first()
            self.version = (last or 0) + 1
        super().save(*args, **kwargs)

    @property
    def reminder_days(self) -> tuple[int, ...]:
        """The summary reminders' lead times in days, largest first (e.g. (30, 7, 1))."""
        return parse_day_list(self.summary_reminder_days)

    @classmethod
    def current(cls) -> "Policy":
        """The version in force now: the newest whose start has passed."""
        return (
            cls.objects.filter(effective_from__lte=timezone.now())
            .order_by("-effective_from", "-version")
            .first()
        )


class Field(models.Model):
    """A key field (重点布局领域). One recognised centre per field."""

    name = models.CharField(_("领域名称"), max_length=80, unique=True)
    description = models.TextField(_("说明"), blank=True)
    is_active = models.BooleanField(_("接受申报"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("重点布局领域")
        verbose_name_plural = _("重点布局领域")
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


# The lifecycle's states, in order, from the declaration of the review stages (applications.stages).
Status = models.TextChoices("Status", stages.status_members(), module=__name__)


class Outcome(models.TextChoices):
    """The outcome proposed by the comprehensive evaluation (综合评估)."""

    RECOGNISE = "recognise", _("拟认定")
    PILOT = "pilot", _("培育试点")


EDITABLE_STATES = (Status.DRAFT, Status.RETURNED)
WITHDRAWABLE_STATES = (Status.DRAFT, Status.SUBMITTED, Status.RETURNED)
# When the district's recommendation opinion can be recorded: after submission, until 材料初审 ends.
OPINION_STATES = (Status.SUBMITTED, Status.PRELIMINARY)
REVIEW_STATES = tuple(Status(stage.status) for stage in stages.STAGES if stage.review)
CLOSED_STATES = (Status.REJECTED, Status.WITHDRAWN, Status.AWARDED)


class ApplicationQuerySet(models.QuerySet):
    def of_organisation(self, organisation_id):
        return self.filter(lead_unit_id=organisation_id)

    def in_district(self, district_id):
        """What district staff see: their district's applications once submitted (never drafts)."""
        return self.filter(district_id=district_id).exclude(status=Status.DRAFT)

    def for_list(self):
        """Rows for lists and exports: the related names joined, the plan's long narrative left unread."""
        return self.select_related("field", "lead_unit", "district").defer(*Application.LONG_TEXT_FIELDS)


class Application(ChoiceLabelsMixin, ConcurrentTransitionMixin, models.Model):
    """A construction plan (建设方案) for one centre, written by its lead unit."""

    number = models.CharField(
        _("申报编号"), max_length=30, unique=True, null=True, blank=True, editable=False
    )
    status = FSMField(_("状态"), default=Status.DRAFT, choices=Status.choices, protected=True, db_index=True)
    lead_unit = models.ForeignKey(
        Organisation, verbose_name=_("牵头单位"), on_delete=models.PROTECT, related_name="applications"
    )
    district = models.ForeignKey(  # empty for a lead unit without a district (the commission's own)
        District,
        verbose_name=_("所在区县"),
        on_delete=models.PROTECT,
        related_name="applications",
        null=True,
        blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("最后保存"), auto_now=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True, editable=False)
    year = models.PositiveSmallIntegerField(
        _("申报年度"), null=True, blank=True, editable=False, db_index=True
    )
    revision = models.PositiveSmallIntegerField(_("提交次数"), default=0, editable=False)
    policy = models.ForeignKey(
        Policy,
        verbose_name=_("适用政策版本"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
    )
    eligibility = models.JSONField(_("基本条件核验结果"), null=True, blank=True, editable=False)
    outcome = models.CharField(
        _("拟定结论"), max_length=20, choices=Outcome.choices, blank=True, editable=False, db_index=True
    )
    stage_entered_at = models.DateTimeField(_("进入当前阶段时间"), null=True, blank=True, editable=False)

    # 基本信息
    centre_name = models.CharField(_("创新中心名称"), max_length=200, blank=True)
    field = models.ForeignKey(
        Field,
        verbose_name=_("重点布局领域"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    host_name = models.CharField(_("依托公司名称"), max_length=200, blank=True)
    host_credit_code = models.CharField(
        _("依托公司统一社会信用代码"), max_length=18, blank=True, validators=[validate_credit_code]
    )
    host_registered_capital = models.DecimalField(
        _("依托公司注册资本（万元）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    host_founded_on = models.DateField(_("依托公司成立日期"), null=True, blank=True)
    host_board = models.TextField(_("董事会组成"), blank=True)
    host_management = models.TextField(_("管理团队"), blank=True)

    # 建设方案正文
    basis = models.TextField(_("建设基础条件"), blank=True)
    construction_plan = models.TextField(_("建设规划"), blank=True)
    tech_direction = models.TextField(_("技术发展方向和目标"), blank=True)
    operating_model = models.TextField(_("运营模式"), blank=True)
    expected_results = models.TextField(_("预期成果"), blank=True)
    benefits = models.TextField(_("经济社会效益"), blank=True)
    roadmap = models.TextField(_("技术路线图"), blank=True)

    # 投入与人员
    investment_capital = models.DecimalField(
        _("资本投入（万元）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    investment_ip = models.DecimalField(
        _("知识产权投入（万元）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    employees = models.PositiveIntegerField(_("职工总数"), null=True, blank=True)
    rd_staff = models.PositiveIntegerField(_("研发及相关人员数"), null=True, blank=True)
    total_cost = models.DecimalField(
        _("年度总成本支出（万元）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    rd_expense = models.DecimalField(
        _("年度研发经费支出（万元）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )

    # 基本条件声明（第1-3、7-8项，须附证明材料）
    declares_enterprise_legal_person = models.BooleanField(
        _("创新中心为企业法人，采取“公司+联盟”模式"), default=False
    )
    declares_capital_links = models.BooleanField(
        _("依托公司为独立法人，由骨干企业及上下游单位以资本为纽带组建，股东包括多家优势创新企业"),
        default=False,
    )
    declares_alliance = models.BooleanField(
        _("联盟汇聚企业（含用户单位）、科研院所和高校，涵盖若干市级及以上创新平台"), default=False
    )
    declares_expert_committee = models.BooleanField(
        _("设有由领域领军专家担任主任的专家委员会"), default=False
    )
    declares_governance = models.BooleanField(
        _("设有董事会和管理团队，制定了技术路线图、知识产权管理和成果转化制度"), default=False
    )

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("建设方案")
        verbose_name_plural = _("建设方案")
        ordering = ["-updated_at"]
        indexes = [
            models.Index(fields=["lead_unit", "-updated_at"]),
            models.Index(fields=["district", "status"]),
            models.Index(fields=["field", "status"]),
            models.Index(fields=["status", "-submitted_at", "-id"], name="application_workbench_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rd_staff__isnull=True)
                | models.Q(employees__isnull=True)
                | models.Q(rd_staff__lte=models.F("employees")),
                name="application_rd_staff_within_employees",
                violation_error_message=_("研发及相关人员数不能超过职工总数。"),
            ),
            models.CheckConstraint(
                condition=models.Q(rd_expense__isnull=True)
                | models.Q(total_cost__isnull=True)
                | models.Q(rd_expense__lte=models.F("total_cost")),
                name="application_rd_expense_within_total_cost",
                violation_error_message=_("研发经费支出不能超过总成本支出。"),
            ),
        ]

    def __str__(self):
        return self.centre_name or str(_("（未命名的建设方案）"))

    @property
    def total_investment(self) -> Decimal | None:
        if self.investment_capital is None and self.investment_ip is None:
            return None
        return (self.investment_capital or Decimal(0)) + (self.investment_ip or Decimal(0))

    # The plan's own fields, written once, by editor step (the forms, the editor's completeness and the
    # submitted snapshots read these).
    BASICS_FIELDS = (
        "centre_name",
        "field",
        "host_name",
        "host_credit_code",
        "host_registered_capital",
        "host_founded_on",
        "host_board",
        "host_management",
    )
    SECTION_FIELDS = (
        "basis",
        "construction_plan",
        "tech_direction",
        "operating_model",
        "expected_results",
        "benefits",
        "roadmap",
    )
    FIGURES_FIELDS = (
        "investment_capital",
        "investment_ip",
        "employees",
        "rd_staff",
        "total_cost",
        "rd_expense",
    )
    DECLARATION_FIELDS = (
        "declares_enterprise_legal_person",
        "declares_capital_links",
        "declares_alliance",
        "declares_expert_committee",
        "declares_governance",
    )
    PLAN_FIELDS = (*BASICS_FIELDS, *SECTION_FIELDS, *FIGURES_FIELDS, *DECLARATION_FIELDS)

    # The narrative text, left unread by lists (``ApplicationQuerySet.for_list``).
    LONG_TEXT_FIELDS = (*SECTION_FIELDS, "host_board", "host_management")

    @property
    def sections(self) -> list[tuple[str, str]]:
        """The plan's narrative sections as (label, text), in the plan's order."""
        return [
            (self._meta.get_field(name).verbose_name, getattr(self, name)) for name in self.SECTION_FIELDS
        ]

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATES

    # --- transitions: declarations only; applications.services / evaluation.workflow run them ----------
    @transition(
        field=status,
        source=Status.DRAFT,
        target=Status.SUBMITTED,
        permission="applications.submit",
        custom={"label": _("提交")},
    )
    def submit(self):
        pass

    @transition(
        field=status,
        source=Status.RETURNED,
        target=Status.SUBMITTED,
        permission="applications.submit",
        custom={"label": _("重新提交")},
    )
    def resubmit(self):
        pass

    @transition(
        field=status,
        source=list(WITHDRAWABLE_STATES),
        target=Status.WITHDRAWN,
        permission="applications.withdraw",
        custom={"label": _("撤回")},
    )
    def withdraw(self):
        pass

    # The review (run by evaluation.workflow). "evaluation.review" is commission staff's permission.
    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.PRELIMINARY,
        permission="evaluation.review",
        custom={"label": _("受理并开始初审")},
    )
    def start_preliminary(self):
        pass

    @transition(
        field=status,
        source=Status.PRELIMINARY,
        target=Status.EXPERT_REVIEW,
        permission="evaluation.review",
        custom={"label": _("初审通过")},
    )
    def pass_preliminary(self):
        pass

    @transition(
        field=status,
        source=Status.PRELIMINARY,
        target=Status.RETURNED,
        permission="evaluation.review",
        custom={"label": _("退回修改")},
    )
    def return_for_amendment(self):
        pass

    @transition(
        field=status,
        source=Status.EXPERT_REVIEW,
        target=Status.SITE_INSPECTION,
        permission="evaluation.review",
        custom={"label": _("结束专家论证")},
    )
    def close_expert_review(self):
        pass

    @transition(
        field=status,
        source=Status.SITE_INSPECTION,
        target=Status.COMPREHENSIVE,
        permission="evaluation.review",
        custom={"label": _("结束现场考核")},
    )
    def close_site_inspection(self):
        pass

    @transition(
        field=status,
        source=Status.COMPREHENSIVE,
        target=Status.LEADERSHIP,
        permission="evaluation.review",
        custom={"label": _("提请委主任办公会审定")},
    )
    def propose(self):
        pass

    @transition(
        field=status,
        source=Status.LEADERSHIP,
        target=Status.COMPREHENSIVE,
        permission="evaluation.review",
        custom={"label": _("退回综合评估")},
    )
    def send_back_to_comprehensive(self):
        pass

    # Publicity and award: the services come with the publicity issue (an announcement opens publicity
    # for a batch; the deadline sweep closes it; objections upheld reject or send back).
    @transition(
        field=status,
        source=Status.LEADERSHIP,
        target=Status.PUBLICITY,
        permission="evaluation.review",
        custom={"label": _("发布公示")},
    )
    def open_publicity(self):
        pass

    @transition(
        field=status,
        source=Status.PUBLICITY,
        target=Status.APPROVED,
        permission="evaluation.review",
        custom={"label": _("公示期满，予以批复")},
    )
    def approve(self):
        pass

    @transition(
        field=status,
        source=Status.PUBLICITY,
        target=Status.COMPREHENSIVE,
        permission="evaluation.review",
        custom={"label": _("异议成立，退回综合评估")},
    )
    def send_back_after_objection(self):
        pass

    @transition(
        field=status,
        source=Status.APPROVED,
        target=Status.AWARDED,
        permission="evaluation.review",
        custom={"label": _("授牌")},
    )
    def award(self):
        pass

    @transition(
        field=status,
        source=[s for s in REVIEW_STATES if s != Status.SUBMITTED],
        target=Status.REJECTED,
        permission="evaluation.review",
        custom={"label": _("不予认定")},
    )
    def reject(self):
        pass


class ExpectedOutcome(models.Model):
    """预期成果, quantified: one indicator with its target and the year it is to be reached."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="outcomes")
    indicator = models.CharField(_("指标"), max_length=200)
    target = models.CharField(_("目标值"), max_length=100)
    year = models.PositiveSmallIntegerField(
        _("完成年度"), validators=[MinValueValidator(2017), MaxValueValidator(2100)]
    )

    class Meta:
        verbose_name = _("预期成果指标")
        verbose_name_plural = _("预期成果指标")
        ordering = ["year", "pk"]

    def __str__(self):
        return f"{self.indicator}: {self.target} ({self.year})"


class CommitteeMember(models.Model):
    """A member of the centre's expert committee (专家委员会)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="committee")
    name = models.CharField(_("姓名"), max_length=60)
    title = models.CharField(_("职称/职务"), max_length=100)
    employer = models.CharField(_("工作单位"), max_length=200)
    is_chair = models.BooleanField(_("主任委员"), default=False)

    class Meta:
        verbose_name = _("专家委员会成员")
        verbose_name_plural = _("专家委员会成员")
        ordering = ["-is_chair", "pk"]

    def __str__(self):
        return self.name


class MemberUnit(ChoiceLabelsMixin, models.Model):
    """A co-building member unit (共建单位)."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业")
        USER_ENTERPRISE = "user_enterprise", _("用户企业")
        RESEARCH_INSTITUTE = "research_institute", _("科研院所")
        UNIVERSITY = "university", _("高等院校")
        PLATFORM = "platform", _("创新平台")
        OTHER = "other", _("其他")

    class Relation(models.TextChoices):
        SHAREHOLDER = "shareholder", _("股东单位")
        ALLIANCE = "alliance", _("联盟成员")
        BOTH = "both", _("股东单位兼联盟成员")

    class Contribution(models.TextChoices):
        MONEY = "money", _("资金")
        IP = "ip", _("知识产权")
        EQUIPMENT = "equipment", _("设备")
        NONE = "none", _("无")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("单位名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, validators=[validate_credit_code])
    kind = models.CharField(_("单位类型"), max_length=30, choices=Kind.choices)
    relation = models.CharField(_("成员关系"), max_length=20, choices=Relation.choices)
    contribution = models.CharField(_("出资方式"), max_length=20, choices=Contribution.choices)
    amount = models.DecimalField(
        _("出资额（万元）"), max_digits=12, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    platforms = models.CharField(_("拥有的创新平台"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("共建单位")
        verbose_name_plural = _("共建单位")
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "credit_code"],
                name="member_unit_once_per_application",
                violation_error_message=_("同一共建单位不能重复填写。"),
            )
        ]

    def __str__(self):
        return self.name


def attachment_path(instance, filename):
    return random_name(f"applications/{instance.application_id}", content_type=instance.content_type)


class Attachment(ChoiceLabelsMixin, models.Model):
    class Kind(models.TextChoices):
        PLAN = "plan", _("建设方案（PDF）")
        AGREEMENT = "agreement", _("共建协议")
        LICENCE = "licence", _("营业执照")
        AUDIT = "audit", _("审计报告")
        OTHER = "other", _("其他证明材料")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(_("材料类型"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to=attachment_path)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["kind", "uploaded_at"]

    def __str__(self):
        return self.original_name


class ApplicationVersion(models.Model):
    """What was submitted each time: a frozen snapshot, so staff can see what changed in a resubmission."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="versions")
    revision = models.PositiveSmallIntegerField(_("版本"))
    submitted_at = models.DateTimeField(_("提交时间"))
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    content = models.JSONField(_("内容"))

    class Meta:
        verbose_name = _("提交版本")
        triggers = append_only("the submitted versions")
        verbose_name_plural = _("提交版本")
        ordering = ["application", "revision"]
        constraints = [
            models.UniqueConstraint(fields=["application", "revision"], name="one_snapshot_per_revision")
        ]

    def __str__(self):
        return f"{self.application} v{self.revision}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValidationError(_("历史记录只能追加，不能修改。"))

    def delete(self):
        raise ValidationError(_("历史记录只能追加，不能删除。"))


# History entries that are not transitions (a transition's entry is labelled by its own ``label``).
ACTION_LABELS = {
    "create": _("新建草稿"),
    "district_opinion": _("区县推荐意见"),
    "leadership_approval": _("委主任办公会审定通过"),
    "checklist": _("初审核对"),
    "panel_created": _("组建专家组"),
    "panel_deadline_extended": _("延长评分截止时间"),
    "experts_assigned": _("分配专家"),
    "expert_withdrawn": _("专家回避"),
    "inspection_signed_off": _("现场考核组长签字"),
    "objection_resolved": _("异议处理"),
    "approval_recorded": _("登记批复"),
}


@cache
def transition_labels() -> dict:
    """Each transition's own label (``custom={"label": ...}``), by name."""
    return {
        t.name: t.custom.get("label", t.name)
        for t in Application._meta.get_field("status").get_all_transitions(Application)
    }


class ApplicationEvent(ChoiceLabelsMixin, models.Model):
    """One step in an application's history: who moved it, when, from where to where, and why.

    Append-only: saving an existing row, deleting, and queryset update/delete all raise.
    """

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("操作"), max_length=40)
    from_status = models.CharField(_("原状态"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, choices=Status.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    comment = models.TextField(_("意见"), blank=True)
    section_comments = models.JSONField(_("分项意见"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    internal = models.BooleanField(_("仅工作人员可见"), default=False)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("办理记录")
        triggers = append_only("the application history")
        verbose_name_plural = _("办理记录")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["application", "created_at"])]

    def __str__(self):
        return f"{self.application_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError(_("历史记录只能追加，不能修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("历史记录只能追加，不能删除。"))

    @property
    def action_label(self) -> str:
        label = ACTION_LABELS.get(self.action) or transition_labels().get(self.action, self.action)
        return str(label)

    @property
    def labelled_section_comments(self) -> dict:
        from applications.editor import labelled_sections

        return labelled_sections(self.section_comments or {})


class SubmissionCounter(models.Model):
    """The last number handed out per year (CQ-ZZCX-2026-0007); rows are locked while numbering."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("申报编号计数")
        verbose_name_plural = _("申报编号计数")

    def __str__(self):
        return f"{self.year}: {self.last}"


def opinion_path(instance, filename):
    return random_name(f"opinions/{instance.application_id}", filename=filename)


class DistrictOpinion(models.Model):
    """The district's recommendation opinion (推荐意见) on an application of its district."""

    application = models.OneToOneField(Application, on_delete=models.CASCADE, related_name="district_opinion")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("填写人"), on_delete=models.PROTECT)
    recommend = models.BooleanField(_("同意推荐"), default=True)
    opinion = models.TextField(_("推荐意见"))
    opinion_date = models.DateField(_("意见日期"), default=timezone.localdate)
    attachment = models.FileField(_("盖章意见文件"), upload_to=opinion_path, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("区县推荐意见")
        verbose_name_plural = _("区县推荐意见")

    def __str__(self):
        return f"{self.application}: {self.opinion[:20]}"

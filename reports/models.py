"""After recognition: annual summaries (年度工作总结) and the three-year assessment (考核评估)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from accounts.choices import ChoiceLabelsMixin
from accounts.files import random_name
from accounts.triggers import append_only
from centres.models import Centre
from evaluation.models import Panel


class ReportingYear(models.Model):
    """Staff open a reporting year (the year summarised) with its due date."""

    year = models.PositiveSmallIntegerField(_("总结年度"), unique=True)
    due_date = models.DateField(_("报送截止日期"))
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    opened_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("年度总结报送")
        verbose_name_plural = _("年度总结报送")
        ordering = ["-year"]

    def __str__(self):
        return str(self.year)


def _money(label):
    return models.DecimalField(
        label, max_digits=14, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )


def _count(label):
    return models.PositiveIntegerField(label, default=0)


class AnnualSummary(ChoiceLabelsMixin, models.Model):
    """One centre's annual summary for one year: figures, narrative, attachments; draft → submitted →
    accepted, or returned with comments and resubmitted."""

    # The summary's figures, in the order an export or another system reads them (the forms group them).
    FIGURE_FIELDS = [
        "revenue_transfer",
        "revenue_incubation",
        "revenue_contract_rd",
        "revenue_testing",
        "revenue_public_service",
        "total_cost",
        "rd_expense",
        "employees",
        "rd_staff",
        "projects_national",
        "projects_municipal",
        "patents_filed",
        "patents_granted",
        "standards_led",
        "standards_joined",
        "technologies_transferred",
        "firms_incubated",
        "talents_recruited",
        "members",
        "platforms",
    ]

    class State(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("已报送")
        RETURNED = "returned", _("退回修改")
        ACCEPTED = "accepted", _("已受理")

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="summaries")
    reporting_year = models.ForeignKey(ReportingYear, on_delete=models.PROTECT, related_name="summaries")
    state = models.CharField(
        _("状态"), max_length=20, choices=State.choices, default=State.DRAFT, db_index=True
    )

    revenue_transfer = _money(_("技术转让和成果转化收入（万元）"))
    revenue_incubation = _money(_("企业孵化收入（万元）"))
    revenue_contract_rd = _money(_("委托研发收入（万元）"))
    revenue_testing = _money(_("检测检验收入（万元）"))
    revenue_public_service = _money(_("行业公共服务收入（万元）"))
    total_cost = _money(_("总成本支出（万元）"))
    rd_expense = _money(_("研发经费支出（万元）"))
    employees = _count(_("职工总数"))
    rd_staff = _count(_("研发人员数"))
    projects_national = _count(_("承担国家级项目"))
    projects_municipal = _count(_("承担市级项目"))
    patents_filed = _count(_("发明专利申请"))
    patents_granted = _count(_("发明专利授权"))
    standards_led = _count(_("主导制定标准"))
    standards_joined = _count(_("参与制定标准"))
    technologies_transferred = _count(_("转移转化技术"))
    firms_incubated = _count(_("孵化企业"))
    talents_recruited = _count(_("引进人才"))
    members = _count(_("成员单位数"))
    platforms = _count(_("创新平台数"))
    work_summary = models.TextField(_("年度工作总结"), blank=True)
    problems = models.TextField(_("存在的问题"), blank=True)
    next_year_plan = models.TextField(_("下一年度工作计划"), blank=True)

    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    first_submitted_at = models.DateTimeField(_("首次报送时间"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(_("审核意见"), blank=True)
    overdue_notified_at = models.DateTimeField(_("逾期通知时间"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("年度工作总结")
        verbose_name_plural = _("年度工作总结")
        ordering = ["-reporting_year__year", "centre__name"]
        constraints = [
            models.UniqueConstraint(fields=["centre", "reporting_year"], name="one_summary_per_centre_year"),
            models.CheckConstraint(
                condition=models.Q(rd_staff__lte=models.F("employees")),
                name="summary_rd_staff_within_employees",
                violation_error_message=_("研发人员数不能超过职工总数。"),
            ),
        ]

    def __str__(self):
        return f"{self.centre} {self.reporting_year}"

    @property
    def revenue_total(self):
        return (
            self.revenue_transfer
            + self.revenue_incubation
            + self.revenue_contract_rd
            + self.revenue_testing
            + self.revenue_public_service
        )

    @property
    def rd_expense_ratio(self):
        return (self.rd_expense * 100 / self.total_cost) if self.total_cost else None

    @property
    def is_filed(self) -> bool:
        return self.state in (self.State.SUBMITTED, self.State.ACCEPTED)

    @property
    def is_late(self) -> bool:
        """Filed after the due date (the first submission counts: a return and resubmission is not late)."""
        from django.utils import timezone

        first = self.first_submitted_at or self.submitted_at
        return (
            self.is_filed
            and first is not None
            and timezone.localtime(first).date() > self.reporting_year.due_date
        )

    @property
    def rd_staff_ratio(self):
        return (self.rd_staff * 100 / self.employees) if self.employees else None


class SummaryReminder(models.Model):
    """A reminder sent for one summary and one lead time (30, 7 or 1 days before the due date): once."""

    summary = models.ForeignKey(AnnualSummary, on_delete=models.CASCADE, related_name="reminders")
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["summary", "days_before"], name="one_reminder_per_lead_time")
        ]

    def __str__(self):
        return f"{self.summary_id} -{self.days_before}d"


def summary_attachment_path(instance, filename):
    return random_name(f"summaries/{instance.summary_id}", content_type=instance.content_type)


class SummaryAttachment(models.Model):
    summary = models.ForeignKey(AnnualSummary, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=summary_attachment_path)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("总结附件")
        verbose_name_plural = _("总结附件")

    def __str__(self):
        return self.original_name


class Assessment(ChoiceLabelsMixin, models.Model):
    """考核评估 of one centre for one three-year cycle, scored by a panel with the shared scoring engine."""

    class Grade(models.TextChoices):
        EXCELLENT = "excellent", _("优秀")
        GOOD = "good", _("良好")
        PASS = "pass", _("合格")
        FAIL = "fail", _("不合格")

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="assessments")
    cycle = models.PositiveSmallIntegerField(_("考核周期"))
    due_on = models.DateField(_("应考核日期"))
    opened_at = models.DateTimeField(auto_now_add=True)
    summaries = models.ManyToManyField(AnnualSummary, blank=True, related_name="assessments")
    panel = models.OneToOneField(
        Panel, on_delete=models.PROTECT, null=True, blank=True, related_name="assessment"
    )
    total = models.DecimalField(_("考核得分"), max_digits=6, decimal_places=2, null=True, blank=True)
    grade = models.CharField(_("考核等级"), max_length=20, choices=Grade.choices, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("终止时间"), null=True, blank=True)
    closed_reason = models.CharField(_("终止原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("考核评估")
        verbose_name_plural = _("考核评估")
        ordering = ["-due_on", "centre__name"]
        constraints = [models.UniqueConstraint(fields=["centre", "cycle"], name="one_assessment_per_cycle")]

    def __str__(self):
        round_label = _("第%(n)d轮考核") % {"n": self.cycle}
        return f"{self.centre} · {round_label}"

    @property
    def is_open(self) -> bool:
        return self.confirmed_at is None and self.closed_at is None


class ProgrammeTarget(models.Model):
    """The programme's goal shown on the dashboard (2017 plan: 10-15 municipal centres and 1-2 national by
    2020). Staff edit it by adding a row; the newest row is in force."""

    municipal_min = models.PositiveSmallIntegerField(_("市级创新中心目标下限"))
    municipal_max = models.PositiveSmallIntegerField(_("市级创新中心目标上限"))
    national = models.PositiveSmallIntegerField(_("国家级创新中心目标"))
    target_year = models.PositiveSmallIntegerField(_("目标年份"))
    note = models.CharField(_("依据"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("建设目标")
        verbose_name_plural = _("建设目标")
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.target_year}: {self.municipal_min}-{self.municipal_max} / {self.national}"


def export_path(instance, filename):
    return f"exports/{instance.owner_id}/{instance.pk}-{filename}"


class ExportJob(ChoiceLabelsMixin, models.Model):
    """An Excel export built by a Celery task, with its progress; only its owner downloads it."""

    class State(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exports")
    kind = models.CharField(_("导出内容"), max_length=40)
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(_("状态"), max_length=20, choices=State.choices, default=State.QUEUED)
    done_rows = models.PositiveIntegerField(default=0)
    total_rows = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=export_path, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} #{self.pk}"

    @property
    def percent(self) -> int:
        return (
            100
            if self.state == self.State.DONE
            else int(100 * self.done_rows / self.total_rows)
            if self.total_rows
            else 0
        )


# --- special support (专项支持) -----------------------------------------------------------------------


class SupportKind(models.TextChoices):
    CONSTRUCTION = "construction", _("建设支持")
    INNOVATION = "innovation", _("创新项目支持")


class SupportGrant(ChoiceLabelsMixin, ConcurrentTransitionMixin, models.Model):
    """One line of the support ledger: planned → granted → disbursed, each step dated and by whom. Staff
    record them (``reports.support``); the centre's lead unit sees its own; nothing of it is public."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("拟支持")
        GRANTED = "granted", _("已下达")
        DISBURSED = "disbursed", _("已拨付")

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="support_grants")
    kind = models.CharField(_("支持类型"), max_length=20, choices=SupportKind.choices)
    support_year = models.PositiveSmallIntegerField(_("支持年度（第几年）"), null=True, blank=True)
    year = models.PositiveSmallIntegerField(_("年度"), db_index=True)
    project_name = models.CharField(_("项目名称"), max_length=200)
    amount = models.DecimalField(
        _("金额（万元）"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0.01)]
    )
    document_number = models.CharField(_("资金文件文号"), max_length=100, blank=True)
    document_date = models.DateField(_("资金文件日期"), null=True, blank=True)
    status = FSMField(
        _("状态"),
        max_length=20,
        choices=Status.choices,
        default=Status.PLANNED,
        protected=True,
        db_index=True,
    )
    request = models.OneToOneField(
        "SupportRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="grant"
    )
    planned_on = models.DateField(_("拟定日期"))
    planned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    granted_on = models.DateField(_("下达日期"), null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    disbursed_on = models.DateField(_("拨付日期"), null=True, blank=True)
    disbursed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("专项支持")
        verbose_name_plural = _("专项支持")
        ordering = ["-year", "-planned_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="support_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(kind="innovation") | models.Q(support_year__gte=1),
                name="construction_support_has_support_year",
            ),
        ]
        indexes = [models.Index(fields=["centre", "-year"])]

    def __str__(self):
        return f"{self.centre} {self.year} {self.project_name}"

    @transition(
        field=status,
        source=Status.PLANNED,
        target=Status.GRANTED,
        permission="reports.manage_support",
        custom={"label": _("下达")},
    )
    def grant(self):
        pass

    @transition(
        field=status,
        source=Status.GRANTED,
        target=Status.DISBURSED,
        permission="reports.manage_support",
        custom={"label": _("拨付")},
    )
    def disburse(self):
        pass


class SupportRequest(ChoiceLabelsMixin, ConcurrentTransitionMixin, models.Model):
    """创新项目支持申请 by the centre's lead unit; staff grant it (an amount: a ledger line) or refuse it."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待审核")
        GRANTED = "granted", _("同意支持")
        REFUSED = "refused", _("不予支持")

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="support_requests")
    project_name = models.CharField(_("项目名称"), max_length=200)
    goals = models.TextField(_("项目目标"))
    budget = models.TextField(_("经费预算"))
    amount_requested = models.DecimalField(
        _("申请金额（万元）"), max_digits=12, decimal_places=2, validators=[MinValueValidator(0.01)]
    )
    status = FSMField(
        _("状态"),
        max_length=20,
        choices=Status.choices,
        default=Status.SUBMITTED,
        protected=True,
        db_index=True,
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    refusal_reason = models.TextField(_("不予支持理由"), blank=True)

    class Meta:
        verbose_name = _("创新项目支持申请")
        verbose_name_plural = _("创新项目支持申请")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_requested__gt=0), name="support_request_amount_positive"
            )
        ]

    def __str__(self):
        return f"{self.centre} {self.project_name}"

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.GRANTED,
        permission="reports.decide_support",
        custom={"label": _("同意支持")},
    )
    def approve(self):
        pass

    @transition(
        field=status,
        source=Status.SUBMITTED,
        target=Status.REFUSED,
        permission="reports.decide_support",
        custom={"label": _("不予支持")},
    )
    def refuse(self):
        pass


SUPPORT_ACTION_LABELS = {
    "planned": _("登记拟支持"),
    "grant": _("下达"),
    "disburse": _("拨付"),
    "requested": _("提交创新项目支持申请"),
    "approve": _("同意支持"),
    "refuse": _("不予支持"),
}


class SupportEvent(models.Model):
    """Append-only history of the support ledger and of the requests: who, when, from, to, why."""

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="support_events")
    grant = models.ForeignKey(
        SupportGrant, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    request = models.ForeignKey(
        SupportRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    action = models.CharField(_("事项"), max_length=40)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("专项支持记录")
        verbose_name_plural = _("专项支持记录")
        ordering = ["created_at", "pk"]
        triggers = append_only("the support history")

    def __str__(self):
        return f"{self.centre_id} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("support history is append-only")
        super().save(*args, **kwargs)

    @property
    def action_label(self) -> str:
        return str(SUPPORT_ACTION_LABELS.get(self.action, self.action))


def support_attachment_path(instance, filename):
    return random_name(f"support/{instance.centre_id}", content_type=instance.content_type)


class SupportAttachment(models.Model):
    """A file of a ledger line (funding document) or of a request (project plan), checked by content."""

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="+")
    grant = models.ForeignKey(
        SupportGrant, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    request = models.ForeignKey(
        SupportRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(upload_to=support_attachment_path)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("专项支持附件")
        verbose_name_plural = _("专项支持附件")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(grant__isnull=False) | models.Q(request__isnull=False),
                name="support_attachment_belongs_somewhere",
            )
        ]

    def __str__(self):
        return self.original_name


class OverdueDecision(models.Model):
    """Staff's decision on a centre whose annual summary is more than the policy's months overdue: withdraw
    the title or not, with a reason. One per centre and reporting year; never taken automatically."""

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="overdue_decisions")
    reporting_year = models.ForeignKey(ReportingYear, on_delete=models.PROTECT, related_name="+")
    withdraw = models.BooleanField(_("撤销称号"))
    reason = models.TextField(_("理由"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("逾期未报送处理")
        verbose_name_plural = _("逾期未报送处理")
        constraints = [
            models.UniqueConstraint(fields=["centre", "reporting_year"], name="one_overdue_decision_per_year")
        ]

    def __str__(self):
        return f"{self.centre_id} {self.reporting_year_id}"

"""After recognition: annual summaries (年度工作总结) and the three-year assessment (考核评估)."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.choices import ChoiceLabelsMixin
from accounts.files import random_name
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

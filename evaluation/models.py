from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


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
    import uuid
    from pathlib import PurePath

    suffix = PurePath(filename).suffix.lower()
    return f"leadership/{uuid.uuid4().hex}{suffix if suffix in {'.pdf', '.jpg', '.jpeg', '.png'} else ''}"


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
        verbose_name_plural = _("委主任办公会")
        ordering = ["-meeting_date", "-pk"]

    def __str__(self):
        return f"{self.title}（{self.meeting_date:%Y-%m-%d}）"


class LeadershipDecision(models.Model):
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

    class Meta:
        verbose_name = _("审定结果")
        verbose_name_plural = _("审定结果")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "application"], name="one_decision_per_meeting")
        ]

    def __str__(self):
        return f"{self.application_id}: {self.decision}"

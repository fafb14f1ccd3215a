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

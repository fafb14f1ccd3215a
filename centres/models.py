"""Recognised centres (created at award) and their public directory."""

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation
from applications.models import Application, Field


class CentreQuerySet(models.QuerySet):
    def public(self):
        """What the public directory lists: every awarded centre whose title has not been withdrawn."""
        return self.exclude(status=Centre.Status.WITHDRAWN)

    def for_list(self):
        return self.select_related("field", "lead_unit", "lead_unit__district")


class Centre(models.Model):
    class Kind(models.TextChoices):
        RECOGNISED = "recognised", _("市级制造业创新中心")
        PILOT = "pilot", _("培育试点")

    class Status(models.TextChoices):
        ACTIVE = "active", _("正常")
        EXCLUDED = "excluded", _("暂停支持")
        WITHDRAWN = "withdrawn", _("撤销称号")
        UPGRADED = "upgraded", _("已升级")

    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="centre")
    name = models.CharField(_("创新中心名称"), max_length=200)
    field = models.ForeignKey(Field, verbose_name=_("领域"), on_delete=models.PROTECT, related_name="centres")
    lead_unit = models.ForeignKey(
        Organisation, verbose_name=_("牵头单位"), on_delete=models.PROTECT, related_name="centres"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    approval_number = models.CharField(_("批复文号"), max_length=100)
    approval_date = models.DateField(_("批复日期"))
    plaque_number = models.CharField(_("牌匾编号"), max_length=50, unique=True)
    award_date = models.DateField(_("授牌日期"), db_index=True)
    support_years = models.PositiveSmallIntegerField(_("连续支持年数"))
    excluded_until = models.DateField(_("暂停支持至"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CentreQuerySet.as_manager()

    class Meta:
        verbose_name = _("创新中心")
        verbose_name_plural = _("创新中心")
        ordering = ["-award_date", "name"]
        indexes = [models.Index(fields=["field", "status"]), models.Index(fields=["kind", "-award_date"])]

    def __str__(self):
        return self.name

    @property
    def support_until(self) -> date:
        """The last day of the consecutive years of special support counted from the award date."""
        try:
            end = self.award_date.replace(year=self.award_date.year + self.support_years)
        except ValueError:  # 29 February
            end = self.award_date.replace(year=self.award_date.year + self.support_years, day=28)
        return date.fromordinal(end.toordinal() - 1)

"""Recognised centres (created at award) and their public directory."""

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.choices import ChoiceLabelsMixin
from accounts.models import Organisation
from accounts.triggers import append_only
from applications.models import Application, Field


class CentreQuerySet(models.QuerySet):
    def public(self):
        """What the public directory lists: every awarded centre whose title has not been withdrawn."""
        return self.exclude(status=Centre.Status.WITHDRAWN)

    def for_list(self):
        return self.select_related("field", "lead_unit", "lead_unit__district")


class Centre(ChoiceLabelsMixin, models.Model):
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
    excluded_until = models.DateField(_("暂停支持至"), null=True, blank=True, db_index=True)
    is_national = models.BooleanField(_("国家级制造业创新中心"), default=False)
    withdrawn_on = models.DateField(_("撤销称号日期"), null=True, blank=True)
    withdrawal_reason = models.TextField(_("撤销理由"), blank=True)
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

    def support_year(self, today: date) -> int | None:
        """Which year of the consecutive special support ``today`` falls in (1..support_years), else None.

        None as well while the centre is excluded (暂停支持) or after its title was withdrawn: it is in no
        support year then, whatever the calendar says.
        """
        if self.status == self.Status.WITHDRAWN or self.is_excluded(today):
            return None
        if today < self.award_date or today > self.support_until:
            return None
        years = (
            today.year
            - self.award_date.year
            - ((today.month, today.day) < (self.award_date.month, self.award_date.day))
        )
        return years + 1

    def is_excluded(self, today: date) -> bool:
        return self.excluded_until is not None and today < self.excluded_until

    def support_state(self, today: date) -> dict:
        """What the pages say about support on ``today``: ``{"code", "year", "until"}`` where code is
        "withdrawn", "excluded" (until the end of the exclusion), "year" (support year N), or "none"."""
        if self.status == self.Status.WITHDRAWN:
            return {"code": "withdrawn", "year": None, "until": None}
        if self.is_excluded(today):
            return {"code": "excluded", "year": None, "until": self.excluded_until}
        year = self.support_year(today)
        return {"code": "year" if year else "none", "year": year, "until": None}

    @property
    def support_until(self) -> date:
        """The last day of the consecutive years of special support counted from the award date."""
        try:
            end = self.award_date.replace(year=self.award_date.year + self.support_years)
        except ValueError:  # 29 February
            end = self.award_date.replace(year=self.award_date.year + self.support_years, day=28)
        return date.fromordinal(end.toordinal() - 1)


CENTRE_ACTION_LABELS = {
    "excluded": _("暂停支持"),
    "exclusion_ended": _("暂停支持期满"),
    "title_withdrawn": _("撤销称号"),
    "assessment": _("考核评估"),
    "nomination": _("推荐升级"),
    "nomination_outcome": _("推荐结果"),
    "overdue_kept": _("逾期未报送总结：决定不撤销称号"),
}


class CentreEvent(ChoiceLabelsMixin, models.Model):
    """The centre's history after award: status changes, exclusion, title withdrawal, nominations."""

    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("事项"), max_length=40)
    comment = models.TextField(_("说明"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("创新中心记录")
        triggers = append_only("the centre history")
        verbose_name_plural = _("创新中心记录")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.centre_id} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("centre history is append-only")
        super().save(*args, **kwargs)

    @property
    def action_label(self) -> str:
        return str(CENTRE_ACTION_LABELS.get(self.action, self.action))


class Nomination(ChoiceLabelsMixin, models.Model):
    """升级: a district-level centre recommended to municipal level, or a municipal centre nominated for the
    national level (争创国家级), with its outcome."""

    class Kind(models.TextChoices):
        TO_MUNICIPAL = "to_municipal", _("区县级推荐为市级")
        TO_NATIONAL = "to_national", _("争创国家级")

    class Outcome(models.TextChoices):
        PENDING = "pending", _("已报送，待定")
        SUCCEEDED = "succeeded", _("已获批")
        FAILED = "failed", _("未获批")

    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    centre = models.ForeignKey(
        Centre,
        verbose_name=_("市级创新中心"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="nominations",
    )
    name = models.CharField(_("创新中心名称"), max_length=200)
    district = models.ForeignKey(
        "accounts.District",
        verbose_name=_("推荐区县"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    nominated_on = models.DateField(_("推荐日期"))
    outcome = models.CharField(_("结果"), max_length=20, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_date = models.DateField(_("结果日期"), null=True, blank=True)
    outcome_document = models.CharField(_("结果文件（文号）"), max_length=200, blank=True)
    note = models.TextField(_("说明"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("推荐升级")
        verbose_name_plural = _("推荐升级")
        ordering = ["-nominated_on", "-pk"]
        constraints = [
            # One nomination of a kind at a time: its outcome is recorded on it, never as a second entry.
            models.UniqueConstraint(
                fields=["centre", "kind"],
                condition=models.Q(outcome="pending", centre__isnull=False),
                name="one_pending_nomination_per_centre_and_kind",
            )
        ]

    def __str__(self):
        return f"{self.name}（{self.get_kind_display()}）"


class DistrictCentreQuerySet(models.QuerySet):
    def for_list(self):
        return self.select_related("district", "field", "lead_unit", "application")


class DistrictCentre(ChoiceLabelsMixin, models.Model):
    """区县级制造业创新中心: the register each district's staff keep. A district may recommend one of its
    centres to apply at municipal level; the lead unit's municipal application is then linked to it."""

    class Status(models.TextChoices):
        REGISTERED = "registered", _("区县级")
        RECOMMENDED = "recommended", _("已推荐申报市级")
        UPGRADED = "upgraded", _("已认定为市级")

    district = models.ForeignKey(
        "accounts.District", verbose_name=_("区县"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("创新中心名称"), max_length=200)
    field = models.ForeignKey(
        Field, verbose_name=_("领域"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    lead_unit = models.ForeignKey(
        Organisation, verbose_name=_("牵头单位"), on_delete=models.PROTECT, related_name="district_centres"
    )
    recognised_on = models.DateField(_("区县认定日期"))
    document_number = models.CharField(_("区县认定文号"), max_length=100)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.REGISTERED, db_index=True
    )
    recommended_on = models.DateField(_("推荐日期"), null=True, blank=True)
    recommendation = models.TextField(_("推荐意见"), blank=True)
    recommended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    application = models.OneToOneField(
        Application,
        verbose_name=_("市级申报"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="district_centre",
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DistrictCentreQuerySet.as_manager()

    class Meta:
        verbose_name = _("区县级创新中心")
        verbose_name_plural = _("区县级创新中心")
        ordering = ["district__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="one_district_centre_name_per_district")
        ]

    def __str__(self):
        return self.name

"""Accounts of other systems and their API tokens (stored hashed; the key is shown once, at issue)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SystemAccount(models.Model):
    """Another system that reads the portal's records (the commission's office system, the municipal data
    sharing platform ...). Not a person: it holds tokens, never a password."""

    name = models.CharField(_("系统名称"), max_length=100, unique=True)
    operator = models.CharField(_("运维单位"), max_length=200, blank=True)
    contact = models.CharField(_("联系人"), max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("接入系统")
        verbose_name_plural = _("接入系统")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Scope(models.TextChoices):
    APPLICATIONS = "applications:read", _("读取申报的阶段和关键指标")
    CENTRES = "centres:read", _("读取创新中心、年度总结和考核评估")


class ApiToken(models.Model):
    account = models.ForeignKey(
        SystemAccount, verbose_name=_("接入系统"), on_delete=models.PROTECT, related_name="tokens"
    )
    label = models.CharField(_("用途"), max_length=100, blank=True)
    prefix = models.CharField(_("令牌前缀"), max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("权限范围"), default=list)
    expires_at = models.DateTimeField(_("有效期至"))
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API令牌")
        verbose_name_plural = _("API令牌")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.account} · {self.prefix}"

    def state(self, moment) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= moment else "active"

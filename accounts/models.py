from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from accounts.choices import ChoiceLabelsMixin
from accounts.fields import EncryptedCharField
from accounts.files import random_name
from accounts.roles import ROLE_PRIORITY, Role
from accounts.triggers import audit_log_protection
from accounts.validators import validate_credit_code

phone_validator = RegexValidator(
    r"^[0-9+\-() ]{7,20}$", _("请输入有效的电话号码（数字，可含区号和分机号）。"), code="phone"
)


def default_channels() -> list[str]:
    """New accounts are told in the portal and by e-mail; SMS only once the person consents."""
    return ["email"]


class District(models.Model):
    """A district or county of Chongqing, or one of the functional zones treated like one."""

    class Kind(models.TextChoices):
        DISTRICT = "district", _("区")
        COUNTY = "county", _("县")
        AUTONOMOUS_COUNTY = "autonomous_county", _("自治县")
        ZONE = "zone", _("功能区")

    code = models.CharField(_("代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=40, unique=True)
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("区县")
        verbose_name_plural = _("区县")
        ordering = ["sort_order", "code"]

    def __str__(self):
        return self.name


def licence_path(instance, filename):
    return random_name("licences", content_type=instance.licence_type, filename=filename)


class Organisation(ChoiceLabelsMixin, models.Model):
    """A legal person: a lead unit, a member unit, an expert's employer.

    One that registers itself (``accounts.registration``) confirms its e-mail, then waits for its district
    (or the commission, without a district) to verify it: ``verification``. Its people may write drafts
    meanwhile; submitting is refused until it is verified (``applications.services.check_allowed``)."""

    class Verification(models.TextChoices):
        UNCONFIRMED = "unconfirmed", _("待确认邮箱")
        PENDING = "pending", _("待审核")
        VERIFIED = "verified", _("已审核")
        REJECTED = "rejected", _("审核未通过")
        LISTED = "listed", _("仅登记（未注册）")  # named as an expert's employer; nobody registered it

    # What a verifier checked: changing one of these after verification sends it back to verification.
    VERIFIED_FIELDS = ("name", "legal_representative", "licence")

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", _("企业")
        RESEARCH_INSTITUTE = "research_institute", _("科研院所")
        UNIVERSITY = "university", _("高等院校")
        OTHER = "other", _("其他")

    name = models.CharField(_("单位名称"), max_length=200)
    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    kind = models.CharField(_("单位类型"), max_length=30, choices=Kind.choices, default=Kind.ENTERPRISE)
    district = models.ForeignKey(
        District,
        verbose_name=_("所在区县"),
        on_delete=models.PROTECT,
        related_name="organisations",
        null=True,
        blank=True,
        help_text=_("不属于任何区县的单位（如市属单位）留空，由市经济信息委审核。"),
    )
    address = models.CharField(_("地址"), max_length=300)
    legal_representative = models.CharField(_("法定代表人"), max_length=60)
    contact_name = models.CharField(_("联系人"), max_length=60)
    contact_phone = EncryptedCharField(_("联系电话"), max_length=20, validators=[phone_validator])
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    verification = models.CharField(
        _("审核状态"),
        max_length=20,
        choices=Verification.choices,
        default=Verification.VERIFIED,
        db_index=True,
    )
    licence = models.FileField(_("营业执照"), upload_to=licence_path, blank=True, max_length=200)
    licence_name = models.CharField(_("营业执照文件名"), max_length=200, blank=True)
    licence_type = models.CharField(max_length=50, blank=True, editable=False)
    verification_note = models.TextField(_("审核意见"), blank=True)
    waiting_since = models.DateTimeField(_("提交审核时间"), null=True, blank=True, editable=False)
    verified_at = models.DateTimeField(_("审核时间"), null=True, blank=True, editable=False)
    verified_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["verification", "district", "waiting_since"], name="organisation_queue"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_verified(self) -> bool:
        return self.verification == self.Verification.VERIFIED


class OrganisationEvent(ChoiceLabelsMixin, models.Model):
    """The history of an organisation's registration: submitted, confirmed, verified or rejected (why),
    changed (old and new values). Kept as long as the organisation."""

    class Action(models.TextChoices):
        REGISTERED = "registered", _("提交注册")
        CONFIRMED = "confirmed", _("确认邮箱")
        VERIFIED = "verified", _("审核通过")
        REJECTED = "rejected", _("审核未通过")
        RESUBMITTED = "resubmitted", _("修改后重新提交审核")
        CHANGED = "changed", _("变更信息")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("事项"), max_length=20, choices=Action.choices)
    actor = models.ForeignKey(
        "accounts.User",
        verbose_name=_("办理人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changes = models.JSONField(_("变更内容"), default=dict, blank=True)  # {field label: [old, new]}
    comment = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("单位注册记录")
        verbose_name_plural = _("单位注册记录")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.organisation} {self.get_action_display()}"


class User(AbstractUser):
    """A person with an account. Roles are groups (see ``accounts.roles``)."""

    full_name = models.CharField(_("姓名"), max_length=60, blank=True)
    phone = EncryptedCharField(_("手机号码"), max_length=20, blank=True, validators=[phone_validator])
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("所属单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("牵头单位用户必填：该账号代表的单位。"),
    )
    is_organisation_admin = models.BooleanField(
        _("单位管理员"), default=False, help_text=_("邀请和停用本单位同事，可将该角色移交给同事。")
    )
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True, editable=False)
    language = models.CharField(
        _("通知语言"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    district = models.ForeignKey(
        District,
        verbose_name=_("所属区县"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text=_("区县经信委工作人员必填：其负责的区县。"),
    )
    notification_channels = ArrayField(
        models.CharField(max_length=20), verbose_name=_("通知渠道"), default=default_channels, blank=True
    )
    sms_consent_at = models.DateTimeField(_("同意接收短信时间"), null=True, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        swappable = "AUTH_USER_MODEL"

    def __str__(self):
        return self.full_name or self.username

    def set_password(self, raw_password):
        super().set_password(raw_password)
        from django.utils import timezone

        self.password_changed_at = timezone.now()
        self._password_set = True  # the audit log records who set it for whom once it is saved

    def get_full_name(self):
        return self.full_name or super().get_full_name() or self.username

    @cached_property
    def role_codes(self) -> frozenset[str]:
        """The role codes this account holds (one query, then cached for the request)."""
        if not self.is_authenticated or not self.pk:
            return frozenset()
        if hasattr(self, "loaded_role_codes"):  # read with the user (accounts.backends)
            return frozenset(self.loaded_role_codes)
        return frozenset(self.groups.filter(name__in=Role.values).values_list("name", flat=True))

    def has_role(self, role: str) -> bool:
        return role in self.role_codes

    @property
    def primary_role(self) -> Role | None:
        for role in ROLE_PRIORITY:
            if role in self.role_codes:
                return Role(role)
        return None


class Notification(ChoiceLabelsMixin, models.Model):
    """Something that happened, told to one person: the in-portal entry, and the event its deliveries carry.

    Written in the same transaction as the step it reports (the outbox), with one ``Delivery`` per channel the
    person receives it by (``accounts.channels``); the deliveries are queued after commit and a beat task
    retries what is still pending, so an outage of Redis, the mail server or the SMS provider delays a
    message but never loses it, and a rolled-back step sends nothing.
    """

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类别"), max_length=60, blank=True)  # the template's name: what happened
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    link = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "-created_at"])]

    def __str__(self):
        return self.subject


class Delivery(ChoiceLabelsMixin, models.Model):
    """One notification sent by one channel (e-mail, SMS): its attempts, back-off, last error and sent time.

    ``payload`` keeps what the channel needs that was known only when the event happened (the SMS template
    code, its parameters and text); the address is read from the person when it is sent.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        SKIPPED = "skipped", _("未发送")  # nothing to send to (no address, no consent, the daily cap)

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=20)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    payload = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    provider_reference = models.CharField(_("服务商流水号"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("通知发送")
        verbose_name_plural = _("通知发送")
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_one_per_channel")
        ]
        indexes = [
            models.Index(
                fields=["created_at"], condition=models.Q(status="pending"), name="delivery_pending"
            ),
            models.Index(fields=["channel", "sent_at"], name="delivery_sent"),
        ]

    def __str__(self):
        return f"{self.channel}: {self.notification_id}"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("audit records cannot be changed")

    def delete(self):
        raise PermissionError("audit records cannot be deleted; use purge_before() for the retention cleanup")

    def purge_before(self, moment):
        """The retention cleanup: delete records older than ``moment`` (the database refuses younger ones)."""
        return models.QuerySet.delete(self.filter(created_at__lt=moment))


class AuditEvent(models.Model):
    """审计日志: who did what, when, from where, with what result. Append-only: the model, the queryset
    and (on PostgreSQL) a trigger refuse changes; deleting is refused for records younger than the
    retention period."""

    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    # PROTECT: a person with audit records is deactivated, never deleted (the records cannot change).
    actor = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    username = models.CharField(_("账号"), max_length=150, blank=True, db_index=True)
    action = models.CharField(_("事项"), max_length=60, db_index=True)
    target = models.CharField(_("对象"), max_length=200, blank=True)
    detail = models.TextField(_("内容"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    success = models.BooleanField(_("结果"), default=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计日志")
        triggers = audit_log_protection(180)
        verbose_name_plural = _("审计日志")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["action", "-created_at"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.username} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("audit records cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("audit records cannot be deleted")


class BackupRun(models.Model):
    """One run of the scheduled (or manual) backup: where it went, how big, its checksums, how long, whether
    it succeeded. Shown to the system administrator in the admin and on their home page."""

    started_at = models.DateTimeField(_("开始时间"), db_index=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    duration_seconds = models.FloatField(_("耗时（秒）"), null=True, blank=True)
    success = models.BooleanField(_("成功"), default=False)
    folder = models.CharField(_("备份目录"), max_length=500, blank=True)
    size_bytes = models.BigIntegerField(_("大小（字节）"), null=True, blank=True)
    sha256 = models.CharField(_("校验和（SHA256SUMS）"), max_length=64, blank=True)
    error = models.TextField(_("失败原因"), blank=True)
    removed = models.TextField(_("按保留规则删除的旧备份"), blank=True)

    class Meta:
        verbose_name = _("备份记录")
        verbose_name_plural = _("备份记录")
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.folder}"

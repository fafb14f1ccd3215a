from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import credentials
from accounts.forms import CreditCodeField
from accounts.models import AuditEvent, BackupRun, Delivery, District, Organisation, User
from accounts.roles import Role


class PortalUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User

    def clean(self):
        cleaned = super().clean()
        roles = {group.name for group in cleaned.get("groups") or []}
        if Role.LEAD_UNIT in roles and not cleaned.get("organisation"):
            self.add_error("organisation", _("牵头单位用户必须关联一个单位。"))
        if Role.DISTRICT_STAFF in roles and not cleaned.get("district"):
            self.add_error("district", _("区县经信委工作人员必须关联一个区县。"))
        return cleaned


class PortalUserCreationForm(forms.ModelForm):
    """A new account without a password: its owner sets one through the activation link sent by e-mail."""

    class Meta:
        model = User
        fields = ("username", "full_name", "email", "phone")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = _("激活链接发送到此邮箱，账号本人在链接中自行设置密码。")

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_unusable_password()
        if commit:
            user.save()
        return user


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = PortalUserChangeForm
    add_form = PortalUserCreationForm
    add_form_template = "admin/accounts/user/add_form.html"
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "full_name", "email", "phone")}),)
    actions = ("send_password_link",)
    list_display = ("username", "full_name", "organisation", "district", "is_active", "last_login")
    list_filter = ("groups", "is_active", "district")
    list_select_related = ("organisation", "district")
    search_fields = ("username", "full_name", "email", "organisation__name")
    autocomplete_fields = ("organisation",)
    # No password field: nobody types another person's password (links only, see accounts.credentials).
    fieldsets = (
        (None, {"fields": ("username",)}),
        (_("个人信息"), {"fields": ("full_name", "email", "phone")}),
        (_("角色与归属"), {"fields": ("groups", "organisation", "district")}),
        (_("状态"), {"fields": ("is_active", "is_staff", "is_superuser", "last_login", "date_joined")}),
    )
    readonly_fields = ("last_login", "date_joined")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        # Only a superuser (created from the command line at installation) may hand out admin flags.
        return [
            (
                name,
                {**opts, "fields": tuple(f for f in opts["fields"] if f not in ("is_superuser", "is_staff"))},
            )
            for name, opts in fieldsets
        ]

    ADMIN_ROLES = (Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and not request.user.is_superuser:
            # 三员: the administrator duties are handed out at installation (by a superuser), never by one
            # administrator to another account or to themselves.
            field.queryset = field.queryset.exclude(name__in=self.ADMIN_ROLES)
        return field

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk and not request.user.is_superuser:
            fields.append("groups")  # nobody changes their own roles
        if obj is not None and not request.user.is_superuser and set(obj.role_codes) & set(self.ADMIN_ROLES):
            fields.append("groups")  # nor those of an administrator
        if obj is not None and not credentials.may_manage_credentials(request.user, obj):
            fields += ["email", "is_active"]  # an administrator's: the superuser's alone (三员)
        return fields

    def user_change_password(self, request, id, form_url=""):
        # Nobody sets another person's password by typing it, superusers included: the owner sets it
        # through a one-time link (the "send password link" action).
        raise PermissionDenied

    def save_model(self, request, obj, form, change):
        old_email = form.initial.get("email", "") if change else ""
        super().save_model(request, obj, form, change)
        if change and "email" in form.changed_data and obj.pk != request.user.pk:
            # Password links go to this address: the old one is told, and the security administrator sees it.
            credentials.email_changed(obj, old_email, actor=request.user, request=request)
        if not change:
            sent = credentials.send_password_link(
                obj, actor=request.user, request=request, purpose="activate"
            )
            if sent:
                messages.success(request, _("激活链接已发送到 %(email)s。") % {"email": obj.email})
            else:
                messages.warning(request, _("激活邮件未能发出，请稍后用“发送设置密码链接”重发。"))

    @admin.action(description=_("发送设置密码链接（账号本人自行设置密码）"), permissions=["change"])
    def send_password_link(self, request, queryset):
        from django.shortcuts import redirect
        from django.urls import reverse
        from django.utils.http import urlencode

        from accounts.security import recently_authenticated

        if not recently_authenticated(request):
            return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': request.get_full_path()})}")
        sent, refused = 0, []
        for user in queryset:
            if not credentials.may_manage_credentials(request.user, user):
                refused.append(user.get_username())
                continue
            purpose = "activate" if user.last_login is None and not user.has_usable_password() else "reset"
            sent += credentials.send_password_link(user, actor=request.user, request=request, purpose=purpose)
        if sent:
            messages.success(
                request,
                ngettext("已发送%(n)d封设置密码邮件。", "已发送%(n)d封设置密码邮件。", sent) % {"n": sent},
            )
        if refused:
            messages.error(
                request,
                _("管理员账号只能由超级管理员重设，未发送：%(names)s") % {"names": "、".join(refused)},
            )
        return None

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        from django.shortcuts import redirect
        from django.urls import reverse
        from django.utils.http import urlencode

        from accounts.security import recently_authenticated

        if request.method == "POST" and not recently_authenticated(request):
            # Changing accounts and roles needs the password again (re-authentication).
            return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': request.get_full_path()})}")
        return super().changeform_view(request, object_id, form_url, extra_context)


class OrganisationAdminForm(forms.ModelForm):
    credit_code = CreditCodeField()

    class Meta:
        model = Organisation
        fields = "__all__"  # noqa: DJ007 - staff edit every field of an organisation here


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    form = OrganisationAdminForm
    list_display = (
        "name",
        "credit_code",
        "kind",
        "district",
        "verification",
        "contact_name",
        "contact_phone",
    )
    list_filter = ("verification", "kind", "district")
    list_select_related = ("district",)
    search_fields = ("name", "credit_code")
    # Verification is the district's (or the commission's) step on its own page (applications.registration).
    readonly_fields = ("verification", "verification_note", "licence", "licence_name")


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "kind", "sort_order")
    list_filter = ("kind",)
    search_fields = ("name", "code")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read only for the audit administrator; nobody, superusers included, changes or deletes a record."""

    list_display = ("created_at", "username", "action", "target", "ip_address", "success")
    list_filter = ("success", "action")
    search_fields = ("username", "action", "target", "detail")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BackupRun)
class BackupRunAdmin(admin.ModelAdmin):
    """The record of every scheduled backup, for the system administrator; nobody edits it."""

    list_display = ("started_at", "success", "size_bytes", "duration_seconds", "folder", "sha256")
    list_filter = ("success",)
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in BackupRun._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class PortalTOTPDeviceAdmin(TOTPDeviceAdmin):
    """Second factors: the security administrator resets them on the security page (business accounts);
    here, only a superuser (an administrator's second factor is the superuser's alone)."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


def _admin_login(request, extra_context=None):
    """One sign-in page for everyone: the admin's own would bypass the CAPTCHA (accounts.forms.SignInForm)."""
    from django.contrib.auth.views import redirect_to_login
    from django.urls import reverse

    if request.user.is_authenticated:
        raise PermissionDenied  # signed in without the admin site's permission
    return redirect_to_login(
        request.GET.get("next") or reverse("admin:index"), login_url=reverse("accounts:login")
    )


admin.site.login = _admin_login


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """Each notification's deliveries by e-mail and SMS, for the system administrator: what is still pending,
    its attempts and last error, what was not sent and why. Read only; the retry sweep does the sending."""

    list_display = [
        "created_at",
        "channel",
        "status",
        "recipient",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ("channel", "status")
    list_select_related = ("notification__recipient",)
    date_hierarchy = "created_at"
    exclude = ("notification",)
    readonly_fields = ["recipient", "subject"] + [
        f.name for f in Delivery._meta.fields if f.name != "notification"
    ]

    @admin.display(description=_("收件人"))
    def recipient(self, obj):
        return obj.notification.recipient

    @admin.display(description=_("标题"))
    def subject(self, obj):
        return obj.notification.subject

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

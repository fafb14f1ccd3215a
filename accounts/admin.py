from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _

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


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = PortalUserChangeForm
    list_display = ("username", "full_name", "organisation", "district", "is_active", "last_login")
    list_filter = ("groups", "is_active", "district")
    list_select_related = ("organisation", "district")
    search_fields = ("username", "full_name", "email", "organisation__name")
    autocomplete_fields = ("organisation",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
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
        return fields

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
    list_display = ("name", "credit_code", "kind", "district", "contact_name", "contact_phone")
    list_filter = ("kind", "district")
    list_select_related = ("district",)
    search_fields = ("name", "credit_code")


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

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.forms import CreditCodeField
from accounts.models import District, Organisation, User
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

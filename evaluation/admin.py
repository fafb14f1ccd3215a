from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from accounts.http import client_ip
from evaluation import verification
from evaluation.models import CalendarDay, CalendarYear, VerificationCode


class EnteredByAdmin(admin.ModelAdmin):
    """Records the signed-in staff member as ``entered_by`` whenever a row is saved."""

    readonly_fields = ("entered_by", "created_at")
    list_select_related = ("entered_by",)

    def save_model(self, request, obj, form, change):
        obj.entered_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(CalendarYear)
class CalendarYearAdmin(EnteredByAdmin):
    list_display = ("year", "notice", "entered_by", "created_at")
    ordering = ("-year",)
    search_fields = ("=year", "notice")
    fields = ("year", "notice", "entered_by", "created_at")


@admin.register(CalendarDay)
class CalendarDayAdmin(EnteredByAdmin):
    list_display = ("date", "kind", "name", "entered_by", "created_at")
    list_filter = ("kind",)
    ordering = ("date",)
    search_fields = ("name",)
    date_hierarchy = "date"
    fields = ("date", "kind", "name", "entered_by", "created_at")


class RevokeForm(forms.Form):
    reason = forms.CharField(label=_("吊销理由"), max_length=200)


@admin.register(VerificationCode)
class VerificationCodeAdmin(admin.ModelAdmin):
    """Staff revoke the code of a document reissued, lost or forged (the next print gets a new one)."""

    list_display = ("application", "kind", "created_at", "revoked_at", "revoke_reason")
    list_filter = ("kind",)
    search_fields = ("application__number", "application__centre_name")
    readonly_fields = ("application", "kind", "created_at", "revoked_at", "revoked_by", "revoke_reason")
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # codes are made when a document is printed

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("吊销所选核验码（扫码将显示“未找到”）"))
    def revoke(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            form = RevokeForm()
            return TemplateResponse(
                request,
                "admin/evaluation/revoke_codes.html",
                {
                    **self.admin_site.each_context(request),
                    "codes": queryset,
                    "form": form,
                    "title": _("吊销核验码"),
                    "opts": self.model._meta,
                },
            )
        count = 0
        for code in queryset.filter(revoked_at__isnull=True):
            verification.revoke(code, by=request.user, reason=reason, ip=client_ip(request))
            count += 1
        self.message_user(request, _("已吊销%(n)s个核验码。") % {"n": count}, messages.SUCCESS)
        return None

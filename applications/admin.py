from django.contrib import admin
from django.forms.models import model_to_dict
from django.utils.translation import gettext_lazy as _

from applications.models import (
    Application,
    ApplicationEvent,
    ApplicationVersion,
    Attachment,
    CommitteeMember,
    DistrictOpinion,
    ExpectedOutcome,
    Field,
    MemberUnit,
    Policy,
)


@admin.register(Policy)
class PolicyAdmin(admin.ModelAdmin):
    """Versions are never changed: "add" starts from the version in force and saves a new one."""

    list_display = (
        "version",
        "effective_from",
        "min_total_investment",
        "min_rd_staff_ratio",
        "publicity_working_days",
        "note",
    )
    readonly_fields = ("version", "created_by", "created_at")

    def get_changeform_initial_data(self, request):
        current = Policy.current()
        if current is None:
            return super().get_changeform_initial_data(request)
        initial = model_to_dict(current, exclude=["id", "version", "created_by", "effective_from", "note"])
        return {**initial, **super().get_changeform_initial_data(request)}

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Field)
class FieldAdmin(admin.ModelAdmin):
    list_display = ("name", "is_active", "sort_order")
    list_editable = ("is_active", "sort_order")
    search_fields = ("name",)


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OutcomeInline(ReadOnlyInline):
    model = ExpectedOutcome


class CommitteeInline(ReadOnlyInline):
    model = CommitteeMember


class MemberInline(ReadOnlyInline):
    model = MemberUnit


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fields = ("kind", "original_name", "content_type", "size", "uploaded_at")
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = ApplicationEvent
    fields = ("created_at", "action", "from_status", "to_status", "actor", "comment", "ip_address")
    readonly_fields = fields


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    """Staff read applications here; every change of state goes through the portal's workflow pages."""

    list_display = ("number", "centre_name", "lead_unit", "field", "district", "status", "updated_at")
    list_filter = ("status", "field", "district", "year")
    list_select_related = ("lead_unit", "field", "district")
    search_fields = ("number", "centre_name", "lead_unit__name", "lead_unit__credit_code")
    inlines = [OutcomeInline, CommitteeInline, MemberInline, AttachmentInline, EventInline]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Application._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApplicationEvent)
class ApplicationEventAdmin(admin.ModelAdmin):
    """The history is append-only: readable here, never changed or deleted."""

    list_display = ("created_at", "application", "action", "from_status", "to_status", "actor", "ip_address")
    list_filter = ("action", "to_status")
    list_select_related = ("application", "actor")
    search_fields = ("application__number", "application__centre_name", "comment")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApplicationVersion)
class ApplicationVersionAdmin(ApplicationEventAdmin):
    list_display = ("application", "revision", "submitted_at", "submitted_by")
    list_filter = ()
    list_select_related = ("application", "submitted_by")
    search_fields = ("application__number",)


@admin.register(DistrictOpinion)
class DistrictOpinionAdmin(admin.ModelAdmin):
    list_display = ("application", "recommend", "opinion_date", "author")
    list_select_related = ("application", "author")
    readonly_fields = ("application", "author")

    def has_add_permission(self, request):
        return False


admin.site.empty_value_display = _("—")

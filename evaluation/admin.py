from django.contrib import admin

from evaluation.models import CalendarDay, CalendarYear


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

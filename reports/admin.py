from django.contrib import admin

from reports.models import ProgrammeTarget


@admin.register(ProgrammeTarget)
class ProgrammeTargetAdmin(admin.ModelAdmin):
    """Staff change the programme's goal by adding a row; the newest is in force (history kept)."""

    list_display = ("target_year", "municipal_min", "municipal_max", "national", "note", "created_at")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

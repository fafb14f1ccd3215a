from django.contrib import admin

from centres.models import Centre


@admin.register(Centre)
class CentreAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "status", "field", "lead_unit", "award_date", "plaque_number")
    list_filter = ("kind", "status", "field")
    list_select_related = ("field", "lead_unit")
    search_fields = ("name", "lead_unit__name", "plaque_number")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Centre._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

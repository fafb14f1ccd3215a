from django import forms
from django.contrib import admin
from django.utils import timezone

from applications.services import ActionRefused
from centres.models import Centre, Nomination
from centres.services import check_nominable


class NominationAdminForm(forms.ModelForm):
    """A new nomination of a centre obeys the service's rule (centres.services.check_nominable)."""

    class Meta:
        model = Nomination
        fields = [
            "kind",
            "centre",
            "name",
            "district",
            "nominated_on",
            "outcome",
            "outcome_date",
            "outcome_document",
            "note",
        ]

    def clean(self):
        cleaned = super().clean()
        centre = cleaned.get("centre")
        if centre is not None and self.instance.pk is None:
            try:
                check_nominable(centre, timezone.localdate())
            except ActionRefused as error:
                raise forms.ValidationError(error.message) from None
        return cleaned


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


@admin.register(Nomination)
class NominationAdmin(admin.ModelAdmin):
    """District-level centres recommended to municipal level (no centre record here) and municipal centres
    nominated for the national level; the centre page records the latter too."""

    form = NominationAdminForm
    list_display = ("name", "kind", "district", "nominated_on", "outcome", "outcome_date", "outcome_document")
    list_filter = ("kind", "outcome")
    search_fields = ("name",)
    autocomplete_fields = ("centre",)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)
        if (
            obj.centre_id
            and obj.kind == Nomination.Kind.TO_NATIONAL
            and obj.outcome == Nomination.Outcome.SUCCEEDED
        ):
            Centre.objects.filter(pk=obj.centre_id).update(is_national=True)

    def get_exclude(self, request, obj=None):
        return ("recorded_by",)

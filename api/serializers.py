"""What the API shows. Never a person's data: no objector, no expert, no contact of a lead unit."""

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from applications.models import Application, Outcome
from centres.models import Centre
from evaluation.models import Announcement, AnnouncementEntry
from reports.models import AnnualSummary, Assessment


class EntrySerializer(serializers.ModelSerializer):
    centre_name = serializers.CharField(source="application.centre_name")
    lead_unit = serializers.CharField(source="application.lead_unit.name")
    field = serializers.CharField(source="application.field.name", allow_null=True, default=None)

    class Meta:
        model = AnnouncementEntry
        fields = ["order", "centre_name", "lead_unit", "field"]


class AnnouncementSerializer(serializers.ModelSerializer):
    list_type_label = serializers.CharField(source="get_list_type_display")
    is_open = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    entries = EntrySerializer(many=True)

    class Meta:
        model = Announcement
        fields = [
            "id",
            "title",
            "list_type",
            "list_type_label",
            "starts_at",
            "ends_at",
            "working_days",
            "is_open",
            "contact_person",
            "contact_phone",
            "contact_address",
            "supervision_phone",
            "url",
            "entries",
        ]

    def get_is_open(self, announcement) -> bool:
        return announcement.is_open(timezone.now())

    def get_url(self, announcement) -> str:
        return reverse("announcements:detail", args=[announcement.pk])


class CentreSerializer(serializers.ModelSerializer):
    field = serializers.CharField(source="field.name")
    lead_unit = serializers.CharField(source="lead_unit.name")
    kind_label = serializers.CharField(source="get_kind_display")
    status_label = serializers.CharField(source="get_status_display")
    national = serializers.BooleanField(source="is_national")
    excluded_until = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Centre
        fields = [
            "id",
            "name",
            "field",
            "kind",
            "kind_label",
            "lead_unit",
            "approval_number",
            "approval_date",
            "plaque_number",
            "award_date",
            "status",
            "status_label",
            "excluded_until",
            "withdrawn_on",
            "national",
            "url",
        ]

    @extend_schema_field(
        serializers.DateField(allow_null=True, help_text="仍在暂停支持期内时为暂停支持的截止日期，否则为空")
    )
    def get_excluded_until(self, centre):
        return centre.excluded_until if centre.is_excluded(timezone.localdate()) else None

    def get_url(self, centre) -> str:
        return reverse("centres:detail", args=[centre.pk])


class ApplicationSerializer(serializers.ModelSerializer):
    field = serializers.CharField(source="field.name", allow_null=True, default=None)
    lead_unit = serializers.CharField(source="lead_unit.name")
    district = serializers.CharField(source="district.name", allow_null=True, default=None)
    status_label = serializers.CharField(source="get_status_display")
    outcome = serializers.ChoiceField(choices=Outcome.choices, allow_blank=True, read_only=True)
    total_investment = serializers.DecimalField(
        max_digits=14, decimal_places=2, allow_null=True, read_only=True
    )
    eligible = serializers.SerializerMethodField()

    class Meta:
        model = Application
        fields = [
            "number",
            "centre_name",
            "field",
            "lead_unit",
            "district",
            "year",
            "status",
            "status_label",
            "stage_entered_at",
            "submitted_at",
            "outcome",
            "total_investment",
            "employees",
            "rd_staff",
            "total_cost",
            "rd_expense",
            "eligible",
        ]

    @extend_schema_field(
        serializers.BooleanField(allow_null=True, help_text="最近一次提交时是否符合全部基本条件")
    )
    def get_eligible(self, application):
        return (application.eligibility or {}).get("passed")


SUMMARY_FIGURES = AnnualSummary.FIGURE_FIELDS


class SummarySerializer(serializers.ModelSerializer):
    centre = serializers.IntegerField(source="centre_id")
    centre_name = serializers.CharField(source="centre.name")
    year = serializers.IntegerField(source="reporting_year.year")
    state_label = serializers.CharField(source="get_state_display")

    class Meta:
        model = AnnualSummary
        fields = [
            "id",
            "centre",
            "centre_name",
            "year",
            "state",
            "state_label",
            "submitted_at",
            *SUMMARY_FIGURES,
        ]


class AssessmentSerializer(serializers.ModelSerializer):
    centre = serializers.IntegerField(source="centre_id")
    centre_name = serializers.CharField(source="centre.name")
    grade_label = serializers.CharField(source="get_grade_display")

    class Meta:
        model = Assessment
        fields = [
            "id",
            "centre",
            "centre_name",
            "cycle",
            "due_on",
            "total",
            "grade",
            "grade_label",
            "confirmed_at",
            "closed_at",
            "closed_reason",
        ]

"""Date and date-time inputs whose value browsers can read.

``<input type="date">`` and ``type="datetime-local"`` accept only ISO 8601 values (2026-12-04,
2026-12-04T09:00); Django's ``DateInput`` renders the locale's first input format (2026/12/04 in
Chinese), which browsers drop: the field shows empty after saving, and saving again clears the date.
Every date and date-time field of the portal uses these."""

from django import forms


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")

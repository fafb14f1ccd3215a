import unicodedata

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import phone_validator
from accounts.validators import validate_id_number
from evaluation.models import AnnouncementEntry, Objection, ObjectionFile


class ObjectionForm(forms.Form):
    """实名异议. A person gives name, ID number, phone and evidence; an organisation its name, contact and a
    sealed letter (the service refuses either without its file as well: ``publicity.lodge_objection``)."""

    entry = forms.ModelChoiceField(label=_("对哪一项提出异议"), queryset=AnnouncementEntry.objects.none())
    kind = forms.ChoiceField(label=_("异议人"), choices=Objection.Kind.choices, widget=forms.RadioSelect)
    name = forms.CharField(
        label=_("姓名或单位名称"), max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    id_number = forms.CharField(label=_("身份证号码（个人填写）"), max_length=18, required=False)
    contact_person = forms.CharField(
        label=_("联系人（单位填写）"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        validators=[phone_validator],
        widget=forms.TextInput(attrs={"autocomplete": "tel"}),
    )
    statement = forms.CharField(
        label=_("异议内容和理由"), widget=forms.Textarea(attrs={"rows": 6}), max_length=5000
    )
    evidence = forms.FileField(label=_("证据材料（PDF、JPG、PNG，个人必传）"), required=False)
    sealed_letter = forms.FileField(label=_("加盖公章的异议书（单位必传）"), required=False)

    def __init__(self, *args, announcement, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entry"].queryset = announcement.entries.select_related("application__lead_unit")
        self.fields["entry"].label_from_instance = lambda e: (
            f"{e.application.centre_name}（{e.application.lead_unit}）"
        )

    def clean_id_number(self):
        value = unicodedata.normalize("NFKC", self.cleaned_data.get("id_number", "")).strip().upper()
        if value:
            validate_id_number(value)
        return value

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == Objection.Kind.PERSON:
            if not cleaned.get("id_number") and "id_number" not in self.errors:
                self.add_error("id_number", _("个人提出异议须填写身份证号码（实名）。"))
            if not cleaned.get("evidence") and "evidence" not in self.errors:
                self.add_error("evidence", _("个人提出异议须上传证据材料。"))
        if kind == Objection.Kind.ORGANISATION:
            if not cleaned.get("contact_person"):
                self.add_error("contact_person", _("单位提出异议须填写联系人。"))
            if not cleaned.get("sealed_letter"):
                self.add_error("sealed_letter", _("单位提出异议须上传加盖公章的异议书。"))
        return cleaned

    def files_to_store(self):
        out = []
        if self.cleaned_data.get("evidence"):
            out.append((ObjectionFile.Kind.EVIDENCE, self.cleaned_data["evidence"]))
        if self.cleaned_data.get("sealed_letter"):
            out.append((ObjectionFile.Kind.SEALED_LETTER, self.cleaned_data["sealed_letter"]))
        return out

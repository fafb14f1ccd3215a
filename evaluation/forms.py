from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.editor import STEPS
from applications.models import Attachment, Outcome
from applications.uploads import inspect
from evaluation.models import LeadershipDecision, PreliminaryCheck

CONFIRM_LABEL = _("我已核对，确认办理。此操作提交后不能撤销。")


class MoveForm(forms.Form):
    comment = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label=CONFIRM_LABEL)


class PassPreliminaryForm(MoveForm):
    ticked = forms.MultipleChoiceField(
        label=_("初审核对表"),
        choices=PreliminaryCheck.Item.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("全部核对后才能通过初审；已勾选的项目会保存。"),
    )


class ReturnForm(forms.Form):
    comment = forms.CharField(label=_("总体意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label=_("确认退回，申报单位修改后可重新提交。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for step in STEPS:
            self.fields[f"section_{step.slug}"] = forms.CharField(
                label=_("“%(step)s”部分的修改意见") % {"step": step.title},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def section_comments(self) -> dict:
        return {step.slug: self.cleaned_data.get(f"section_{step.slug}", "") for step in STEPS}

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("comment", "").strip() and not any(
            v.strip() for v in self.section_comments().values()
        ):
            raise forms.ValidationError(_("退回修改须写明修改意见（总体意见或分项意见至少一条）。"))
        return cleaned


class RejectForm(forms.Form):
    comment = forms.CharField(label=_("不予认定理由"), widget=forms.Textarea(attrs={"rows": 4}))
    confirm = forms.BooleanField(label=_("确认不予认定。申报将终止，申报单位会收到通知和理由。"))


class ProposeForm(MoveForm):
    outcome = forms.ChoiceField(label=_("拟定结论"), choices=Outcome.choices, widget=forms.RadioSelect)


class LeadershipMeetingForm(forms.Form):
    title = forms.CharField(label=_("会议名称"), max_length=200, initial=_("委主任办公会"))
    meeting_date = forms.DateField(
        label=_("会议日期"), widget=forms.DateInput(attrs={"type": "date"}), initial=timezone.localdate
    )
    minutes = forms.FileField(label=_("会议纪要（PDF或图片）"))
    confirm = forms.BooleanField(label=_("确认按上表记录审定结果。记录后不能修改。"))

    def __init__(self, *args, applications, max_mb: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.applications = list(applications)
        self.max_mb = max_mb
        choices = [("", _("本次不审定")), *LeadershipDecision.Decision.choices]
        for application in self.applications:
            self.fields[f"decision_{application.pk}"] = forms.ChoiceField(
                label=str(application),
                choices=choices,
                required=False,
                widget=forms.Select(attrs={"class": "form-select"}),
            )
            self.fields[f"comment_{application.pk}"] = forms.CharField(
                label=_("说明"),
                required=False,
                max_length=500,
                widget=forms.TextInput(attrs={"class": "form-control"}),
            )

    def clean_minutes(self):
        upload = self.cleaned_data["minutes"]
        inspect(upload, Attachment.Kind.OTHER, self.max_mb)
        return upload

    def decisions(self) -> dict:
        out = {}
        for application in self.applications:
            decision = self.cleaned_data.get(f"decision_{application.pk}")
            if decision:
                out[application.pk] = (decision, self.cleaned_data.get(f"comment_{application.pk}", ""))
        return out

    def clean(self):
        cleaned = super().clean()
        if not self.errors and not self.decisions():
            raise forms.ValidationError(_("请至少为一个申报选择审定结果。"))
        return cleaned

    def rows(self):
        return [
            (application, self[f"decision_{application.pk}"], self[f"comment_{application.pk}"])
            for application in self.applications
        ]

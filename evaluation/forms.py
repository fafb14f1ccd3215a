from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.widgets import DateInput, DateTimeInput
from applications.editor import STEPS
from applications.models import Attachment, Outcome
from applications.uploads import inspect
from centres.services import approval_date_problem, award_date_problem
from config.numbers import plain
from evaluation.models import LeadershipDecision, PreliminaryCheck
from evaluation.publicity import start_problem

CONFIRM_LABEL = _("我已核对，确认办理。此操作提交后不能撤销。")


class MoveForm(forms.Form):
    comment = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    confirm = forms.BooleanField(label=CONFIRM_LABEL)

    def arguments(self) -> dict:
        """The keyword arguments the move's service takes from this form (the comment only where the
        service records it: ``CommentedMoveForm``)."""
        return {}


class CommentedMoveForm(MoveForm):
    def arguments(self) -> dict:
        return {"comment": self.cleaned_data["comment"]}


class PassPreliminaryForm(MoveForm):
    ticked = forms.MultipleChoiceField(
        label=_("初审核对表"),
        choices=PreliminaryCheck.Item.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("全部核对后才能通过初审；已勾选的项目会保存。"),
    )

    def arguments(self) -> dict:
        return {"ticked": self.cleaned_data["ticked"], "comment": self.cleaned_data["comment"]}


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

    def arguments(self) -> dict:
        return {"comment": self.cleaned_data["comment"], "section_comments": self.section_comments()}

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

    def arguments(self) -> dict:
        return {"reason": self.cleaned_data["comment"]}


class ProposeForm(MoveForm):
    outcome = forms.ChoiceField(label=_("拟定结论"), choices=Outcome.choices, widget=forms.RadioSelect)


class LeadershipMeetingForm(forms.Form):
    title = forms.CharField(label=_("会议名称"), max_length=200, initial=_("委主任办公会"))
    meeting_date = forms.DateField(label=_("会议日期"), widget=DateInput(), initial=timezone.localdate)
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


class PanelForm(forms.Form):
    deadline = forms.DateTimeField(
        label=_("评分截止时间"),
        widget=DateTimeInput(),
    )


class ExtendDeadlineForm(forms.Form):
    deadline = forms.DateTimeField(
        label=_("新的评分截止时间"),
        widget=DateTimeInput(),
    )
    reason = forms.CharField(
        label=_("延期理由"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("理由记入办理记录，并通知尚未提交评分的专家。"),
    )


class AssignForm(forms.Form):
    experts = forms.MultipleChoiceField(
        label=_("选择专家"),
        widget=forms.CheckboxSelectMultiple,
        required=True,
        error_messages={"required": _("请至少勾选一位专家再分配。")},
    )

    def __init__(self, *args, suggestions, **kwargs):
        super().__init__(*args, **kwargs)
        self.suggestions = list(suggestions)
        self.fields["experts"].choices = [(str(p.user_id), str(p)) for p in self.suggestions]


class DeclarationForm(forms.Form):
    """The conflict-of-interest questions, each answered yes or no (no default: the expert must choose)."""

    confirm = forms.BooleanField(label=_("本人承诺以上声明真实，如有隐瞒愿承担相应责任。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from evaluation.models import Assignment

        answers = [("no", _("否")), ("yes", _("是"))]
        for key, label in Assignment.CONFLICT_QUESTIONS.items():
            self.fields[key] = forms.ChoiceField(label=label, choices=answers, widget=forms.RadioSelect)
        self.order_fields([*Assignment.CONFLICT_QUESTIONS, "confirm"])

    def answers(self) -> dict:
        from evaluation.models import Assignment

        return {key: self.cleaned_data[key] == "yes" for key in Assignment.CONFLICT_QUESTIONS}


class ScoreSheetForm(forms.Form):
    """One points field and one comment field per criterion; points bounded by the criterion's maximum."""

    opinion = forms.CharField(label=_("总体意见"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args, scores, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []
        for score in scores:
            criterion = score.criterion
            points = forms.DecimalField(
                label=_("%(name)s（满分%(max)s）")
                % {"name": criterion.label, "max": plain(criterion.max_points)},
                required=False,
                min_value=0,
                max_value=criterion.max_points,
                decimal_places=1,
                initial=score.points,
                help_text=criterion.guidance_label,
                widget=forms.NumberInput(attrs={"step": "0.5", "min": 0, "max": criterion.max_points}),
            )
            comment = forms.CharField(
                label=_("%(name)s评语") % {"name": criterion.label},
                required=False,
                initial=score.comment,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"points_{criterion.pk}"] = points
            self.fields[f"comment_{criterion.pk}"] = comment
            self.rows.append((criterion, f"points_{criterion.pk}", f"comment_{criterion.pk}"))
        self.order_fields([name for _c, p, c in self.rows for name in (p, c)] + ["opinion"])

    def scores(self) -> dict:
        return {
            criterion.pk: (self.cleaned_data.get(points), self.cleaned_data.get(comment, ""))
            for criterion, points, comment in self.rows
        }

    def bound_rows(self):
        return [(criterion, self[points], self[comment]) for criterion, points, comment in self.rows]


class InspectionOpenForm(forms.Form):
    leader = forms.ModelChoiceField(label=_("考核组长"), queryset=None)
    visit_date = forms.DateField(label=_("考核日期"), required=False, widget=DateInput())
    team = forms.CharField(label=_("考核组成员"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from accounts.models import User
        from accounts.roles import Role

        self.fields["leader"].queryset = (
            User.objects.filter(groups__name__in=[Role.COMMISSION_STAFF, Role.EXPERT], is_active=True)
            .distinct()
            .order_by("full_name")
        )


class InspectionRecordForm(forms.Form):
    visit_date = forms.DateField(label=_("考核日期"), required=False, widget=DateInput())
    team = forms.CharField(label=_("考核组成员"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    score = forms.DecimalField(label=_("现场考核得分"), required=False, min_value=0, decimal_places=1)
    conclusion = forms.CharField(
        label=_("考核结论"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, max_score, **kwargs):
        """``max_score``: the policy's maximum (``evaluation.inspection.max_score``)."""
        super().__init__(*args, **kwargs)
        from django.core.validators import MaxValueValidator

        from evaluation.models import SiteInspection

        score = self.fields["score"]
        score.label = _("现场考核得分（0-%(max)s）") % {"max": max_score}
        score.max_value = max_score
        score.validators.append(MaxValueValidator(max_score))
        score.widget.attrs["max"] = str(max_score)

        self.items = []
        for value, label in SiteInspection.Item.choices:
            self.fields[f"ok_{value}"] = forms.BooleanField(
                label=_("%(item)s：符合") % {"item": label}, required=False
            )
            self.fields[f"finding_{value}"] = forms.CharField(
                label=_("%(item)s：核查情况") % {"item": label},
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.items.append(value)

    def findings(self) -> dict:
        return {
            value: {
                "ok": bool(self.cleaned_data.get(f"ok_{value}")),
                "finding": self.cleaned_data.get(f"finding_{value}", ""),
            }
            for value in self.items
        }


class InspectionFileForm(forms.Form):
    file = forms.FileField(label=_("照片或材料（JPG、PNG、PDF）"))
    caption = forms.CharField(label=_("说明"), required=False, max_length=200)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("评估结论"), widget=forms.RadioSelect, choices=())
    reason = forms.CharField(
        label=_("理由"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("结论与系统建议不一致时必填。"),
    )
    confirm = forms.BooleanField(label=CONFIRM_LABEL)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from evaluation.models import ComprehensiveEvaluation

        self.fields["decision"].choices = ComprehensiveEvaluation.Recommendation.choices


class OpenPublicityForm(forms.Form):
    title = forms.CharField(label=_("公示标题"), max_length=200)
    list_type = forms.ChoiceField(label=_("名单类型"), choices=Outcome.choices)
    starts_at = forms.DateTimeField(
        label=_("公示开始时间"),
        required=False,
        widget=DateTimeInput(),
        help_text=_("留空则发布后立即开始；定时发布请选择今后的时间，不能早于当前时间。"),
    )
    contact_person = forms.CharField(label=_("联系人"), max_length=60)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=40)
    contact_address = forms.CharField(label=_("通讯地址"), max_length=300)
    supervision_phone = forms.CharField(label=_("监督电话"), max_length=40)
    applications = forms.MultipleChoiceField(label=_("列入公示的申报"), widget=forms.CheckboxSelectMultiple)
    confirm = forms.BooleanField(label=_("确认发布。公示发布后即向社会公开，不能撤回。"))

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {str(a.pk): a for a in candidates}
        self.fields["applications"].choices = [
            (str(a.pk), f"{a.number} {a}（{a.lead_unit}，{a.get_outcome_display()}）") for a in candidates
        ]

    def clean_starts_at(self):
        starts_at = self.cleaned_data["starts_at"]
        if starts_at and (problem := start_problem(starts_at)):
            raise forms.ValidationError(problem)
        return starts_at

    def selected(self):
        return [self.candidates[pk] for pk in self.cleaned_data["applications"]]


class ResolveObjectionForm(forms.Form):
    state = forms.ChoiceField(
        label=_("异议是否成立"),
        choices=[("dismissed", _("不成立")), ("upheld", _("成立"))],
        widget=forms.RadioSelect,
    )
    resolution = forms.CharField(label=_("处理意见"), widget=forms.Textarea(attrs={"rows": 3}))


class ApprovalForm(forms.Form):
    document_number = forms.CharField(
        label=_("批复文号"), max_length=100, help_text=_("例如：渝经信发〔2026〕12号")
    )
    document_date = forms.DateField(label=_("批复日期"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_date"].widget.attrs["max"] = timezone.localdate().isoformat()

    def clean_document_date(self):
        document_date = self.cleaned_data["document_date"]
        if problem := approval_date_problem(document_date):
            raise forms.ValidationError(problem)
        return document_date


class AwardForm(forms.Form):
    plaque_number = forms.CharField(label=_("牌匾编号"), max_length=50)
    award_date = forms.DateField(label=_("授牌日期"), widget=DateInput())
    confirm = forms.BooleanField(label=_("确认授牌。授牌后创新中心列入公开名录。"))

    def __init__(self, *args, approval_date=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.approval_date = approval_date
        attrs = self.fields["award_date"].widget.attrs
        attrs["max"] = timezone.localdate().isoformat()
        if approval_date:
            attrs["min"] = approval_date.isoformat()

    def clean_award_date(self):
        award_date = self.cleaned_data["award_date"]
        if problem := award_date_problem(self.approval_date, award_date):
            raise forms.ValidationError(problem)
        return award_date


class CalendarYearForm(forms.Form):
    """One State Council notice for a whole year: each statutory holiday's days off and make-up working
    days."""

    notice = forms.CharField(
        label=_("依据通知"),
        max_length=100,
        help_text=_("国务院办公厅通知文号，例如“国办发明电〔2026〕7号”。"),
    )

    def __init__(self, *args, year: int, **kwargs):
        from evaluation.workdays import HOLIDAY_LABELS, HOLIDAYS

        super().__init__(*args, **kwargs)
        self.year = year
        self.rows = []
        for n, name in enumerate(HOLIDAYS):
            label = HOLIDAY_LABELS[name]
            self.fields[f"h{n}_first"] = forms.DateField(
                label=_("放假首日"),
                required=False,
                widget=DateInput(),
            )
            self.fields[f"h{n}_last"] = forms.DateField(
                label=_("放假末日"),
                required=False,
                widget=DateInput(),
            )
            self.fields[f"h{n}_makeup"] = forms.CharField(
                label=_("调休上班日"),
                required=False,
                help_text=_("没有则留空；多个日期用空格或逗号分隔，例如 %(y)d-02-07 %(y)d-02-21。")
                % {"y": year},
            )
            self.rows.append((name, label, f"h{n}_first", f"h{n}_last", f"h{n}_makeup"))

    def clean(self):
        from datetime import date

        cleaned = super().clean()
        for _name, _label, _first, _last, makeup in self.rows:
            text = (cleaned.get(makeup) or "").replace("，", ",").replace("、", ",").replace(",", " ")
            days = []
            for part in text.split():
                try:
                    days.append(date.fromisoformat(part.replace("/", "-")))
                except ValueError:
                    self.add_error(makeup, _("“%(value)s”不是日期（格式：年-月-日）。") % {"value": part})
            cleaned[f"{makeup}_days"] = days
        return cleaned

    def holidays(self) -> dict:
        return {
            name: (self.cleaned_data.get(f), self.cleaned_data.get(t)) for name, _l, f, t, _m in self.rows
        }

    def makeup(self) -> dict:
        return {name: self.cleaned_data.get(f"{m}_days", []) for name, _l, _f, _t, m in self.rows}

    def bound_rows(self):
        return [(label, self[f], self[t], self[m]) for _name, label, f, t, m in self.rows]

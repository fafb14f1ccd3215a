"""The system administrator issues and revokes API tokens here (the key is shown once, after saving)."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from accounts.http import client_ip
from api import tokens
from api.models import ApiToken, Scope, SystemAccount
from applications.services import ActionRefused


@admin.register(SystemAccount)
class SystemAccountAdmin(admin.ModelAdmin):
    list_display = ("name", "operator", "contact", "created_at")
    search_fields = ("name", "operator")


class IssueForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiToken
        fields = ["account", "label", "scopes", "expires_at"]

    def clean(self):
        cleaned = super().clean()
        if "scopes" in cleaned and "expires_at" in cleaned:
            try:
                tokens.check(cleaned["scopes"], cleaned["expires_at"])
            except ActionRefused as error:
                raise forms.ValidationError(error.message) from None
        return cleaned


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    form = IssueForm
    list_display = ("account", "label", "prefix", "scopes", "expires_at", "revoked_at", "last_used_at")
    list_filter = ("account",)
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("prefix",)
        return (
            "account",
            "label",
            "prefix",
            "scopes",
            "expires_at",
            "revoked_at",
            "created_at",
            "last_used_at",
        )

    def get_fields(self, request, obj=None):
        return (
            ["account", "label", "scopes", "expires_at"]
            if obj is None
            else self.get_readonly_fields(request, obj)
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the record of who held a token stays

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["form"] = forms.ModelForm
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and "expires_at" in form.base_fields:
            form.base_fields["expires_at"].help_text = _("最长一年；到期后令牌失效，需重新签发。")
        return form

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        try:
            token, raw = tokens.issue(
                data["account"],
                scopes=data["scopes"],
                expires_at=data["expires_at"],
                label=data["label"],
                by=request.user,
                ip=client_ip(request),
            )
        except ActionRefused as error:  # only if the clock passed the expiry since the form was checked
            messages.error(request, error.message)
            return
        obj.pk = token.pk
        messages.warning(
            request,
            _("令牌已签发，只显示这一次，请立即交给对方系统的运维人员：%(token)s") % {"token": raw},
        )

    @admin.action(description=_("吊销所选令牌"))
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            tokens.revoke(token, by=request.user, ip=client_ip(request))
            count += 1
        self.message_user(request, _("已吊销%(n)s个令牌。") % {"n": count}, messages.SUCCESS)

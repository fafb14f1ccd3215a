"""The public directory of recognised centres, and the (private) register of district-level centres."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.decorators import page_permission
from accounts.http import query_without_page
from accounts.models import Organisation
from applications.feedback import show_refusal
from applications.services import ActionRefused
from centres import services as centre_services
from centres.filters import CentreFilter
from centres.models import Centre, DistrictCentre
from config.public_cache import cached_public_page


@cached_public_page
def directory(request):
    filtered = CentreFilter(
        request.GET, queryset=Centre.objects.public().for_list().order_by("-award_date", "name")
    )
    page = Paginator(filtered.qs, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "centres/directory.html",
        {
            "page_title": _("制造业创新中心名录"),
            "filter": filtered,
            "page": page,
            "query": query_without_page(request),
        },
    )


@cached_public_page
def centre_page(request, pk):
    """A centre's public page. A withdrawn title's old address says so, with the date (410 Gone), instead of a
    bare 404; an excluded centre's page says why and until when."""
    centre = get_object_or_404(Centre.objects.for_list(), pk=pk)
    if centre.status == Centre.Status.WITHDRAWN:
        return render(
            request,
            "centres/withdrawn.html",
            {"page_title": _("%(name)s（已撤销称号）") % {"name": centre.name}, "centre": centre},
            status=410,
        )
    return render(
        request,
        "centres/centre.html",
        {"page_title": centre.name, "centre": centre, "today": timezone.localdate()},
    )


# --- the district-level centres' register (private: district staff, commission staff, the lead unit) ------


class DistrictCentreForm(forms.ModelForm):
    lead_unit_credit_code = forms.CharField(
        label=gettext_lazy("牵头单位统一社会信用代码"),
        max_length=18,
        help_text=gettext_lazy("牵头单位须已在本平台注册。"),
    )

    class Meta:
        model = DistrictCentre
        fields = ["name", "field", "recognised_on", "document_number"]
        widgets = {"recognised_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def clean_lead_unit_credit_code(self):
        code = self.cleaned_data["lead_unit_credit_code"].strip().upper()
        organisation = Organisation.objects.filter(credit_code=code).first()
        if organisation is None:
            raise forms.ValidationError(_("没有找到该统一社会信用代码的注册单位。"))
        self.lead_unit = organisation
        return code


class RecommendForm(forms.Form):
    recommended_on = forms.DateField(
        label=gettext_lazy("推荐日期"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    recommendation = forms.CharField(label=gettext_lazy("推荐意见"), widget=forms.Textarea(attrs={"rows": 3}))


class LinkForm(forms.Form):
    application = forms.ModelChoiceField(label=gettext_lazy("市级申报"), queryset=None)

    def __init__(self, *args, queryset, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = queryset
        self.fields["application"].label_from_instance = lambda a: f"{a.number or _('草稿')} {a.centre_name}"


@page_permission("centres.district_register")
def district_register(request):
    """District staff see and keep their district's register; commission staff see every district's; a
    lead unit sees its own district-level centres."""
    user = request.user
    queryset = DistrictCentre.objects.for_list()
    if user.has_perm("centres.view_nomination"):  # commission staff
        pass
    elif user.has_perm("centres.register_district_centre"):
        queryset = queryset.filter(district_id=user.district_id)
    else:
        queryset = queryset.filter(lead_unit_id=user.organisation_id)
    adding = user.has_perm("centres.register_district_centre")
    form = DistrictCentreForm(request.POST or None) if adding else None
    if request.method == "POST":
        if not adding:
            raise PermissionDenied
        if form.is_valid():
            try:
                centre_services.register_district_centre(
                    user,
                    name=form.cleaned_data["name"],
                    field=form.cleaned_data["field"],
                    lead_unit=form.lead_unit,
                    recognised_on=form.cleaned_data["recognised_on"],
                    document_number=form.cleaned_data["document_number"],
                )
            except ActionRefused as error:
                show_refusal(request, error)
            else:
                messages.success(request, _("已登记。"))
                return redirect("centres:district_register")
    page = Paginator(queryset.order_by("district__code", "name"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "centres/district_register.html",
        {"page_title": _("区县级制造业创新中心名录"), "page": page, "form": form, "query": ""},
    )


@page_permission("centres.district_register")
def district_centre(request, pk):
    centre = get_object_or_404(DistrictCentre.objects.for_list(), pk=pk)
    user = request.user
    if not user.has_perm("centres.view_district_centre", centre):
        raise PermissionDenied
    may_recommend = user.has_perm("centres.recommend_district_centre", centre)
    may_link = user.has_perm("centres.link_district_centre", centre)
    recommend_form = RecommendForm(request.POST if "recommend" in request.POST else None)
    link_form = LinkForm(
        request.POST if "link" in request.POST else None,
        queryset=centre_services.linkable_applications(centre),
    )
    if request.method == "POST":
        try:
            if "recommend" in request.POST:
                if not may_recommend:
                    raise PermissionDenied
                if recommend_form.is_valid():
                    centre_services.recommend_district_centre(centre, user, **recommend_form.cleaned_data)
                    messages.success(request, _("已推荐申报市级，牵头单位和市经济信息委已收到通知。"))
                    return redirect("centres:district_centre", pk=pk)
            elif "link" in request.POST:
                if not may_link:
                    raise PermissionDenied
                if link_form.is_valid():
                    centre_services.link_application(centre, link_form.cleaned_data["application"], user)
                    messages.success(request, _("已关联市级申报。"))
                    return redirect("centres:district_centre", pk=pk)
        except ActionRefused as error:
            show_refusal(request, error)
    return render(
        request,
        "centres/district_centre.html",
        {
            "page_title": centre.name,
            "centre": centre,
            "recommend_form": recommend_form
            if may_recommend and centre.status == DistrictCentre.Status.REGISTERED
            else None,
            "link_form": link_form
            if may_link and centre.status == DistrictCentre.Status.RECOMMENDED and not centre.application_id
            else None,
        },
    )

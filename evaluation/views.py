"""Commission staff's pages: the workbench, an application's review page, each move, the leadership batch."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from accounts.decorators import page_permission
from accounts.http import client_ip, query_without_page
from applications import stages
from applications.eligibility import evaluate, field_clash, missing_for_submission
from applications.feedback import show_refusal
from applications.models import Application, ApplicationEvent, Policy, Status
from applications.services import ActionRefused, transition_label, with_contents
from config import fragments
from evaluation import workflow
from evaluation.filters import WAITING_FOR_STAFF, WorkbenchFilter
from evaluation.forms import (
    LeadershipMeetingForm,
    PassPreliminaryForm,
    RejectForm,
    ReturnForm,
)
from evaluation.models import PreliminaryCheck

PAGE_SIZE = 50


@page_permission("evaluation.staff_home")
def workbench(request):
    """评审工作台: every submitted application, filtered, searched, sorted; counts per stage.

    The content is the same for every staff member, so it is cached per query until an application (or
    a name it shows) changes."""
    return fragments.page(
        request,
        _("评审工作台"),
        "workbench",
        request.GET.urlencode(),
        ("applications",),
        "evaluation/_workbench.html",
        lambda: _workbench_context(request),
    )


def _workbench_context(request) -> dict:
    base = Application.objects.exclude(status=Status.DRAFT).for_list()
    filtered = WorkbenchFilter(request.GET, queryset=base.order_by("-submitted_at", "-pk"))
    page = Paginator(filtered.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = dict(
        Application.objects.exclude(status=Status.DRAFT)
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    stages = [
        (value, label, counts.get(value, 0)) for value, label in Status.choices if value != Status.DRAFT
    ]
    return {
        "filter": filtered,
        "page": page,
        "query": query_without_page(request),
        "stages": stages,
        "waiting_count": sum(counts.get(s, 0) for s in WAITING_FOR_STAFF),
    }


def _staff_application(request, pk, queryset=None) -> Application:
    queryset = queryset if queryset is not None else with_contents().select_related("policy")
    application = get_object_or_404(queryset, pk=pk)
    if not request.user.has_perm("evaluation.review", application) or application.status == Status.DRAFT:
        raise PermissionDenied
    return application


def available_moves(application, user) -> list:
    """The staff moves this user can make now (permission and state), as (name, label, style)."""
    return [
        (t.name, t.custom.get("label", t.name), MOVE_FORMS[t.name].style)
        for t in application.get_available_user_status_transitions(user)
        if t.name in MOVE_FORMS
    ]


@page_permission("evaluation.staff_home")
def application_page(request, pk):
    """An application for review: its plan, checks and history and the moves this person may make now.

    The page is cached per application and per set of moves (what differs between viewers), until
    anything it shows changes."""
    application = _staff_application(request, pk, Application.objects.for_list())
    moves = available_moves(application, request.user)
    leadership_approved = application.status == Status.LEADERSHIP and workflow.leadership_approved(
        application
    )
    return fragments.page(
        request,
        str(application),
        "staff-application",
        (application.pk, tuple(moves), leadership_approved),
        ("review",),
        "evaluation/_application_page.html",
        lambda: {
            **_application_body(application.pk),
            "moves": moves,
            "stage": stages.stage_of(application.status),
            "leadership_approved": leadership_approved,
        },
    )


def _application_body(pk) -> dict:
    application = with_contents().select_related("policy").get(pk=pk)
    return {
        "application": application,
        "events": ApplicationEvent.objects.filter(application=application)
        .select_related("actor")
        .order_by("created_at", "pk"),
        "checks": evaluate(application, application.policy or Policy.current()),
        "eligible": (application.eligibility or {}).get("passed"),
        "clash": field_clash(application),
        "opinion": getattr(application, "district_opinion", None),
        "versions_count": application.versions.count(),
    }


# The moves the move page offers, by transition name (declared in applications.stages).
MOVE_FORMS = {m.name: m for m in stages.all_moves() if m.on_move_page}


def _perform(name, application, user, form, ip):
    return MOVE_FORMS[name](application, user, ip=ip, **form.arguments())


@page_permission("evaluation.staff_home")
def move(request, pk, name):
    """One move, confirmed on its own page. A refusal says why, and the form keeps what was typed."""
    if name not in MOVE_FORMS:
        raise Http404
    application = _staff_application(request, pk)
    initial = {}
    if name == "pass_preliminary":
        check = PreliminaryCheck.objects.filter(application=application).first()
        initial["ticked"] = check.ticked if check else []
    form = MOVE_FORMS[name].form_class(request.POST or None, initial=initial, prefix=name)
    if request.method == "POST" and form.is_valid():
        try:
            _perform(name, application, request.user, form, client_ip(request))
        except ActionRefused as error:
            messages.error(request, error.message)
            for detail in error.details:
                messages.warning(request, detail)
        else:
            messages.success(
                request, _("已办理：%(action)s。") % {"action": transition_label(application, name)}
            )
            return redirect("evaluation:application", pk=pk)
    return render(
        request,
        "evaluation/move.html",
        {
            "page_title": transition_label(application, name),
            "application": application,
            "name": name,
            "form": form,
            "danger": MOVE_FORMS[name].style != "primary",
            "missing": missing_for_submission(application) if name == "pass_preliminary" else [],
            "checks": evaluate(application, application.policy or Policy.current()),
        },
    )


@page_permission("evaluation.staff_home")
def preliminary(request, pk):
    """材料初审: the plan, its eligibility result, the checklist, and pass / return / reject side by side."""
    application = _staff_application(request, pk)
    if application.status != Status.PRELIMINARY:
        messages.info(request, _("该申报当前不在材料初审阶段。"))
        return redirect("evaluation:application", pk=pk)
    check = PreliminaryCheck.objects.filter(application=application).first()
    return render(
        request,
        "evaluation/preliminary.html",
        {
            "page_title": _("材料初审"),
            "application": application,
            "checks": evaluate(application, application.policy or Policy.current()),
            "eligible": (application.eligibility or {}).get("passed"),
            "clash": field_clash(application),
            "missing": missing_for_submission(application),
            "pass_form": PassPreliminaryForm(
                initial={"ticked": check.ticked if check else []}, prefix="pass_preliminary"
            ),
            "return_form": ReturnForm(prefix="return_for_amendment"),
            "reject_form": RejectForm(prefix="reject"),
        },
    )


@page_permission("evaluation.record_leadership")
def leadership(request):
    """委主任办公会审定: one meeting's decisions on a batch of proposed applications."""
    waiting = workflow.waiting_for_leadership()
    if request.method == "POST":
        # Decisions posted for applications that left the stage meanwhile must reach the service, which
        # refuses the whole batch, rather than silently drop out of the form.
        posted = [
            int(key[len("decision_") :])
            for key in request.POST
            if key.startswith("decision_") and key[9:].isdigit()
        ]
        waiting = Application.objects.filter(Q(pk__in=waiting.values("pk")) | Q(pk__in=posted))
    waiting = waiting.select_related("field", "lead_unit").order_by("number")
    form = LeadershipMeetingForm(
        request.POST or None,
        request.FILES or None,
        applications=waiting,
        max_mb=Policy.current().attachment_max_mb,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = workflow.record_leadership_meeting(
                request.user,
                meeting_date=data["meeting_date"],
                title=data["title"],
                minutes=data["minutes"],
                decisions=form.decisions(),
                ip=client_ip(request),
            )
        except ActionRefused as error:
            messages.error(request, error.message)
            for detail in error.details:
                messages.warning(request, detail)
        else:
            messages.success(
                request,
                _("已记录%(meeting)s对%(n)d个申报的审定结果。")
                % {"meeting": meeting, "n": len(form.decisions())},
            )
            return redirect("evaluation:staff_home")
    return render(
        request,
        "evaluation/leadership.html",
        {"page_title": _("委主任办公会审定"), "form": form, "waiting": waiting},
    )


@page_permission("evaluation.manage_calendar")
def calendar(request):
    """节假日安排: which years can be counted in working days, and what is still missing."""
    from evaluation import holidays

    return render(
        request,
        "evaluation/calendar.html",
        {"page_title": _("节假日安排"), "years": holidays.years_to_show()},
    )


@page_permission("evaluation.manage_calendar")
def calendar_year(request, year: int):
    """One form for a year's whole notice: the seven holidays and their make-up working days."""
    from evaluation import holidays
    from evaluation.forms import CalendarYearForm
    from evaluation.workdays import HOLIDAYS

    if not 2000 <= year <= 9998:
        raise Http404
    status = holidays.year_status(year)
    if status["state"] == "builtin":
        raise Http404
    initial = {"notice": status["entry"].notice if status["entry"] else ""}
    entered = holidays.current_entries(year)
    for n, name in enumerate(HOLIDAYS):
        slot = entered.get(name)
        if slot:
            initial[f"h{n}_first"], initial[f"h{n}_last"] = slot["first"], slot["last"]
            initial[f"h{n}_makeup"] = " ".join(d.isoformat() for d in slot["makeup"])
    form = CalendarYearForm(request.POST or None, year=year, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            holidays.enter_year(
                request.user, year, form.cleaned_data["notice"], form.holidays(), form.makeup()
            )
        except ActionRefused as error:
            show_refusal(request, error)
        else:
            messages.success(request, _("%(year)d年的节假日安排已保存，可以按工作日计算。") % {"year": year})
            return redirect("evaluation:calendar")
    return render(
        request,
        "evaluation/calendar_year.html",
        {
            "page_title": _("录入%(year)d年节假日安排") % {"year": year},
            "form": form,
            "status": status,
            "year": year,
        },
    )

"""The programme dashboard: every figure aggregated in the database, a fixed number of queries.

``figures(district)`` limits everything to one district (district staff's view).
"""

from decimal import Decimal

from django.db import connection
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import Application, Field, Status
from centres.models import Centre
from evaluation.filters import WAITING_FOR_STAFF
from evaluation.models import Assignment, Objection
from reports.charts import bar_chart, plain
from reports.models import AnnualSummary, Assessment, ProgrammeTarget, ReportingYear, SupportGrant

PIPELINE = [s for s in Status if s != Status.DRAFT]
KEY_FIGURES = [
    ("rd_expense", AnnualSummary._meta.get_field("rd_expense").verbose_name),
    ("patents_filed", AnnualSummary._meta.get_field("patents_filed").verbose_name),
    ("patents_granted", AnnualSummary._meta.get_field("patents_granted").verbose_name),
    ("standards_led", AnnualSummary._meta.get_field("standards_led").verbose_name),
    ("firms_incubated", AnnualSummary._meta.get_field("firms_incubated").verbose_name),
    ("revenue_transfer", AnnualSummary._meta.get_field("revenue_transfer").verbose_name),
    ("revenue_incubation", AnnualSummary._meta.get_field("revenue_incubation").verbose_name),
    ("revenue_contract_rd", AnnualSummary._meta.get_field("revenue_contract_rd").verbose_name),
    ("revenue_testing", AnnualSummary._meta.get_field("revenue_testing").verbose_name),
    ("revenue_public_service", AnnualSummary._meta.get_field("revenue_public_service").verbose_name),
]
COUNTED_SUMMARY_STATES = (AnnualSummary.State.SUBMITTED, AnnualSummary.State.ACCEPTED)


def stage_durations(district_id=None) -> dict:
    """Days spent in each stage (median, slowest), from the history: a move's time minus the time of the
    application's previous move is the time spent in the move's ``from_status``. PostgreSQL only
    (window function and percentile); one query."""
    if connection.vendor != "postgresql":
        return {}
    # The applications are joined only to pick a district's (joining them for the whole programme made the
    # query half again as slow on the benchmark's data set: 62 ms against 39 ms).
    district_sql = (
        "JOIN applications_application a ON a.id = e.application_id AND a.district_id = %s"
        if district_id
        else ""
    )
    sql = f"""
        WITH spans AS (
            SELECT e.from_status AS stage,
                   EXTRACT(EPOCH FROM e.created_at - LAG(e.created_at) OVER (
                       PARTITION BY e.application_id ORDER BY e.created_at, e.id)) / 86400.0 AS days
            FROM applications_applicationevent e
            {district_sql}
            WHERE e.from_status <> e.to_status
        )
        SELECT stage, percentile_cont(0.5) WITHIN GROUP (ORDER BY days), MAX(days), COUNT(*)
        FROM spans WHERE days IS NOT NULL AND stage <> '' AND stage IS DISTINCT FROM NULL
        GROUP BY stage
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [district_id] if district_id else [])
        return {
            stage: {"median": plain(round(median, 1)), "max": plain(round(longest, 1)), "n": n}
            for stage, median, longest, n in cursor.fetchall()
        }


def figures(district=None) -> dict:
    today = timezone.localdate()
    apps = Application.objects.exclude(status=Status.DRAFT)
    centres = Centre.objects.all()
    summaries = AnnualSummary.objects.all()
    assessments = Assessment.objects.all()
    assignments = Assignment.objects.all()
    objections = Objection.objects.all()
    if district is not None:
        apps = apps.filter(district=district)
        centres = centres.filter(lead_unit__district=district)
        summaries = summaries.filter(centre__lead_unit__district=district)
        assessments = assessments.filter(centre__lead_unit__district=district)
        assignments = assignments.filter(panel__application__district=district)
        objections = objections.filter(entry__application__district=district)

    by_status = dict(apps.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    pipeline = [{"status": s.value, "label": s.label, "n": by_status.get(s.value, 0)} for s in PIPELINE]
    durations = stage_durations(district.pk if district else None)
    for row in pipeline:
        row["duration"] = durations.get(row["status"])

    waiting = {
        "staff": sum(by_status.get(s, 0) for s in WAITING_FOR_STAFF),
        "lead_units": by_status.get(Status.RETURNED, 0),
        "experts": assignments.filter(
            state__in=[Assignment.State.ASSIGNED, Assignment.State.DECLARED], panel__closed_at__isnull=True
        ).count(),
        "objections": objections.filter(state=Objection.State.PENDING).count(),
        "summaries": summaries.filter(state=AnnualSummary.State.SUBMITTED).count(),
    }

    centre_counts = centres.exclude(status=Centre.Status.WITHDRAWN).aggregate(
        recognised=Count("id", filter=Q(kind=Centre.Kind.RECOGNISED)),
        pilot=Count("id", filter=Q(kind=Centre.Kind.PILOT)),
        national=Count("id", filter=Q(is_national=True)),
        excluded=Count("id", filter=Q(status=Centre.Status.EXCLUDED)),
    )
    # The same centres as the "市级制造业创新中心" figure: recognised, title not withdrawn (an excluded centre
    # is still one). Two of them in one field is the clash the one-centre-per-field principle flags.
    per_field = list(
        Field.objects.annotate(
            n=Count(
                "centres",
                filter=Q(centres__kind=Centre.Kind.RECOGNISED)
                & ~Q(centres__status=Centre.Status.WITHDRAWN)
                & (Q(centres__lead_unit__district=district) if district is not None else Q()),
            )
        )
        .order_by("sort_order", "name")
        .values("name", "n")
    )
    for row in per_field:
        row["clash"] = row["n"] > 1

    year = ReportingYear.objects.order_by("-year").first()
    summary_progress = None
    if year is not None:
        filed = Q(state__in=COUNTED_SUMMARY_STATES)
        counts = summaries.filter(reporting_year=year).aggregate(
            # a centre whose title was withdrawn owes nothing: only what it filed counts
            due=Count("id", filter=filed | ~Q(centre__status=Centre.Status.WITHDRAWN)),
            submitted=Count("id", filter=filed),
        )
        overdue = counts["due"] - counts["submitted"] if year.due_date < today else 0
        summary_progress = {"year": year.year, "due_date": year.due_date, "overdue": overdue, **counts}

    grades_raw = dict(
        assessments.exclude(grade="")
        .filter(confirmed_at__isnull=False)
        .order_by()
        .values_list("grade")
        .annotate(n=Count("id"))
        .values_list("grade", "n")
    )
    grades = [{"grade": g.value, "label": g.label, "n": grades_raw.get(g.value, 0)} for g in Assessment.Grade]

    totals = (
        summaries.filter(state__in=COUNTED_SUMMARY_STATES)
        .order_by()
        .values("reporting_year__year")
        .annotate(**{name: Sum(name) for name, _label in KEY_FIGURES})
        .order_by("reporting_year__year")
    )
    key_figures = {
        "years": [row["reporting_year__year"] for row in totals],
        "rows": [(label, [row[name] or Decimal(0) for row in totals]) for name, label in KEY_FIGURES],
    }

    return {
        "support": support_figures(district),
        "pipeline": pipeline,
        # the charts' geometry (reports.charts); the rows are the same dicts as the tables'
        "charts": {
            "pipeline": bar_chart(pipeline),
            "fields": bar_chart(per_field),
            "grades": bar_chart(grades),
        },
        "waiting": waiting,
        "centres": centre_counts,
        "target": ProgrammeTarget.objects.first(),
        "per_field": per_field,
        "summary_progress": summary_progress,
        "grades": grades,
        "key_figures": key_figures,
    }


GRANTED_STATES = (SupportGrant.Status.GRANTED, SupportGrant.Status.DISBURSED)


def support_figures(district=None) -> dict:
    """Support granted (下达, including what was then paid) and disbursed (拨付), in 万元, per year, per field
    and (the whole programme only) per district; and how many centres received any. Four queries."""
    lines = SupportGrant.objects.filter(status__in=GRANTED_STATES)
    if district is not None:
        lines = lines.filter(centre__lead_unit__district=district)
    sums = {
        "granted": Sum("amount"),
        "disbursed": Sum("amount", filter=Q(status=SupportGrant.Status.DISBURSED)),
    }

    def by(key, label_key=None):
        rows = list(lines.order_by().values(key).annotate(**sums).order_by(label_key or key))
        for row in rows:
            row["label"] = row[label_key or key]
            row["granted"] = row["granted"] or Decimal(0)
            row["disbursed"] = row["disbursed"] or Decimal(0)
        return rows

    totals = lines.aggregate(**sums, centres=Count("centre", distinct=True))
    tables = [
        (_("按年度"), by("year"), "year"),
        (_("按领域"), by("centre__field__name"), "field"),
    ]
    per_district = by("centre__lead_unit__district__name")  # also for one district: the same query count
    if district is None:
        tables.append((_("按区县"), per_district, "district"))
    return {
        "tables": tables,
        "granted": totals["granted"] or Decimal(0),
        "disbursed": totals["disbursed"] or Decimal(0),
        "centres": totals["centres"],
    }

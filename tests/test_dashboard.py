"""The programme dashboard (reports.dashboard): every figure against a small world whose numbers are worked
out by hand below, the time spent in each stage from history entries written at chosen times, a district's
view limited to its district, a fixed number of queries whatever the data size, and who may open the page.

The world (districts 渝北区 "D1" and 渝中区 "D2"; fields F1..F5 are the first five by sort order):

applications (through the real steps)     D1                                  D2
  submitted                                2                                   1
  preliminary / returned / rejected        1 / 1 / 1                           -
  withdrawn / draft (draft never counted)  1 / 1                               -
  expert_review (a panel of 5: 1 declared, 1 submitted, 1 withdrawn, 2 assigned)   -
  site_inspection                          -                                   1
  publicity (objections: 1 pending, 1 dismissed)                               1
  approved                                 1                                   -
  awarded (one per centre below)           5                                   3

centres            D1: c1 recognised F1 national · c2 pilot F1 · c3 recognised F2 excluded
                       · c4 recognised F2 withdrawn · c5 recognised F3
                   D2: c6 recognised F3 upgraded national · c7 pilot F4 · c8 pilot F5 excluded
assessments        c1 92 优秀 · c2 65 合格 · c3 55 不合格 · c5 85 良好 (D1);
                   c6 95 优秀, c6 81 良好 · c8 50 不合格 (D2); c7 open, a panel with 2 experts assigned (D2)
annual summaries   2023 (due 2024-03-31): s1 c1 accepted · s2 c5 submitted · s3 c6 accepted · s4 c3 draft
                   2024 (due 2025-03-31, the latest, past): t1 c1 submitted · t2 c2 returned · t3 c3 draft
                   · t4 c5 accepted · t5 c6 accepted · t6 c7 submitted · t7 c8 draft
"""

import datetime
import re
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import District
from accounts.roles import Role
from applications.models import Application, Field
from centres.models import Centre
from evaluation import panels, publicity
from evaluation.models import Assignment, Objection
from reports import assessment as assessments
from reports.charts import bar_chart, nice_scale
from reports.dashboard import KEY_FIGURES, PIPELINE, figures, stage_durations
from reports.models import AnnualSummary, Assessment, ProgrammeTarget, ReportingYear, SupportGrant
from tests.factories import (
    ApplicationFactory,
    annual_summary,
    application_approved,
    application_in,
    application_in_publicity,
    awarded_centre,
    declare_no_conflict,
    district_staff_in,
    event_at,
    expert_with_profile,
    graded_assessment,
    lead_user_in,
    objection_evidence,
    panel_with_experts,
    submit_sheet,
    user_with_role,
    valid_id_number,
)

pytestmark = pytest.mark.django_db

D1, D2 = "500112", "500103"  # 渝北区, 渝中区
State = AnnualSummary.State
Grade = Assessment.Grade
ZERO_PIPELINE = {s.value: 0 for s in PIPELINE}


def money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


# Figures of the summaries: (rd_expense, patents_filed, patents_granted, standards_led, firms_incubated,
# revenue_transfer, revenue_incubation, revenue_contract_rd, revenue_testing, revenue_public_service).
FIGURE_NAMES = [name for name, _label in KEY_FIGURES]
SUMMARIES = {
    # key: (centre, year, state, figures)
    "s1": ("c1", 2023, State.ACCEPTED, ("100.50", 10, 4, 1, 2, "20", "5", "30", "8", "1.50")),
    "s2": ("c5", 2023, State.SUBMITTED, ("50.25", 3, 1, 0, 1, "10", "0", "12.50", "0", "2")),
    "s3": ("c6", 2023, State.ACCEPTED, ("200", 20, 9, 2, 5, "40", "10", "60", "15.25", "3")),
    "s4": ("c3", 2023, State.DRAFT, ("999", 99, 99, 99, 99, "999", "999", "999", "999", "999")),
    "t1": ("c1", 2024, State.SUBMITTED, ("120", 12, 5, 1, 3, "25", "6", "35", "9", "2")),
    "t2": ("c2", 2024, State.RETURNED, ("888", 88, 88, 88, 88, "888", "888", "888", "888", "888")),
    "t3": ("c3", 2024, State.DRAFT, ("777", 77, 77, 77, 77, "777", "777", "777", "777", "777")),
    "t4": ("c5", 2024, State.ACCEPTED, ("60", 4, 2, 1, 0, "12", "1", "14", "2", "0.5")),
    "t5": ("c6", 2024, State.ACCEPTED, ("210.75", 22, 10, 3, 6, "45", "11", "65", "16", "4")),
    "t6": ("c7", 2024, State.SUBMITTED, ("30", 2, 0, 0, 1, "3", "2", "4", "1", "0")),
    "t7": ("c8", 2024, State.DRAFT, ("666", 66, 66, 66, 66, "666", "666", "666", "666", "666")),
}

# The key figures summed by hand over the submitted and accepted summaries only, per year (2023, 2024),
# in the order of KEY_FIGURES.
KEY_TOTALS = {
    None: [  # all:  2023 = s1 + s2 + s3;  2024 = t1 + t4 + t5 + t6
        ("350.75", "420.75"),  # 100.50 + 50.25 + 200 | 120 + 60 + 210.75 + 30
        (33, 40),  # 10 + 3 + 20 | 12 + 4 + 22 + 2
        (14, 17),  # 4 + 1 + 9 | 5 + 2 + 10 + 0
        (3, 5),  # 1 + 0 + 2 | 1 + 1 + 3 + 0
        (8, 10),  # 2 + 1 + 5 | 3 + 0 + 6 + 1
        ("70", "85"),  # 20 + 10 + 40 | 25 + 12 + 45 + 3
        ("15", "20"),  # 5 + 0 + 10 | 6 + 1 + 11 + 2
        ("102.50", "118"),  # 30 + 12.50 + 60 | 35 + 14 + 65 + 4
        ("23.25", "28"),  # 8 + 0 + 15.25 | 9 + 2 + 16 + 1
        ("6.50", "6.50"),  # 1.50 + 2 + 3 | 2 + 0.5 + 4 + 0
    ],
    D1: [  # 2023 = s1 + s2;  2024 = t1 + t4
        ("150.75", "180"),
        (13, 16),
        (5, 7),
        (1, 2),
        (3, 3),
        ("30", "37"),
        ("5", "7"),
        ("42.50", "49"),
        ("8", "11"),
        ("3.50", "2.50"),
    ],
    D2: [  # 2023 = s3;  2024 = t5 + t6
        ("200", "240.75"),
        (20, 24),
        (9, 10),
        (2, 3),
        (5, 7),
        ("40", "48"),
        ("10", "13"),
        ("60", "69"),
        ("15.25", "17"),
        ("3", "4"),
    ],
}

EXPECTED = {
    None: {
        "pipeline": {
            "submitted": 3,
            "preliminary": 1,
            "expert_review": 1,
            "site_inspection": 1,
            "publicity": 1,
            "approved": 1,
            "awarded": 8,
            "returned": 1,
            "rejected": 1,
            "withdrawn": 1,
        },
        # staff: submitted 3 + preliminary 1 + expert_review 1 + site_inspection 1 + approved 1
        # experts: D1 panel (1 declared + 2 assigned) + D2 assessment panel (2 assigned)
        "waiting": {"staff": 7, "lead_units": 1, "experts": 5, "objections": 1, "summaries": 3},
        # not withdrawn (c4): recognised c1 c3 c5 c6, pilot c2 c7 c8, national c1 c6, excluded c3 c8
        "centres": {"recognised": 4, "pilot": 3, "national": 2, "excluded": 2},
        # active or upgraded only: F1 c1 c2, F3 c5 c6, F4 c7
        # the same centres as "recognised" (25 minor): c1 · c3 (excluded) · c5 c6
        "per_field": [1, 1, 2, 0, 0],
        # 2024: due t1..t7 = 7, submitted or accepted t1 t4 t5 t6 = 4, the due date has passed
        "summary_progress": {"due": 7, "submitted": 4, "overdue": 3},
        "grades": {"excellent": 2, "good": 2, "pass": 1, "fail": 2},
    },
    D1: {
        "pipeline": {
            "submitted": 2,
            "preliminary": 1,
            "expert_review": 1,
            "approved": 1,
            "awarded": 5,
            "returned": 1,
            "rejected": 1,
            "withdrawn": 1,
        },
        # staff: submitted 2 + preliminary 1 + expert_review 1 + approved 1
        "waiting": {"staff": 5, "lead_units": 1, "experts": 3, "objections": 0, "summaries": 2},
        "centres": {"recognised": 3, "pilot": 1, "national": 1, "excluded": 1},
        "per_field": [1, 1, 1, 0, 0],
        "summary_progress": {"due": 4, "submitted": 2, "overdue": 2},  # t1 t2 t3 t4; t1 t4
        "grades": {"excellent": 1, "good": 1, "pass": 1, "fail": 1},
    },
    D2: {
        "pipeline": {"submitted": 1, "site_inspection": 1, "publicity": 1, "awarded": 3},
        "waiting": {"staff": 2, "lead_units": 0, "experts": 2, "objections": 1, "summaries": 1},
        "centres": {"recognised": 1, "pilot": 2, "national": 1, "excluded": 1},
        "per_field": [0, 0, 1, 0, 0],
        "summary_progress": {"due": 3, "submitted": 2, "overdue": 1},  # t5 t6 t7; t5 t6
        "grades": {"excellent": 1, "good": 1, "pass": 0, "fail": 1},
    },
}


@pytest.fixture
def staff(db):
    return user_with_role(Role.COMMISSION_STAFF, full_name="张伟")


def build_world(staff) -> dict:
    fields = list(Field.objects.order_by("sort_order", "name")[:5])
    made = {}

    # --- applications, moved by the real steps (before the centres: no field is held yet) --------------
    for status in ("submitted", "submitted", "preliminary", "returned", "rejected", "withdrawn", "draft"):
        application_in(status, staff=staff, lead_user=lead_user_in(D1))
    review = application_in("expert_review", staff=staff, lead_user=lead_user_in(D1))
    _panel, assigned = panel_with_experts(review, staff, size=5)
    declare_no_conflict(assigned[0])  # declared, scoring: still waits for the expert
    submit_sheet(assigned[1], total=80)  # submitted: done
    conflict = dict.fromkeys(Assignment.CONFLICT_QUESTIONS, False) | {"worked_for": True}
    panels.declare(assigned[2], assigned[2].expert, conflict)  # withdrawn: waits for nobody
    application_approved(staff=staff, lead_user=lead_user_in(D1))

    application_in("submitted", staff=staff, lead_user=lead_user_in(D2))
    application_in("site_inspection", staff=staff, lead_user=lead_user_in(D2))
    _in_publicity, announcement = application_in_publicity(staff=staff, lead_user=lead_user_in(D2))
    entry = announcement.entries.get()
    objections = [
        publicity.lodge_objection(
            entry,
            kind=Objection.Kind.PERSON,
            name=name,
            phone="13800001234",
            statement="研发人员数量与实际不符。",
            id_number=valid_id_number(),
            files=objection_evidence(),
        )
        for name in ("王甲", "王乙")
    ]
    publicity.resolve_objection(objections[1], staff, Objection.State.DISMISSED, "经核实，异议不成立。")

    # --- centres ----------------------------------------------------------------------------------------
    def centre(code, key, field, **values):
        made[key] = awarded_centre(
            lead_user=lead_user_in(code), name=f"重庆市{key}创新中心", field=field, **values
        )

    Kind, CentreStatus = Centre.Kind, Centre.Status
    centre(D1, "c1", fields[0], is_national=True)
    centre(D1, "c2", fields[0], kind=Kind.PILOT)
    centre(D1, "c3", fields[1], status=CentreStatus.EXCLUDED, excluded_until=datetime.date(2027, 6, 1))
    centre(D1, "c4", fields[1], status=CentreStatus.WITHDRAWN)
    centre(D1, "c5", fields[2])
    centre(D2, "c6", fields[2], status=CentreStatus.UPGRADED, is_national=True)
    centre(D2, "c7", fields[3], kind=Kind.PILOT)
    centre(D2, "c8", fields[4], kind=Kind.PILOT, status=CentreStatus.EXCLUDED)

    # --- assessments --------------------------------------------------------------------------------------
    for key, cycle, total, grade in [
        ("c1", 1, 92, Grade.EXCELLENT),
        ("c2", 1, 65, Grade.PASS),
        ("c3", 1, 55, Grade.FAIL),
        ("c5", 1, 85, Grade.GOOD),
        ("c6", 1, 95, Grade.EXCELLENT),
        ("c6", 2, 81, Grade.GOOD),
        ("c8", 1, 50, Grade.FAIL),
    ]:
        graded_assessment(made[key], cycle, total, grade, confirmed_by=staff)
    open_one = Assessment.objects.create(centre=made["c7"], cycle=1, due_on=datetime.date(2027, 6, 1))
    open_one = assessments.start_panel(open_one, staff, deadline=timezone.now() + datetime.timedelta(days=7))
    panels.assign(open_one.panel, staff, [expert_with_profile(), expert_with_profile()])

    # --- annual summaries ---------------------------------------------------------------------------------
    years = {
        2023: ReportingYear.objects.create(year=2023, due_date=datetime.date(2024, 3, 31), opened_by=staff),
        2024: ReportingYear.objects.create(year=2024, due_date=datetime.date(2025, 3, 31), opened_by=staff),
    }
    for key, (centre_key, year, state, values) in SUMMARIES.items():
        made[key] = annual_summary(
            made[centre_key], years[year], state, **dict(zip(FIGURE_NAMES, values, strict=True))
        )
    made["fields"] = fields
    return made


@pytest.fixture
def world(staff):
    return build_world(staff)


def district(code):
    return None if code is None else District.objects.get(code=code)


def check_figures(result: dict, code, fields) -> None:
    expected = EXPECTED[code]
    assert [row["status"] for row in result["pipeline"]] == [s.value for s in PIPELINE]
    assert "draft" not in {row["status"] for row in result["pipeline"]}
    assert {row["status"]: row["n"] for row in result["pipeline"]} == ZERO_PIPELINE | expected["pipeline"]
    assert result["waiting"] == expected["waiting"]
    assert result["centres"] == expected["centres"]

    per_field = result["per_field"]
    assert len(per_field) == Field.objects.count()
    assert [row["name"] for row in per_field[:5]] == [f.name for f in fields]
    assert [row["n"] for row in per_field[:5]] == expected["per_field"]
    assert all(row["n"] == 0 for row in per_field[5:])
    assert [row["clash"] for row in per_field] == [row["n"] > 1 for row in per_field]

    progress = result["summary_progress"]
    assert progress == {"year": 2024, "due_date": datetime.date(2025, 3, 31), **expected["summary_progress"]}

    assert [row["grade"] for row in result["grades"]] == list(Grade.values)
    assert {row["grade"]: row["n"] for row in result["grades"]} == expected["grades"]

    assert result["key_figures"]["years"] == [2023, 2024]
    rows = result["key_figures"]["rows"]
    assert [label for label, _values in rows] == [label for _name, label in KEY_FIGURES]
    for (name, _label), (_l, values), totals in zip(KEY_FIGURES, rows, KEY_TOTALS[code], strict=True):
        expected_values = [money(v) if isinstance(v, str) else v for v in totals]
        assert values == expected_values, name

    assert result["target"] == ProgrammeTarget.objects.order_by("-created_at", "-pk").first()


# --- 1. every figure, computed by hand ------------------------------------------------------------------


def test_every_figure_of_the_whole_programme(world):
    result = figures()
    check_figures(result, None, world["fields"])

    # The clash flag is what the one-centre-per-field principle asks: two municipal centres in F3.
    flagged = [row["name"] for row in result["per_field"] if row["clash"]]
    assert flagged == [world["fields"][2].name]
    # The chart counts the same centres as the headline figure.
    assert sum(row["n"] for row in result["per_field"]) == result["centres"]["recognised"]
    # Bars are drawn against the axis' end, a round number at or above the largest value: 8 awarded is the
    # widest pipeline bar and the end of an axis in steps of 2.
    widths = {row["status"]: row["width"] for row in result["pipeline"]}
    assert widths["awarded"] == 100.0
    assert widths["submitted"] == 37.5  # 3 / 8
    assert widths["comprehensive"] == 0
    assert [row["width"] for row in result["per_field"][:5]] == [50.0, 50.0, 100.0, 0, 0]


@pytest.mark.parametrize("code", [D1, D2], ids=["渝北区", "渝中区"])
def test_a_districts_figures_count_only_that_district(world, code):
    check_figures(figures(district(code)), code, world["fields"])


def test_each_district_adds_up_to_the_whole_where_every_row_belongs_to_one_district(world):
    whole, one, two = figures(), figures(district(D1)), figures(district(D2))
    for key in ("waiting", "centres"):
        assert {k: one[key][k] + two[key][k] for k in whole[key]} == whole[key]
    for key, by in (("pipeline", "status"), ("grades", "grade")):
        assert [r["n"] for r in whole[key]] == [
            a["n"] + b["n"] for a, b in zip(one[key], two[key], strict=True)
        ], by


def test_a_field_held_once_in_each_of_two_districts_clashes_for_the_programme_only(world):
    """F3 has c5 in D1 and c6 in D2: a clash for the commission, one centre in each district's view."""
    f3 = world["fields"][2].name
    rows = {code: {r["name"]: r for r in figures(district(code))["per_field"]} for code in (None, D1, D2)}
    assert (rows[None][f3]["n"], rows[None][f3]["clash"]) == (2, True)
    assert (rows[D1][f3]["n"], rows[D1][f3]["clash"]) == (1, False)
    assert (rows[D2][f3]["n"], rows[D2][f3]["clash"]) == (1, False)


def test_summary_progress_is_overdue_only_after_the_due_date(staff):
    centres = [awarded_centre() for _ in range(3)]
    today = timezone.localdate()
    year = ReportingYear.objects.create(year=2030, due_date=today, opened_by=staff)
    annual_summary(centres[0], year, State.ACCEPTED)
    annual_summary(centres[1], year, State.RETURNED)  # returned: not counted as submitted
    annual_summary(centres[2], year, State.DRAFT)
    # Due today: not overdue yet.
    assert figures()["summary_progress"] == {
        "year": 2030,
        "due_date": today,
        "due": 3,
        "submitted": 1,
        "overdue": 0,
    }
    # A later reporting year opened with a due date that has passed: the newest year is the one shown.
    later = ReportingYear.objects.create(
        year=2031, due_date=today - datetime.timedelta(days=1), opened_by=staff
    )
    annual_summary(centres[0], later, State.SUBMITTED)
    annual_summary(centres[1], later, State.DRAFT)
    assert figures()["summary_progress"] == {
        "year": 2031,
        "due_date": today - datetime.timedelta(days=1),
        "due": 2,
        "submitted": 1,
        "overdue": 1,
    }


def test_no_reporting_year_and_no_summaries(staff):
    result = figures()
    assert result["summary_progress"] is None
    assert result["key_figures"] == {"years": [], "rows": [(label, []) for _name, label in KEY_FIGURES]}
    assert all(row["n"] == 0 for row in result["pipeline"])
    assert result["centres"] == {"recognised": 0, "pilot": 0, "national": 0, "excluded": 0}


def test_the_newest_programme_target_is_in_force_and_shown(client, staff):
    ProgrammeTarget.objects.create(
        municipal_min=12, municipal_max=18, national=3, target_year=2027, note="测试"
    )
    target = figures()["target"]
    assert (target.municipal_min, target.municipal_max, target.national, target.target_year) == (
        12,
        18,
        3,
        2027,
    )
    client.force_login(staff)
    body = client.get(reverse("reports:dashboard")).content.decode()
    assert "目标 12-18 个（2027年）" in body
    assert "目标 3 个" in body


def test_the_axis_is_a_round_scale_above_the_largest_value():
    assert nice_scale(0) == (1, [0, 1])
    assert nice_scale(1) == (1, [0, 1])
    assert nice_scale(2) == (2, [0, 1, 2])
    assert nice_scale(5) == (6, [0, 2, 4, 6])
    assert nice_scale(8) == (8, [0, 2, 4, 6, 8])
    assert nice_scale(37) == (40, [0, 10, 20, 30, 40])
    assert nice_scale(Decimal("1900.00"), integer=False) == (2000, [0, 500, 1000, 1500, 2000])
    chart = bar_chart([{"n": 3}, {"n": 0}, {"n": 5}])
    assert [r["width"] for r in chart["rows"]] == [50.0, 0, 83.3]
    assert [t["value"] for t in chart["ticks"]] == [0, 2, 4, 6]


def svg_texts(body: str, chart_id: str) -> list[str]:
    svg = re.search(rf'<figure class="chart[^"]*" id="{chart_id}-chart">(.*?)</figure>', body, re.S).group(1)
    return [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def test_every_chart_shows_its_categories_values_and_scale_as_text(client, staff):
    """The grade chart with a single graded centre used to be one unlabelled bar: now every grade is named
    with its count, and the axis has its ticks, all as text (readable in print and without colour)."""
    graded_assessment(awarded_centre(), 1, 50, Grade.FAIL, confirmed_by=staff)
    client.force_login(staff)
    body = client.get(reverse("reports:dashboard")).content.decode()
    # names, each followed by its value, then the axis ticks 0 and 1
    assert svg_texts(body, "grades") == ["优秀", "0", "良好", "0", "合格", "0", "不合格", "1", "0", "1"]
    assert "考核评估等级分布</figcaption>" in body  # a visible caption
    pipeline = svg_texts(body, "pipeline")
    assert pipeline[:2] == ["已提交", "0"] and "授牌" in pipeline
    fields = svg_texts(body, "fields")
    assert Field.objects.order_by("sort_order", "name").first().name == fields[0]
    # the tables stay
    assert '<caption class="visually-hidden">考核评估等级分布</caption>' in body


def test_a_field_with_two_centres_is_flagged_in_words_on_the_chart(client, staff):
    field = Field.objects.order_by("sort_order", "name").first()
    awarded_centre(field=field)
    awarded_centre(field=field)
    client.force_login(staff)
    body = client.get(reverse("reports:dashboard")).content.decode()
    texts = svg_texts(body, "fields")
    assert texts[texts.index(field.name) + 1] == "2（超过一个）"
    assert 'fill="url(#fields-hatch)"' in body  # hatched, not only red


def test_the_grade_distribution_counts_confirmed_results_only(staff):
    graded_assessment(awarded_centre(), 1, 92, Grade.EXCELLENT, confirmed_by=staff)
    graded_assessment(awarded_centre(), 1, 50, Grade.FAIL)  # scored, awaiting staff's confirmation
    assert {row["grade"]: row["n"] for row in figures()["grades"]} == {
        "excellent": 1,
        "good": 0,
        "pass": 0,
        "fail": 0,
    }


# --- time spent in each stage ----------------------------------------------------------------------------

T0 = datetime.datetime(2025, 1, 6, 9, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def at(hours: float):
    return T0 + datetime.timedelta(hours=hours)


@pytest.fixture
def history(staff):
    """Three applications whose history entries are written at chosen times (hours after T0).

    A (D1): created 0, submitted 24, preliminary 72, a checklist entry 96 (no move), expert review 156
            -> draft 1.0 d, submitted 2.0 d, preliminary 3.5 d
    B (D1): submitted 0, preliminary 96, returned 132, an internal entry 140 (no move), resubmitted 204,
            preliminary 216 -> submitted 4.0 d, preliminary 1.5 d, returned 3.0 d, submitted 0.5 d
    C (D2): submitted 0, preliminary 240, expert review 288, site inspection 480
            -> submitted 10.0 d, preliminary 2.0 d, expert review 8.0 d
    """
    a = ApplicationFactory(lead_unit=lead_user_in(D1).organisation)
    b = ApplicationFactory(lead_unit=lead_user_in(D1).organisation)
    c = ApplicationFactory(lead_unit=lead_user_in(D2).organisation)
    for application, entries in [
        (
            a,
            [
                ("create", "", "draft", 0),
                ("submit", "draft", "submitted", 24),
                ("start_preliminary", "submitted", "preliminary", 72),
                ("checklist", "preliminary", "preliminary", 96),
                ("pass_preliminary", "preliminary", "expert_review", 156),
            ],
        ),
        (
            b,
            [
                ("submit", "draft", "submitted", 0),
                ("start_preliminary", "submitted", "preliminary", 96),
                ("return_for_amendment", "preliminary", "returned", 132),
                ("experts_assigned", "", "", 140),
                ("resubmit", "returned", "submitted", 204),
                ("start_preliminary", "submitted", "preliminary", 216),
            ],
        ),
        (
            c,
            [
                ("submit", "draft", "submitted", 0),
                ("start_preliminary", "submitted", "preliminary", 240),
                ("pass_preliminary", "preliminary", "expert_review", 288),
                ("close_expert_review", "expert_review", "site_inspection", 480),
            ],
        ),
    ]:
        for action, from_status, to_status, hours in entries:
            event_at(application, action, from_status, to_status, at(hours), actor=staff)
    return a, b, c


def test_stage_durations_median_and_slowest_computed_by_hand(history):
    # submitted: 2.0, 4.0, 0.5, 10.0 -> median (2.0 + 4.0) / 2 = 3.0, slowest 10.0
    # preliminary: 3.5, 1.5, 2.0 -> median 2.0, slowest 3.5
    assert stage_durations() == {
        "draft": {"median": 1.0, "max": 1.0, "n": 1},
        "submitted": {"median": 3.0, "max": 10.0, "n": 4},
        "preliminary": {"median": 2.0, "max": 3.5, "n": 3},
        "returned": {"median": 3.0, "max": 3.0, "n": 1},
        "expert_review": {"median": 8.0, "max": 8.0, "n": 1},
    }


def test_stage_durations_of_a_district(history):
    d1, d2 = district(D1), district(D2)
    # D1 submitted: 2.0, 4.0, 0.5 -> 2.0; preliminary: 3.5, 1.5 -> 2.5
    assert stage_durations(d1.pk) == {
        "draft": {"median": 1.0, "max": 1.0, "n": 1},
        "submitted": {"median": 2.0, "max": 4.0, "n": 3},
        "preliminary": {"median": 2.5, "max": 3.5, "n": 2},
        "returned": {"median": 3.0, "max": 3.0, "n": 1},
    }
    assert stage_durations(d2.pk) == {
        "submitted": {"median": 10.0, "max": 10.0, "n": 1},
        "preliminary": {"median": 2.0, "max": 2.0, "n": 1},
        "expert_review": {"median": 8.0, "max": 8.0, "n": 1},
    }


def test_the_pipeline_rows_carry_the_stage_durations(client, staff, history):
    rows = {row["status"]: row for row in figures()["pipeline"]}
    assert rows["submitted"]["duration"] == {"median": 3.0, "max": 10.0, "n": 4}
    assert rows["expert_review"]["duration"] == {"median": 8.0, "max": 8.0, "n": 1}
    assert rows["comprehensive"]["duration"] is None
    rows = {row["status"]: row for row in figures(district(D2))["pipeline"]}
    assert rows["returned"]["duration"] is None
    assert rows["submitted"]["duration"]["median"] == 10.0

    client.force_login(staff)
    body = client.get(reverse("reports:dashboard")).content.decode()
    cells = {
        stage: (median, longest)
        for stage, median, longest in re.findall(
            r'data-stage="(\w+)">\d+</td><td class="text-end">([^<]*)</td><td class="text-end">([^<]*)<', body
        )
    }
    # whole numbers of days without a trailing ".0"
    assert cells["submitted"] == ("3", "10")
    assert cells["preliminary"] == ("2", "3.5")
    assert cells["returned"] == ("3", "3")


def test_a_stage_without_history_shows_a_dash(client, staff, history):
    client.force_login(staff)
    body = client.get(reverse("reports:dashboard")).content.decode()
    assert re.search(
        r'data-stage="comprehensive">0</td><td class="text-end">—</td><td class="text-end">—</td>', body
    )


def test_moves_made_by_the_real_steps_are_measured_too(staff):
    application_in("preliminary", staff=staff, lead_user=lead_user_in(D1))
    durations = stage_durations()
    # Submitted, then moved to preliminary a moment later: one span in "submitted", (almost) no time.
    # (No span for the draft: the factory writes no "create" entry, and a first move has no start.)
    assert set(durations) == {"submitted"}
    assert durations["submitted"]["n"] == 1
    assert 0 <= durations["submitted"]["max"] < Decimal("0.1")


# --- 2. a fixed number of queries, the page and who may open it -------------------------------------------


def grow(staff, k: int) -> None:
    """``k`` more rows of everything the dashboard reads, in both districts, stored directly (cheaply)."""
    fields = list(Field.objects.order_by("sort_order", "name"))
    year = ReportingYear.objects.order_by("-year").first() or ReportingYear.objects.create(
        year=2024, due_date=datetime.date(2025, 3, 31), opened_by=staff
    )
    for code in (D1, D2):
        organisation = lead_user_in(code).organisation
        for i in range(k):
            for status in ("submitted", "preliminary", "returned", "site_inspection", "rejected"):
                application = ApplicationFactory(lead_unit=organisation)
                Application.objects.filter(pk=application.pk).update(status=status)
                event_at(application, "submit", "draft", "submitted", at(i))
                event_at(application, "move", "submitted", status, at(i + 30))
            made = awarded_centre(
                lead_user=lead_user_in(code), field=fields[i % len(fields)], is_national=i % 3 == 0
            )
            annual_summary(
                made,
                year,
                State.SUBMITTED if i % 2 else State.ACCEPTED,
                rd_expense=Decimal(i),
                patents_filed=i,
            )
            graded_assessment(made, 1, 60 + i, Grade.values[i % 4], confirmed_by=staff)
            SupportGrant.objects.create(
                centre=made,
                kind="construction",
                support_year=1,
                year=2024 + i % 2,
                project_name="建设支持",
                amount=Decimal(100 + i),
                planned_on=datetime.date(2024, 7, 1),
                planned_by=staff,
            )


def dashboard_queries(client, user, district_code=None) -> tuple[int, int]:
    where = district(district_code)
    cache.clear()  # the uncached path: the figures are computed
    with CaptureQueriesContext(connection) as for_figures:
        figures(where)
    client.force_login(user)
    with CaptureQueriesContext(connection) as for_page:
        response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    return len(for_figures.captured_queries), len(for_page.captured_queries)


# Measured. figures(): one query per figure (statuses, stage durations, experts, objections, summaries
# waiting, centre counts, fields, latest year, its summaries, grades, key figures, target, and the support
# per year, field, district and in total), none per row.
FIGURES_QUERIES = 16
# The page: session, user and roles (3), the figures (16), the header's unread notifications (1), the
# session's save (3). District staff: two permission look-ups of Django's model backend and their district.
STAFF_PAGE_QUERIES = 23
DISTRICT_PAGE_QUERIES = 26


def test_the_dashboard_uses_a_fixed_number_of_queries_whatever_the_size(client, staff):
    district_user = district_staff_in(D1)
    grow(staff, 2)
    small = dashboard_queries(client, staff), dashboard_queries(client, district_user, D1)
    grow(staff, 18)  # ten times as many rows
    assert Application.objects.count() >= 10 * 2 * 2 * 5
    large = dashboard_queries(client, staff), dashboard_queries(client, district_user, D1)
    assert large == small
    (staff_figures, staff_page), (district_figures, district_page) = small
    assert staff_figures == district_figures == FIGURES_QUERIES
    assert staff_page <= STAFF_PAGE_QUERIES
    assert district_page <= DISTRICT_PAGE_QUERIES


def test_the_page_shows_the_figures_to_commission_staff(client, staff, world):
    client.force_login(staff)
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1" in body and "工作看板" in body
    stages = dict(re.findall(r'data-stage="(\w+)">(\d+)<', body))
    assert {k: int(v) for k, v in stages.items()} == ZERO_PIPELINE | EXPECTED[None]["pipeline"]
    assert re.search(r'id="recognised-count">4<', body)
    assert re.search(r'id="waiting-staff">7<', body)
    assert "已报送 4 / 应报送 7（截止 2025-03-31）" in body
    assert "逾期 3" in body
    assert body.count("超过一个") == 2  # F3: on the chart and in the table
    # Charts come with their numbers as a table: an SVG per chart, no script, nothing from a CDN.
    assert body.count("<svg") == 3
    # (a random CSRF token may contain the letters "cdn": look at what the page loads instead)
    assert not re.search(r'(src|href)="(https?:)?//', body), "the page loads something from another host"
    assert "350.75" in body and "420.75" in body  # R&D expense summed per year
    assert reverse("reports:export_new", args=["applications"]) in body


def test_the_page_of_district_staff_shows_their_district_only(client, world):
    client.force_login(district_staff_in(D2))
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "工作看板 · 渝中区" in body
    stages = dict(re.findall(r'data-stage="(\w+)">(\d+)<', body))
    assert {k: int(v) for k, v in stages.items()} == ZERO_PIPELINE | EXPECTED[D2]["pipeline"]
    assert re.search(r'id="recognised-count">1<', body)
    assert re.search(r'id="waiting-staff">2<', body)
    assert "已报送 2 / 应报送 3" in body
    assert "超过一个" not in body
    # No centre of another district appears by name; the 2023 R&D sum is D2's own (s3 only).
    for key in ("c1", "c2", "c3", "c4", "c5"):
        assert f"重庆市{key}创新中心" not in body
    assert "350.75" not in body and "200.00" in body


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_only_commission_and_district_staff_open_the_dashboard(client, role):
    client.force_login(user_with_role(role))
    status = client.get(reverse("reports:dashboard")).status_code
    assert status == (200 if role in (Role.COMMISSION_STAFF, Role.DISTRICT_STAFF) else 403)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# --- 6. the audit history of an application and its centre in one timeline ---------------------------------


def timeline_on_page(client, user, centre) -> list[str]:
    client.force_login(user)
    response = client.get(reverse("reports:centre", args=[centre.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    block = re.search(r'<ol class="list-unstyled timeline">(.*?)</ol>', body, re.S).group(1)
    return re.findall(r"<strong>(.*?)</strong>", block)


@pytest.fixture
def story(staff):
    """A centre whose application's entries and centre's entries interleave in time (days after T0):
    submitted 0 · experts assigned 20 (internal) · nomination 50 (centre) · approved 80 · awarded 90
    · excluded 95 (centre). The rows are written out of time order."""
    from centres import services as centre_services

    lead = lead_user_in(D1)
    centre = awarded_centre(lead_user=lead, name="重庆市时间线创新中心")
    application = centre.application

    def day(n):
        return T0 + datetime.timedelta(days=n)

    event_at(application, "award", "approved", "awarded", day(90), actor=staff, comment="牌匾编号CQMIC-001")
    event_at(application, "submit", "draft", "submitted", day(0), actor=lead)
    event_at(application, "approve", "publicity", "approved", day(80), actor=staff)
    event_at(
        application,
        "experts_assigned",
        "expert_review",
        "expert_review",
        day(20),
        actor=staff,
        comment="王专家、李专家",
        internal=True,
    )
    for action, comment, n in (("excluded", "考核不合格", 95), ("nomination", "争创国家级", 50)):
        with time_machine.travel(day(n), tick=False):  # written that day (the history is append-only)
            centre_services.add_event(centre, action, staff, comment)
    return centre, lead


def test_staff_see_the_application_and_the_centre_in_one_timeline_in_time_order(client, staff, story):
    from reports.centre_views import timeline

    centre, _lead = story
    rows = timeline(centre, staff=True)
    assert [(row["what"], row["source"]) for row in rows] == [
        ("提交", "application"),
        ("分配专家", "application"),
        ("推荐升级", "centre"),
        ("公示期满，予以批复", "application"),  # the approve transition's own label
        ("授牌", "application"),
        ("暂停支持", "centre"),
    ]
    assert [row["at"] for row in rows] == sorted(row["at"] for row in rows)
    assert timeline_on_page(client, staff, centre) == [row["what"] for row in rows]


def test_the_lead_unit_and_district_staff_do_not_see_internal_entries(client, staff, story):
    centre, lead = story
    expected = ["提交", "推荐升级", "公示期满，予以批复", "授牌", "暂停支持"]
    assert timeline_on_page(client, lead, centre) == expected
    assert timeline_on_page(client, district_staff_in(D1), centre) == expected
    client.force_login(lead)
    assert "王专家" not in client.get(reverse("reports:centre", args=[centre.pk])).content.decode()
    # Another lead unit, or another district, does not see the centre at all.
    for outsider in (lead_user_in(D1), district_staff_in(D2)):
        client.force_login(outsider)
        assert client.get(reverse("reports:centre", args=[centre.pk])).status_code == 403


def test_the_timeline_of_a_centre_awarded_by_the_real_steps(client, staff):
    """Through the real review and award: every step is there; who sat on the panel is for staff only."""
    from centres import services as centre_services

    application = application_approved(staff=staff, lead_user=lead_user_in(D1))
    publicity.record_approval(
        application, staff, document_number="渝经信发〔2026〕9号", document_date=timezone.localdate()
    )
    centre = publicity.award(
        application, staff, plaque_number="CQMIC-T-TL-1", award_date=timezone.localdate()
    )
    centre_services.add_event(centre, "nomination", staff, "争创国家级")

    for_staff = timeline_on_page(client, staff, centre)
    assert for_staff[:3] == ["提交", "受理并开始初审", "初审通过"]
    assert for_staff[-3:] == ["登记批复", "授牌", "推荐升级"]
    assert "分配专家" in for_staff
    for_lead = timeline_on_page(client, application.created_by, centre)
    assert "分配专家" not in for_lead
    assert [w for w in for_staff if w not in ("分配专家", "专家回避")] != [] and set(for_lead) <= set(
        for_staff
    )


def test_support_granted_and_disbursed_per_year_field_and_district(client, staff):
    """Issue 19: the support granted (下达, including what was then paid) and disbursed, in 万元."""
    from reports import support

    fields = list(Field.objects.order_by("sort_order", "name"))
    today = timezone.localdate()
    a = awarded_centre(
        lead_user=lead_user_in(D1), field=fields[0], award_date=today - datetime.timedelta(days=30)
    )
    b = awarded_centre(
        lead_user=lead_user_in(D2), field=fields[1], award_date=today - datetime.timedelta(days=30)
    )
    paid = support.plan(a, staff, kind="construction", year=2025, project_name="建设支持", amount="500")
    paid = support.grant(paid, staff, document_number="渝经信发〔2025〕1号", document_date=paid.planned_on)
    support.disburse(paid, staff, disbursed_on=paid.planned_on)
    granted = support.plan(b, staff, kind="construction", year=2026, project_name="建设支持", amount="300")
    support.grant(granted, staff, document_number="渝经信发〔2026〕2号", document_date=granted.planned_on)
    support.plan(
        b, staff, kind="construction", year=2026, project_name="只是拟支持", amount="999"
    )  # not counted

    whole = figures()["support"]
    assert (whole["granted"], whole["disbursed"], whole["centres"]) == (Decimal(800), Decimal(500), 2)
    tables = {
        key: {r["label"]: (r["granted"], r["disbursed"]) for r in rows} for _t, rows, key in whole["tables"]
    }
    assert tables["year"] == {2025: (Decimal(500), Decimal(500)), 2026: (Decimal(300), Decimal(0))}
    assert tables["field"] == {
        fields[0].name: (Decimal(500), Decimal(500)),
        fields[1].name: (Decimal(300), 0),
    }
    assert set(tables["district"]) == {district(D1).name, district(D2).name}
    one = figures(district(D1))["support"]
    assert (one["granted"], one["disbursed"]) == (Decimal(500), Decimal(500))
    assert [key for _t, _rows, key in one["tables"]] == ["year", "field"]

    client.force_login(staff)
    body = client.get(reverse("reports:dashboard")).content.decode()
    assert 'id="support-figures"' in body and "已下达 800.00，已拨付 500.00" in body
    assert 'id="support-year"' in body and 'id="support-district"' in body

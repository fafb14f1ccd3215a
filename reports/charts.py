"""Bar charts drawn as SVG by a template (``reports/_bars.html``), with no script and no library.

Hand-drawn rather than pygal or matplotlib: the charts are a handful of horizontal bars whose labels are
Chinese (or English) text. Drawn by the template, every label, value and tick is real text in the page's own
font (the CJK stack in portal.css), translated with the rest of the page, selectable, searchable and printed
as text; the chart lays out in page units (no viewBox scaling), so at 375 px the text keeps its size and the
bars get shorter. pygal would bring its own stylesheet and script hooks, matplotlib its own fonts (a CJK font
on every server) and text turned into paths.

Each category takes two lines: its name above, its bar below with the value written after it. The scale is
a "nice" axis (steps of 1, 2 or 5 times a power of ten) whose ticks are printed under the bars, so the length
of a bar can be read against numbers, not only against the longest bar.
"""

import math

from config.numbers import plain

PLOT_WIDTH = 85  # percent of the chart's width the axis spans; the rest leaves room for the last value
ROW_HEIGHT = 36  # px: the name line and the bar line
TOP = 4
AXIS_HEIGHT = 22


def nice_scale(top_value, *, integer: bool = True, intervals: int = 4) -> tuple[float, list]:
    """The axis' end and its ticks for values from 0 to ``top_value``: a step of 1, 2 or 5 times a power of
    ten giving at most ``intervals`` intervals (at least 1 for counts)."""
    top_value = float(top_value or 0)
    if top_value <= 0:
        return 1, [0, 1]
    raw = top_value / intervals
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1, round(step))
    end = math.ceil(top_value / step - 1e-9) * step
    count = round(end / step)
    ticks = [plain(step * i) for i in range(count + 1)]
    return plain(end), ticks


def bar_chart(rows: list[dict], key: str = "n", *, integer: bool = True) -> dict:
    """The geometry of a bar chart of ``rows`` (each a dict with its value under ``key``).

    Each row gets ``width`` (its bar in percent of the axis' end), ``bar`` (the same in percent of the
    chart's width), ``y`` (top of its name line, px) and ``value`` (the number to print). Returns the rows,
    the axis ticks (value and position in percent of the chart's width) and the chart's height in px."""
    end, ticks = nice_scale(max((r[key] for r in rows), default=0), integer=integer)
    for i, r in enumerate(rows):
        r["width"] = round(100 * float(r[key]) / float(end), 1)
        r["bar"] = round(PLOT_WIDTH * float(r[key]) / float(end), 2)
        r["y"] = TOP + i * ROW_HEIGHT
        r["value"] = plain(r[key])
    height = TOP + len(rows) * ROW_HEIGHT + AXIS_HEIGHT
    return {
        "rows": rows,
        "ticks": [{"value": t, "x": round(PLOT_WIDTH * t / end, 2)} for t in ticks],
        "axis_y": TOP + len(rows) * ROW_HEIGHT,
        "plot_width": PLOT_WIDTH,
        "height": height,
    }

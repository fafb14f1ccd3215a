"""Running real services as if it were another moment (the demo's history).

``at(moment)`` moves the process clock to ``moment`` and lets it tick from there, with time-machine: every
reader of the time sees it (``timezone.now()``, ``localdate()``, model defaults such as
``ApplicationEvent.created_at = default=timezone.now`` that hold the function itself, ``auto_now_add``),
so a step taken inside is recorded as taken then, by the same code as on any other day. Nested calls
move the clock again; leaving a block restores the clock outside it. Only for seeding demo data and
tests, never in a request.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import time_machine

CHINA = ZoneInfo("Asia/Shanghai")


def at(moment: datetime):
    """A context manager: the clock reads ``moment`` on entry and ticks on."""
    if moment.tzinfo is None:
        raise ValueError("the moment must be timezone-aware")
    return time_machine.travel(moment, tick=True)


def china(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """``day`` at ``hour:minute`` in Chongqing."""
    return datetime.combine(day, time(hour, minute), tzinfo=CHINA)

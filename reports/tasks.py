"""Thin Celery tasks after recognition."""

from celery import shared_task


@shared_task
def open_due_assessments() -> int:
    """Beat (daily): open the three-year assessment of every centre that reached its mark, once per cycle."""
    from reports.assessment import open_due_assessments as run

    return run()

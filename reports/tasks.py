"""Thin Celery tasks after recognition."""

from celery import shared_task


@shared_task
def open_due_assessments() -> int:
    """Beat (daily): open the three-year assessment of every centre that reached its mark, once per cycle."""
    from reports.assessment import end_expired_exclusions
    from reports.assessment import open_due_assessments as run

    end_expired_exclusions()
    return run()


@shared_task(acks_late=True)
def build_export(job_id: int) -> str:
    from reports.exports import build
    from reports.models import ExportJob

    job = ExportJob.objects.get(pk=job_id)
    if job.state == ExportJob.State.DONE:
        return job.state
    try:
        build(job)
    except Exception as error:
        ExportJob.objects.filter(pk=job_id).update(state=ExportJob.State.FAILED, error=str(error)[:300])
        raise
    return ExportJob.State.DONE


@shared_task
def remind_annual_summaries() -> int:
    """Beat (daily): remind lead units 30, 7 and 1 days before their annual summary is due, once each; tell
    them (and staff, in a digest) once when it becomes overdue."""
    from reports.summaries import notify_overdue, remind_due

    return remind_due() + notify_overdue()

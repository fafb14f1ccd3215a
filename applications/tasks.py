from celery import shared_task


@shared_task
def purge_unconfirmed_registrations() -> int:
    """Beat (every 6 hours): delete registrations whose e-mail stayed unconfirmed for the allowed days,
    with their files (``applications.registration.purge_stale``)."""
    from applications.registration import purge_stale

    return purge_stale()

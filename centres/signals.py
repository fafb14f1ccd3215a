from django.db.models.signals import post_save

from accounts import audit
from centres.models import CentreEvent


def _event(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        audit.record(
            f"centre.{instance.action}",
            actor=instance.actor,
            target=audit.target_of(instance.centre),
            detail=instance.comment[:2000],
        )


def connect():
    from django.db.models.signals import post_delete

    from accounts.models import Organisation
    from applications.models import Field
    from centres.models import Centre
    from config.public_cache import invalidate

    post_save.connect(_event, sender=CentreEvent, dispatch_uid="audit-centre-event")
    # The public directory shows centres, their fields and lead units.
    for model in (Centre, Field, Organisation):
        post_save.connect(invalidate, sender=model, dispatch_uid=f"public-cache-{model.__name__}")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"public-cache-del-{model.__name__}")

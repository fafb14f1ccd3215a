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
    # (The public directory's cache follows centres, fields and lead units: config.fragments.SCOPES.)
    post_save.connect(_event, sender=CentreEvent, dispatch_uid="audit-centre-event")

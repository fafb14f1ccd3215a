"""Every history record and policy version also goes to the audit log (the higher app calls the lower)."""

from django.db.models.signals import post_save

from accounts import audit
from applications.models import ApplicationEvent, Policy


def _event(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        audit.record(
            f"application.{instance.action}",
            actor=instance.actor,
            ip=instance.ip_address,
            target=audit.target_of(instance.application),
            detail=f"{instance.from_status}→{instance.to_status} {instance.comment}"[:2000],
        )


def _policy(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        audit.record(
            "policy.create", actor=instance.created_by, target=audit.target_of(instance), detail=str(instance)
        )


def connect():
    post_save.connect(_event, sender=ApplicationEvent, dispatch_uid="audit-application-event")
    post_save.connect(_policy, sender=Policy, dispatch_uid="audit-policy")

"""Writing notifications: the event and its deliveries in the caller's transaction, queued after commit."""

import logging

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from accounts.channels import channels
from accounts.models import Delivery, Notification, User
from config.after_commit import ReadHere, invalidate


def notify(recipients, template: str, context: dict, link: str = "") -> list[Notification]:
    """Tell each recipient about something: in the portal, and by each channel they chose that carries it.

    ``template`` names the kind of event and a pair ``notifications/<template>_subject.txt`` and
    ``notifications/<template>.txt``, rendered in each recipient's language (``User.language``, Chinese by
    default). Must be called inside the transaction of the step it reports: the notification and one
    ``Delivery`` per channel (``accounts.channels``) are written in it, and queued only if it commits.
    """
    from accounts.tasks import send_delivery

    created, deliveries = [], []
    active = channels()
    for user in {u.pk: u for u in recipients if u is not None and u.is_active}.values():
        with translation.override(user.language or settings.LANGUAGE_CODE):
            ctx = {**context, "recipient": user, "link": link, "base_url": settings.PORTAL_BASE_URL}
            subject = " ".join(render_to_string(f"notifications/{template}_subject.txt", ctx).split())
            body = render_to_string(f"notifications/{template}.txt", ctx)
            note = Notification.objects.create(
                recipient=user, kind=template, subject=subject, body=body, link=link
            )
            for channel in active:
                if channel.chosen_by(user) and (payload := channel.prepare(user, template, ctx)) is not None:
                    deliveries.append(Delivery(notification=note, channel=channel.name, payload=payload))
        created.append(note)
    if deliveries:
        pks = [delivery.pk for delivery in Delivery.objects.bulk_create(deliveries)]
        transaction.on_commit(lambda: _queue(send_delivery, pks))
    return created


UNREAD_TIMEOUT = 600


def _unread_key(user_id) -> str:
    return f"unread-notifications:{user_id}"


def unread_count(user) -> int:
    """The header's badge: counted once, then kept in the cache until a notification arrives or is read."""
    from django.core.cache import cache

    _counted.items.add(user.pk)
    try:
        count = cache.get(_unread_key(user.pk))
    except Exception:  # the cache is down: count every time
        count = None
    if count is None:
        count = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        try:
            cache.set(_unread_key(user.pk), count, UNREAD_TIMEOUT)
        except Exception as error:
            logging.getLogger(__name__).warning("unread count not cached: %s", error)
    return count


def _drop_unread(user_ids) -> None:
    from django.core.cache import cache

    try:
        cache.delete_many([_unread_key(pk) for pk in user_ids])
    except Exception as error:
        logging.getLogger(__name__).warning("unread counts not dropped: %s", error)


_counted = ReadHere()  # the people whose count this thread has read since it last dropped it


def forget_unread(user_id) -> None:
    """Drop the cached count when the change commits (the drops of one transaction gathered), and at once
    if this thread has read that count meanwhile (config.after_commit.invalidate)."""
    invalidate("unread-counts", user_id, _drop_unread, _counted)


def _notification_saved(sender, instance, **kwargs):
    forget_unread(instance.recipient_id)


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_notification_saved, sender=Notification, dispatch_uid="unread-count-save")
    post_delete.connect(_notification_saved, sender=Notification, dispatch_uid="unread-count-delete")


def _queue(task, pks):
    """Queue the deliveries. If the broker is down, stop at the first failure: the rows stay in the outbox
    and the beat's retry sweep sends them when it is back (the step itself has committed already)."""
    for pk in pks:
        try:
            task.delay(pk)
        except Exception:  # the outbox row is the source of truth
            logging.getLogger(__name__).warning(
                "could not queue notification deliveries %s; the retry sweep will send them",
                pks[pks.index(pk) :],
            )
            return


def users_with_role(role: str):
    return User.objects.filter(groups__name=role, is_active=True)

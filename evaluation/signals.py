"""The public announcement list is cached; any change of an announcement or its list invalidates it."""

from django.db.models.signals import post_delete, post_save

from config.public_cache import invalidate
from evaluation.models import Announcement, AnnouncementEntry


def connect():
    for model in (Announcement, AnnouncementEntry):
        post_save.connect(invalidate, sender=model, dispatch_uid=f"public-cache-{model.__name__}")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"public-cache-del-{model.__name__}")

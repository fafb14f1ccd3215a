"""The Celery application. Its configuration is the CELERY_* block in ``config/settings/base.py``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("cqmic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

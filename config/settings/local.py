"""The demo and development mode: ``make run`` and ``manage.py`` use it unless told otherwise."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DEBUG", default=True)

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = _("建设方案申报")

    def ready(self):
        from applications import signals

        signals.connect()

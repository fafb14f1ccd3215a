from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CentresConfig(AppConfig):
    name = "centres"
    verbose_name = _("创新中心")

    def ready(self):
        from centres import signals

        signals.connect()

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CentresConfig(AppConfig):
    name = "centres"
    verbose_name = _("创新中心")

    def ready(self):
        from accounts import audit_names
        from centres import signals
        from centres.models import CENTRE_ACTION_LABELS

        signals.connect()
        audit_names.register_actions("centre", CENTRE_ACTION_LABELS)
        audit_names.register_target("centres.Centre", "reports:centre", "reports.view_centre")

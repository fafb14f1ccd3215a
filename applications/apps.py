from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = _("建设方案申报")

    def ready(self):
        from accounts import audit_names
        from applications import signals
        from applications.models import ACTION_LABELS, transition_labels

        signals.connect()
        # every history entry by name: moves by their transitions' labels, the rest by ACTION_LABELS
        audit_names.register_actions("application", {**transition_labels(), **ACTION_LABELS})
        audit_names.register_target("applications.Application", "applications:detail", "applications.view")
        audit_names.register_target("applications.Policy", None, None)

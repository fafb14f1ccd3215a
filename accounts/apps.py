from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("用户与单位")

    def ready(self):
        from accounts import audit, notifications

        audit.connect()
        notifications.connect()

        from config import fragments

        fragments.connect()

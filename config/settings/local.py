"""The demo and development mode: ``make run`` and ``manage.py`` use it unless told otherwise."""

from config.settings.base import *  # noqa: F403
from config.settings.base import SMS_TEMPLATES, env

DEBUG = env.bool("DEBUG", default=True)

# The demo signs in without an authenticator app unless TWO_FACTOR_ROLES is set; production requires it.
TWO_FACTOR_ROLES = env.list("TWO_FACTOR_ROLES", default=[])

# On a developer's machine the details of /healthz are for the machine itself.
HEALTHZ_DETAIL_ADDRESSES = env.list("HEALTHZ_DETAIL_ADDRESSES", default=["127.0.0.1", "::1"])
# SMS goes to a file per day under /tmp (never inside the checkout), every kind with a stand-in template code.
SMS_BACKEND = env("SMS_BACKEND", default="accounts.sms.FileBackend")
SMS_TEMPLATE_CODES = env.dict("SMS_TEMPLATE_CODES", default={kind: f"DEV-{kind}" for kind in SMS_TEMPLATES})
for _kind, _template in SMS_TEMPLATES.items():
    _template["code"] = SMS_TEMPLATE_CODES.get(_kind, "")

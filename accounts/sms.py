"""SMS provider backends (``settings.SMS_BACKEND``), as Django's e-mail backends are for e-mail.

Each has ``send(number, template, params, text) -> reference``: the provider's pre-approved template code and
its parameters in the template's order; ``text`` is the same message written out, for the development
backends and the record. Failures raise ``accounts.channels.ChannelDown`` (try again later) or
``NothingToSend`` (the provider refuses this number for good: wrong, blacklisted, its own daily limit).
"""

import json
import sys
import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from accounts.channels import ChannelDown, NothingToSend


def masked(number: str) -> str:
    return f"{number[:3]}****{number[-4:]}" if len(number) >= 8 else "****"


class ConsoleBackend:
    """Development: writes each message to standard output."""

    def send(self, number, template, params, text) -> str:
        reference = f"console-{uuid.uuid4().hex[:12]}"
        sys.stdout.write(
            f"[SMS to {number} template {template} {json.dumps(params, ensure_ascii=False)}] {text}\n"
        )
        sys.stdout.flush()
        return reference


class FileBackend:
    """Development: appends each message as one JSON line to a file per day under ``SMS_FILE_PATH``, which
    must lie outside the checkout (the lines carry people's mobile numbers)."""

    _lock = threading.Lock()

    def __init__(self):
        folder = Path(settings.SMS_FILE_PATH).resolve()
        if folder.is_relative_to(Path(settings.BASE_DIR).resolve()):
            raise ImproperlyConfigured(f"SMS_FILE_PATH must lie outside the checkout: {folder}")
        self.folder = folder

    def send(self, number, template, params, text) -> str:
        reference = f"file-{uuid.uuid4().hex[:12]}"
        now = timezone.localtime()
        line = {"at": now.isoformat(), "to": number, "template": template, "params": params, "text": text}
        self.folder.mkdir(parents=True, exist_ok=True)
        with self._lock, (self.folder / f"{now:%Y-%m-%d}.jsonl").open("a", encoding="utf-8") as out:
            out.write(json.dumps({**line, "reference": reference}, ensure_ascii=False) + "\n")
        return reference


outbox: list[dict] = []  # what MemoryBackend sent, for tests (as django.core.mail.outbox)


class MemoryBackend:
    """Tests: keeps each message in ``accounts.sms.outbox``."""

    def send(self, number, template, params, text) -> str:
        reference = f"memory-{len(outbox) + 1}"
        outbox.append({"to": number, "template": template, "params": list(params), "text": text})
        return reference


# Tencent Cloud answers these per number: the number itself is refused, so retrying cannot help.
REFUSED_NUMBER_CODES = (
    "InvalidParameterValue.IncorrectPhoneNumber",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.PhoneNumberOnBlacklist",
    "LimitExceeded.PhoneNumber",
)


class TencentBackend:
    """Tencent Cloud SMS (API 2021-01-11, ``SendSms``) through its SDK, ``tencentcloud-sdk-python-sms``.

    Settings: ``SMS_TENCENT_SECRET_ID`` / ``SMS_TENCENT_SECRET_KEY`` (a CAM key allowed only ``sms:SendSms``),
    ``SMS_TENCENT_APP_ID`` (SmsSdkAppId), ``SMS_SIGN_NAME`` (the approved signature), ``SMS_TENCENT_REGION``,
    ``SMS_ENDPOINT_URL`` (default ``https://sms.tencentcloudapi.com``; a private endpoint or a test server
    can be named) and ``SMS_TIMEOUT`` seconds.
    """

    def __init__(self):
        endpoint = urlsplit(settings.SMS_ENDPOINT_URL or "https://sms.tencentcloudapi.com")
        http = HttpProfile(
            protocol=endpoint.scheme or "https", endpoint=endpoint.netloc, reqTimeout=settings.SMS_TIMEOUT
        )
        self.client = sms_client.SmsClient(
            credential.Credential(settings.SMS_TENCENT_SECRET_ID, settings.SMS_TENCENT_SECRET_KEY),
            settings.SMS_TENCENT_REGION,
            ClientProfile(httpProfile=http),
        )

    def send(self, number, template, params, text) -> str:
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [f"+86{number}"]
        request.SmsSdkAppId = settings.SMS_TENCENT_APP_ID
        request.SignName = settings.SMS_SIGN_NAME
        request.TemplateId = str(template)
        request.TemplateParamSet = [str(value) for value in params]
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:  # the whole request failed: network, key, quota, server
            raise ChannelDown(f"{exc.get_code()}: {exc.get_message()}") from exc
        [status] = response.SendStatusSet
        if status.Code == "Ok":
            return status.SerialNo or response.RequestId
        reason = f"{status.Code}: {status.Message} (to {masked(number)})"
        if status.Code.startswith(REFUSED_NUMBER_CODES):
            raise NothingToSend(reason)
        raise ChannelDown(reason)

"""Verifiable documents: the QR code of the approval notice and the plaque sheet leads to /verify/<token>/.

One active code per application and document; the token is 32 random bytes (``secrets.token_urlsafe``), so
addresses cannot be guessed or enumerated. Revoking a code (audited) makes its address a plain 404, and the
next print carries a new one.
"""

import base64
import io
import secrets

import qrcode
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import audit
from applications.services import ActionRefused
from evaluation.models import VerificationCode


def code_for(application, kind: str) -> VerificationCode:
    """The active code of ``application``'s document ``kind``, made the first time it is printed."""
    found = VerificationCode.objects.filter(
        application=application, kind=kind, revoked_at__isnull=True
    ).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return VerificationCode.objects.create(
                application=application, kind=kind, token=secrets.token_urlsafe(32)
            )
    except IntegrityError:  # printed by someone else at the same moment
        return VerificationCode.objects.get(application=application, kind=kind, revoked_at__isnull=True)


def revoke(code: VerificationCode, *, by, reason: str, ip=None) -> VerificationCode:
    if not reason.strip():
        raise ActionRefused(_("请填写吊销理由。"))
    with transaction.atomic():
        code = VerificationCode.objects.select_for_update().get(pk=code.pk)
        if code.revoked_at is not None:
            raise ActionRefused(_("该核验码已吊销。"))
        code.revoked_at = timezone.now()
        code.revoked_by = by
        code.revoke_reason = reason.strip()[:200]
        code.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        audit.record(
            "verification.revoked", actor=by, ip=ip, target=audit.target_of(code), detail=code.revoke_reason
        )
    return code


def find(token: str) -> VerificationCode | None:
    """The active code with ``token``, with what the verification page shows, else None."""
    if not token or len(token) > 64:
        return None
    return (
        VerificationCode.objects.select_related("application__approval", "application__lead_unit")
        .filter(token=token, revoked_at__isnull=True)
        .first()
    )


def address(request, code: VerificationCode) -> str:
    return request.build_absolute_uri(reverse("verify:document", args=[code.token]))


def qr_png(url: str) -> str:
    """The QR code of ``url`` as a PNG data URI (printed by browsers and WeasyPrint alike)."""
    image = qrcode.make(url, box_size=6, border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def qr_context(request, application, kind: str) -> dict:
    code = code_for(application, kind)
    url = address(request, code)
    return {"verify_url": url, "verify_qr": qr_png(url)}

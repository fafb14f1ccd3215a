"""Checking an uploaded file before it is stored: size, real type (by content), a safe display name."""

import hashlib
import unicodedata
from pathlib import PureWindowsPath

import filetype
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from applications.models import Attachment

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
ALLOWED_TYPES = {
    Attachment.Kind.PLAN: {PDF},
    Attachment.Kind.AGREEMENT: {PDF, JPEG, PNG},
    Attachment.Kind.LICENCE: {PDF, JPEG, PNG},
    Attachment.Kind.AUDIT: {PDF},
    Attachment.Kind.OTHER: {PDF, JPEG, PNG},
}
TYPE_NAMES = {PDF: "PDF", JPEG: "JPG", PNG: "PNG"}


def safe_name(name: str) -> str:
    """The last path component only, without control characters, at most 200 characters."""
    base = PureWindowsPath(name or "").name  # strips both / and \\ directories
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C" and ch not in '<>:"|?*')
    cleaned = cleaned.strip(" .") or "file"
    return cleaned[-200:]


def inspect(upload, kind: str, max_mb: int, *, allowed=None, label=None) -> dict:
    """Validate ``upload`` for attachment ``kind`` (or for the types ``allowed``, named ``label``, of a file
    that is not an application's attachment); return the facts to store, or raise ValidationError."""
    name = safe_name(upload.name)
    if upload.size == 0:
        raise ValidationError(_("文件“%(name)s”是空文件。") % {"name": name}, code="empty")
    if upload.size > max_mb * 1024 * 1024:
        raise ValidationError(
            _("文件“%(name)s”大小为%(size).1fMB，超过了%(max)dMB的上限。")
            % {"name": name, "size": upload.size / 1024 / 1024, "max": max_mb},
            code="too_large",
        )
    upload.seek(0)
    head = upload.read(8192)
    guessed = filetype.guess(head)
    allowed = allowed or ALLOWED_TYPES[kind]
    if guessed is None or guessed.mime not in allowed:
        raise ValidationError(
            _("文件“%(name)s”的实际内容不是允许的类型（%(kind)s只接受%(types)s），请检查后重新上传。")
            % {
                "name": name,
                "kind": label or Attachment.Kind(kind).label,
                "types": "、".join(sorted(TYPE_NAMES[t] for t in allowed)),
            },
            code="wrong_type",
        )
    digest = hashlib.sha256(head)
    for chunk in iter(lambda: upload.read(1024 * 1024), b""):
        digest.update(chunk)
    upload.seek(0)
    return {
        "original_name": name,
        "content_type": guessed.mime,
        "size": upload.size,
        "sha256": digest.hexdigest(),
    }

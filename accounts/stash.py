"""Keeping uploaded files across a failed form submission.

A browser cannot resend a file after the form comes back with errors; the files that were fine are kept
here (storage + a cache entry for one hour) under a random token that the form carries in a hidden field.
"""

import logging
import secrets

from django.core.cache import cache
from django.core.files import File
from django.core.files.storage import default_storage

TTL = 60 * 60
log = logging.getLogger(__name__)


def _entries(token: str) -> dict:
    try:
        return cache.get(_key(token)) or {}
    except Exception as error:  # the cache is down: nothing kept, the visitor chooses the files again
        log.warning("upload stash unavailable: %s", error)
        return {}


def _key(token: str) -> str:
    return f"upload-stash:{token}"


def keep(token: str | None, uploads: dict) -> str:
    """Store ``{field: UploadedFile}``; return the token (new or the given one)."""
    token = token if token and token.isalnum() and len(token) == 32 else secrets.token_hex(16)
    entries = _entries(token)
    try:
        for field, upload in uploads.items():
            upload.seek(0)
            path = default_storage.save(f"stash/{token}/{field}", upload)
            entries[field] = {"path": path, "name": upload.name}
        cache.set(_key(token), entries, TTL)
    except Exception as error:
        log.warning("files not kept across the failed submission: %s", error)
    return token


def names(token: str | None) -> dict:
    """``{field: original name}`` of what is kept under ``token``."""
    if not token:
        return {}
    return {field: entry["name"] for field, entry in _entries(token).items()}


def restore(token: str | None, files) -> dict:
    """Files kept under ``token`` for the fields the new submission left empty, as Django ``File`` objects."""
    if not token:
        return {}
    restored = {}
    for field, entry in _entries(token).items():
        if not files.get(field) and default_storage.exists(entry["path"]):
            handle = default_storage.open(entry["path"], "rb")
            restored[field] = File(handle, name=entry["name"])
            restored[field].size = default_storage.size(entry["path"])
    return restored


def discard(token: str | None) -> None:
    if not token:
        return
    for entry in _entries(token).values():
        default_storage.delete(entry["path"])
    try:
        cache.delete(_key(token))
    except Exception as error:
        log.warning("upload stash not cleared: %s", error)


def files_with_stash(request, token):
    """A POST's files with the kept ones filled in for the fields the new submission left empty."""
    if request.method != "POST":
        return None
    files = request.FILES.copy()
    files.update(restore(token, request.FILES))
    return files


def keep_passed(request, token: str | None, errors, names) -> str | None:
    """After a failed submission: keep each uploaded file of ``names`` whose own field has no error."""
    good = {name: request.FILES[name] for name in names if name in request.FILES and name not in errors}
    return keep(token, good) if good else token

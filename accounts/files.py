"""Where uploaded files are stored: never under the name they were uploaded with."""

import uuid
from pathlib import PurePath

SUFFIX_BY_TYPE = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
KNOWN_SUFFIXES = {".pdf", ".jpg", ".jpeg", ".png"}


def random_name(folder: str, *, content_type: str = "", filename: str = "") -> str:
    """``folder/<random>.<suffix>``: the suffix of the type found in the content when known, else a known
    suffix of the uploaded name, else none."""
    suffix = SUFFIX_BY_TYPE.get(content_type, "")
    if not suffix:
        named = PurePath(filename).suffix.lower()
        suffix = named if named in KNOWN_SUFFIXES else ""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def private_file_response(file, *, filename: str, content_type: str = "", as_attachment: bool = True):
    """An uploaded file for someone whose permission the view has checked: never sniffed as another type,
    never kept by a browser or a proxy (``private, no-store``)."""
    from django.http import FileResponse

    response = FileResponse(
        file.open("rb"),
        as_attachment=as_attachment,
        filename=filename,
        content_type=content_type or None,  # none known: guessed from the name
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response

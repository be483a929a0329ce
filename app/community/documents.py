"""A signed document or a notice's attachment: a PDF (checked to be one) or a photo
(checked, shrunk and re-encoded like repair photos), kept outside the web root."""

from __future__ import annotations

import secrets

from app.core import photos
from app.core.errors import N_, DomainError, FieldError

MAX_BYTES = 10 * 1024 * 1024


def check(data: bytes, filename: str, field: str) -> tuple[bool, object]:
    """(is it a PDF, what to store); a refusal names `field`."""
    if len(data) > MAX_BYTES:
        raise FieldError(field, N_("The file is larger than 10 MB."))
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:
            raise FieldError(field, N_("This PDF is incomplete or damaged."))
        return True, data
    if filename.lower().endswith(".pdf"):
        raise FieldError(field, N_("This file is not a PDF."))
    try:
        return False, photos.prepare(data)
    except DomainError as exc:
        raise FieldError(field, exc.message, **exc.params) from exc


def store(is_pdf: bool, content, folder, prefix: str) -> str:
    """Write what `check` returned; returns the stored name."""
    if is_pdf:
        name = f"{prefix}-{secrets.token_hex(16)}.pdf"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
        return name
    return photos.save(content, folder).name

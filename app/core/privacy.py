"""Personal-information helpers (PIPL): masking, no Flask here."""

import re
import unicodedata

from app.core.errors import N_, DomainError

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def normalize_mobile(text: str | None) -> str | None:
    """Return an 11-digit mainland mobile number, or None if empty; raise if malformed."""
    if text is None:
        return None
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", str(text)))
    if digits.endswith(".0"):  # Excel stores phone numbers as floats
        digits = digits[:-2]
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not digits:
        return None
    if not MOBILE_RE.match(digits):
        raise ValueError(digits)
    return digits


def mask_phone(phone: str | None) -> str:
    """Mask a mobile number as 138****5678."""
    if not phone:
        return ""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def require_mobile(text: str | None) -> str:
    """An 11-digit mainland mobile number, or a DomainError saying what is wanted."""
    try:
        phone = normalize_mobile(text)
    except ValueError:
        phone = None
    if not phone:
        raise DomainError(N_("Enter an 11-digit mobile number."))
    return phone

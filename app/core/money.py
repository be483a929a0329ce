"""Money is integer fen end to end; this module converts at the edges."""

import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency


class MoneyError(ValueError):
    """An amount that cannot be read as yuan with at most two decimals."""


# Only the full-width forms a Chinese keyboard types; no other Unicode digit look-alikes.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９，．－￥", "0123456789,.-¥")
_AMOUNT = re.compile(r"-?(?:\d+|[1-9]\d{0,2}(?:,\d{3})+)(?:\.\d+)?")
_DECIMAL = re.compile(r"\d{1,6}(?:\.\d+)?")
# "100元", "100 元" and "100块" are how people write an amount; the unit comes last, once.
_YUAN_UNIT = re.compile(r"\s*(?:元|块)$")


def ascii_number_text(text: str) -> str:
    """Full-width digits and marks to ASCII, spaces trimmed; everything else as typed."""
    return (text or "").translate(_FULL_WIDTH).strip()


def parse_decimal(text: str, *, places: int, maximum: Decimal) -> Decimal:
    """A plain non-negative decimal typed by a person (a rate, a percentage, a floor
    coefficient): digits and one point only, at most `places` decimals, at most
    `maximum`. No exponents, underscores or other scripts. Raises MoneyError."""
    cleaned = ascii_number_text(text)
    if not cleaned.isascii() or not _DECIMAL.fullmatch(cleaned):
        raise MoneyError("not a number")
    value = Decimal(cleaned)
    if value != value.quantize(Decimal(1).scaleb(-places)) or value > maximum:
        raise MoneyError("out of range")
    return value


def parse_yuan(text: str, *, max_fen: int = 10**12) -> int:
    """Parse a yuan amount typed by a person ("1,234.5", "１２３") into integer fen.

    Full-width digits from Chinese keyboards are read as digits; the currency may be
    written before ("¥100") or after ("100元", "100 元", "100块"), once. Anything else
    that is not plain digits (a decimal comma "1,5", "1_0", exponents, other scripts, a
    sign inside the number) is refused rather than guessed.
    """
    cleaned = _YUAN_UNIT.sub("", ascii_number_text(text), count=1)
    if cleaned.startswith("¥"):
        cleaned = cleaned[1:]
    cleaned = cleaned.strip()
    if not cleaned.isascii() or not _AMOUNT.fullmatch(cleaned):
        raise MoneyError("not a number")
    value = Decimal(cleaned.replace(",", ""))
    if value.adjusted() > len(str(max_fen)) or abs(value) * 100 > max_fen:
        raise MoneyError("too large")
    if value != value.quantize(Decimal("0.01")):
        raise MoneyError("more than two decimals")
    fen = int(value * 100)
    if fen < 0:
        raise MoneyError("negative")
    if fen > max_fen:
        raise MoneyError("too large")
    return fen


def fen_to_yuan(fen: int) -> Decimal:
    """Return the exact yuan value of an integer number of fen."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def format_fen(fen: int, locale: str) -> str:
    """Format fen as currency in the given locale, e.g. ¥1,234.50."""
    return format_currency(fen_to_yuan(fen), "CNY", locale=locale)

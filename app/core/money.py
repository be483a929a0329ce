"""Money is integer fen end to end; this module converts at the edges."""

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency


class MoneyError(ValueError):
    """An amount that cannot be read as yuan with at most two decimals."""


_AMOUNT = re.compile(r"-?(?:\d+|\d{1,3}(?:,\d{3})+)(?:\.\d+)?")


def parse_yuan(text: str, *, max_fen: int = 10**12) -> int:
    """Parse a yuan amount typed by a person ("1,234.5", "１２３") into integer fen.

    Full-width digits from Chinese keyboards are read as digits; anything else that is
    not plain digits (a decimal comma "1,5", "1_0", exponents, other scripts) is refused
    rather than guessed.
    """
    cleaned = unicodedata.normalize("NFKC", text or "").strip()
    cleaned = cleaned.replace("¥", "").replace("￥", "").strip()
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

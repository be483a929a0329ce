"""What the dues modules share: amounts typed by people, row locks, removing a stored file."""

from __future__ import annotations

from pathlib import Path

from app.community.models import Dwelling
from app.core.db import lock_rows
from app.core.errors import N_
from app.core.money import MoneyError, parse_yuan
from app.dues.errors import FieldError
from app.dues.models import (
    CostItem,
)

MAX_PAYMENT_FEN = 10**10  # ¥100 million: anything larger is a typing error


def parse_amount(text: str, *, max_fen: int = MAX_PAYMENT_FEN, field: str = "amount") -> int:
    """An amount typed in yuan ("1280.50", "¥1,280.50", "100元"), to fen; each kind of
    mistake gets its own message, shown next to the field."""
    try:
        fen = parse_yuan(text, max_fen=max_fen)
    except MoneyError as exc:
        reason = str(exc)
        if not (text or "").strip():
            raise FieldError(field, N_("Enter the amount in yuan, e.g. 1280.50.")) from exc
        if reason == "more than two decimals":
            raise FieldError(
                field, N_("An amount has at most two decimals (fen), e.g. 1280.50.")
            ) from exc
        if reason == "negative":
            raise FieldError(field, N_("The amount cannot be negative.")) from exc
        if reason == "too large":
            raise FieldError(field, N_("That amount is far too large; check the digits.")) from exc
        raise FieldError(
            field,
            N_("“%(text)s” is not an amount in yuan; write e.g. 1280.50."),
            text=(text or "")[:20],
        ) from exc
    if fen == 0:
        raise FieldError(field, N_("The amount must be more than zero."))
    return fen


def _lock_homes(compound_id: int) -> None:
    """Lock every home of a compound (imports and public-income uses touch many)."""
    lock_rows(Dwelling.updated_at, Dwelling.compound_id == compound_id)


def _lock_item(item_id: int | None) -> None:
    """Wait for a change of the item's amounts (services.change_item locks it too)."""
    if item_id is not None:
        lock_rows(CostItem.version, CostItem.id == item_id)


def _lock_dwelling(dwelling_id: int) -> None:
    """Serialise every balance change of one home (see the module docstring)."""
    lock_rows(Dwelling.updated_at, Dwelling.id == dwelling_id)


def rules_yuan(fen: int) -> str:
    """¥1,234.50 in plain digits for messages (the page formats amounts by locale)."""
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def _remove(upload_dir: Path, stored) -> None:
    if stored is not None:
        (upload_dir / stored.name).unlink(missing_ok=True)

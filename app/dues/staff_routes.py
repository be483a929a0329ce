"""Staff pages for dues: the overview and the property fee, pending payments, one home's
statement and hardship, the ledger export; and the helpers the other staff pages share
(cost items: staff_items; public income and the fund import: staff_income)."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.permissions import Capability
from app.community.models import Compound, Dwelling
from app.community.permissions import compound_staff_required
from app.community.services import clamp_page, get_staff_dwelling
from app.core import pagecache
from app.core.errors import N_, DomainError, NotFound
from app.core.flashing import flash_error
from app.core.forms import ConfirmForm
from app.core.i18n import fmt_money
from app.core.money import MoneyError, fen_to_yuan, parse_yuan
from app.dues import bills, bp, export, fees, figures, funds, payments, public_income, shared
from app.dues.errors import FieldError, FormErrors
from app.dues.forms import FeeForm, HardshipForm, RejectForm
from app.extensions import db

VIEW = Capability.SEE_DUES  # see everything; add and change cost items
MANAGE = Capability.MANAGE_PAYMENTS  # confirm payments, income entries, fund import, fee
APPROVE = Capability.APPROVE_DUES  # hardship, fund gate, using public income
PREFIX = "/staff/compounds/<int:compound_id>/dues"
MAX_ITEM_FEN = 10**12  # what costs.add_item accepts
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- small helpers: roles, posted values, parsing ---------------------------------------------


def _can(compound: Compound, capability: Capability) -> bool:
    return current_user.can(compound.id, capability)


def _require(compound: Compound, capability: Capability) -> None:
    """A POST the person may not make is refused like a forged id: 404."""
    if not _can(compound, capability):
        raise NotFound()


def _posted(errors: FormErrors | None = None) -> bool:
    """The CSRF check of every POST; an expired form is a message, not an error page (a
    page shown again for it answers 400)."""
    if ConfirmForm().validate_on_submit():
        return True
    flash(_("The form expired. Please try again."), "error")
    if errors is not None:
        errors.expired = True
    return False


def _refused(exc: DomainError) -> None:
    """Undo what the service left in the session and show its message; a NotFound
    (an id of another compound) stays a 404. For actions without typed input (the page
    redirects); forms the person typed into show FormErrors next to the fields."""
    db.session.rollback()
    if isinstance(exc, NotFound):
        raise exc
    flash_error(exc)


def _date(text: str, field: str) -> date:
    message = N_("Write the date as year-month-day, e.g. 2026-11-26.")
    try:
        value = date.fromisoformat((text or "").strip())
    except ValueError as exc:
        raise FieldError(field, message) from exc
    if not 2000 <= value.year <= 2100:
        raise FieldError(field, N_("Choose a date from the year 2000 to 2100."))
    return value


def _optional_amount(text: str, field: str = "subsidy") -> int:
    """An amount that may be left empty or zero (a subsidy); other mistakes as usual."""
    if not (text or "").strip():
        return 0
    try:
        if parse_yuan(text, max_fen=MAX_ITEM_FEN) == 0:
            return 0
    except MoneyError:
        pass
    return shared.parse_amount(text, max_fen=MAX_ITEM_FEN, field=field)


def _yuan_text(fen: int) -> str:
    """12345 -> "123.45", to prefill an amount field."""
    return str(fen_to_yuan(fen))


def _home(compound: Compound, dwelling_id: int, *capabilities: Capability) -> Dwelling:
    """A home of this compound for staff who may do one of these things; else 404."""
    home = get_staff_dwelling(dwelling_id, current_user, *(capabilities or (VIEW,)))
    if home.compound_id != compound.id:
        raise NotFound()
    return home


def _download_name(compound: Compound, suffix: str) -> str:
    """An attachment header that survives any compound name (CJK, quotes, slashes)."""
    name = re.sub(r"[^\w.-]+", "-", compound.name).strip("-.")[:60] or str(compound.id)
    return (
        f"attachment; filename=dues-{compound.id}.{suffix}; "
        f"filename*=UTF-8''{quote(f'dues-{name}.{suffix}', safe='')}"
    )


# --- overview and property fee ----------------------------------------------------------------


@bp.get(PREFIX)
@compound_staff_required(VIEW)
@pagecache.per_staff
def staff_dues(compound):
    """The compound's dues at a glance: costs, arrears by building, funds and the tools."""
    return _overview(compound)


def _overview(compound: Compound, fee: FeeForm | None = None, errors: FormErrors | None = None):
    settings = fees.settings_of(compound.id)
    rate_now = fees.current_rate(compound.id)
    errors = errors if errors is not None else FormErrors()
    if fee is None:
        fee = FeeForm(formdata=None)
        fee.rate.data = fees.fee_rate_text(rate_now)
        fee.starts_on.data = settings.fee_starts_on.isoformat() if settings.fee_starts_on else ""
    return render_template(
        "dues/staff_dues.html",
        compound=compound,
        split=figures.cost_split(compound),
        arrears=figures.arrears_by_building(compound),
        pending_count=payments.pending_count(compound),
        fund=funds.fund_summary(compound),
        income=public_income.income_balance(compound.id),
        settings=settings,
        rate_text=fees.fee_rate_text(rate_now),
        fee=fee.show(errors),
        rates=fees.rates_of(compound.id),
        rate_label=fees.fee_rate_text,
        can_manage=_can(compound, MANAGE),
        errors=errors,
    ), errors.status


@bp.post(PREFIX + "/fee")
@compound_staff_required(MANAGE)
def staff_fee(compound):
    """Set the property fee: yuan per m² per month, and the date billing starts."""
    fee = FeeForm()
    errors = FormErrors()
    if _posted(errors):
        errors.attempt(fees.parse_fee_rate, fee.rate.data)
        starts_on = (
            errors.attempt(_date, fee.starts_on.data, "starts_on")
            if fee.starts_on.data.strip()
            else None
        )
        effective = (
            errors.attempt(_date, fee.effective_from.data, "effective_from")
            if fee.effective_from.data.strip()
            else None
        )
        if not errors:
            errors.attempt(
                fees.set_property_fee,
                compound,
                rate_yuan=fee.rate.data,
                starts_on=starts_on,
                effective_from=effective,
                default="rate",
            )
        if not errors:
            flash(_("Property fee saved."), "success")
            return redirect(url_for("dues.staff_dues", compound_id=compound.id))
        db.session.rollback()
    return _overview(compound, fee, errors)


# --- pending payments -------------------------------------------------------------------------


@bp.get(PREFIX + "/pending")
@compound_staff_required(VIEW)
@pagecache.per_staff
def staff_pending(compound):
    """Payments residents recorded, oldest first, to confirm or reject."""
    count = payments.pending_count(compound)
    pages = max((count + payments.PENDING_PER_PAGE - 1) // payments.PENDING_PER_PAGE, 1)
    page = min(clamp_page(request.args.get("page", type=int)), pages)
    return render_template(
        "dues/staff_pending.html",
        compound=compound,
        payments=payments.pending_payments(compound, page),
        count=count,
        page=page,
        pages=pages,
        can_decide=_can(compound, MANAGE),
    )


def _after_decision(compound: Compound, dwelling_id: int):
    if request.form.get("back") == "home":
        return redirect(
            url_for("dues.staff_home", compound_id=compound.id, dwelling_id=dwelling_id)
        )
    return redirect(url_for("dues.staff_pending", compound_id=compound.id))


@bp.post(PREFIX + "/payments/<int:payment_id>/confirm")
@compound_staff_required(MANAGE)
def staff_confirm(compound, payment_id: int):
    """Confirm a payment; confirming it twice changes nothing."""
    payment = payments.get_payment_for_staff(payment_id, compound)
    dwelling_id = payment.dwelling_id
    if _posted():
        try:
            changed = payments.confirm_payment(payment, current_user)
        except DomainError as exc:
            _refused(exc)
        else:
            if changed:
                flash(_("Payment confirmed."), "success")
            else:
                flash(_("This payment was already confirmed."), "info")
    return _after_decision(compound, dwelling_id)


@bp.route(PREFIX + "/payments/<int:payment_id>/reject", methods=["GET", "POST"])
@compound_staff_required(MANAGE)
def staff_reject(compound, payment_id: int):
    """Reject a payment, after a page that asks the reason and says what will happen (the
    resident is told; the amount stays owed)."""
    payment = payments.get_payment_for_staff(payment_id, compound)
    back = "home" if request.values.get("back") == "home" else ""
    form = RejectForm() if request.method == "POST" else RejectForm(formdata=None)
    errors = FormErrors()
    if request.method == "POST" and _posted(errors):
        changed = errors.attempt(
            payments.reject_payment, payment, current_user, form.reason.data, default="reason"
        )
        if not errors:
            if changed:
                flash(
                    _(
                        "Payment rejected: the resident sees your reason, and the amount "
                        "stays owed."
                    ),
                    "success",
                )
            else:
                flash(_("This payment was already rejected."), "info")
            return _after_decision(compound, payment.dwelling_id)
        db.session.rollback()
        db.session.refresh(payment)
    return render_template(
        "dues/staff_reject.html",
        compound=compound,
        payment=payment,
        form=form.show(errors),
        errors=errors,
        back=back,
    ), errors.status


# --- one home's statement, hardship -----------------------------------------------------------


@bp.get(PREFIX + "/homes/<int:dwelling_id>")
@compound_staff_required(VIEW)
@pagecache.per_staff
def staff_home(compound, dwelling_id: int):
    """One home's statement: each line's share, payments and status, and its fund."""
    return _home_page(compound, _home(compound, dwelling_id))


def _home_page(
    compound: Compound,
    home: Dwelling,
    sent: tuple | None = None,
    errors: FormErrors | None = None,
):
    """sent: (line key, the hardship form it was refused with)."""
    bill = bills.bill_for(home)
    errors = errors if errors is not None else FormErrors()
    hardship = {}
    for line in bill.lines:
        form = sent[1] if sent and sent[0] == line.key else HardshipForm(formdata=None)
        form.ids(f"hs-{{name}}-{line.key}").show(errors if sent and sent[0] == line.key else {})
        form.amount.description = _(
            "At most %(max)s; it counts as paid at once.", max=fmt_money(line.open_fen)
        )
        hardship[line.key] = form
    return render_template(
        "dues/staff_home.html",
        compound=compound,
        home=home,
        bill=bill,
        hardship=hardship,
        sent_key=sent[0] if sent else None,
        errors=errors,
        can_decide=_can(compound, MANAGE),
        can_hardship=_can(compound, APPROVE),
    ), errors.status


@bp.post(PREFIX + "/homes/<int:dwelling_id>/hardship")
@compound_staff_required(APPROVE)
def staff_hardship(compound, dwelling_id: int):
    """The committee lets a household in hardship off part of a line."""
    home = _home(compound, dwelling_id, APPROVE)
    key = payments.get_line_key(request.form.get("item", "")[:20])  # a forged line: 404
    form = HardshipForm()
    errors = FormErrors()
    if _posted(errors):
        amount = errors.attempt(shared.parse_amount, form.amount.data)
        if not form.note.data.strip():
            errors.add(
                FieldError("note", N_("Note the committee's decision (at most 100 characters)."))
            )
        if not errors:
            errors.attempt(
                payments.grant_hardship,
                home,
                current_user,
                key=key,
                amount_fen=amount,
                note=form.note.data,
            )
        if not errors:
            flash(_("Hardship subsidy recorded; it counts as paid."), "success")
            return redirect(
                url_for("dues.staff_home", compound_id=compound.id, dwelling_id=home.id)
            )
        db.session.rollback()
    return _home_page(compound, home, (key, form), errors)


# --- export -----------------------------------------------------------------------------------


@bp.get(PREFIX + "/ledger.xlsx")
@compound_staff_required(VIEW)
def staff_ledger_xlsx(compound):
    """The dues ledger as an Excel file: payments, public income, fund balances, arrears."""
    response = make_response(export.ledger_workbook(compound))
    response.headers["Content-Type"] = XLSX
    response.headers["Content-Disposition"] = _download_name(compound, "xlsx")
    response.headers["Cache-Control"] = "no-store"
    return response

"""Staff pages for dues: items, pending payments, statements, funds, public income."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from fractions import Fraction
from urllib.parse import quote

import sqlalchemy as sa
from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.accounts.permissions import Capability
from app.community.models import Building, Compound, Dwelling, Unit
from app.community.permissions import compound_staff_required
from app.community.services import MAX_FILE_BYTES, clamp_page, get_staff_dwelling
from app.core.errors import N_, DomainError, NotFound
from app.core.flashing import flash_error
from app.core.forms import ConfirmForm
from app.core.money import MoneyError, fen_to_yuan, parse_decimal, parse_yuan
from app.core.security import form_id
from app.core.spreadsheet import FileRejected
from app.core.timeutil import local_today
from app.decisions.models import Ballot
from app.dues import bills, bp, costs, export, fees, funds, payments, public_income, shared
from app.dues.errors import FieldError, FormErrors
from app.dues.forms import BEARER_LABELS
from app.dues.models import Allocation, AllocationRule, Bearer, CostItem, IncomeKind
from app.extensions import db

VIEW = Capability.SEE_DUES  # see everything; add and change cost items
MANAGE = Capability.MANAGE_PAYMENTS  # confirm payments, income entries, fund import, fee
APPROVE = Capability.APPROVE_DUES  # hardship, fund gate, using public income
PREFIX = "/staff/compounds/<int:compound_id>/dues"
MAX_ITEM_FEN = 10**12  # what costs.add_item accepts
SHARES_PER_PAGE = 200
PERCENT_FIELDS = (("government", Bearer.GOVERNMENT), ("utility", Bearer.UTILITY),
                  ("city_investment", Bearer.CITY_INVESTMENT))
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


def _values(*names: str, limit: int = 200) -> dict[str, str]:
    return {name: request.form.get(name, "")[:limit] for name in names}


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


def _percent(text: str, bearer: Bearer, field: str) -> Fraction | None:
    """ "35" or "12.5%" -> a fraction of the total; empty -> None."""
    cleaned = (text or "").strip().rstrip("%％").strip()
    if not cleaned:
        return None
    try:
        value = parse_decimal(cleaned, places=4, maximum=Decimal(100))
    except MoneyError:
        value = None
    if value is None:
        raise FieldError(field, N_("%(bearer)s: “%(text)s” is not a percentage from 0 to 100; "
                                   "write e.g. 35 or 12.5."), bearer=BEARER_LABELS[bearer],
                         text=text[:20])
    return Fraction(value) / 100


def _percent_text(fen: int, total: int) -> str:
    """A bearer's amount as a percent of the total, for a form: 250000 of 500000 -> "50"."""
    if not fen or not total:
        return ""
    value = (Decimal(fen) * 100 / Decimal(total)).quantize(Decimal("0.0001"))
    return f"{value.normalize():f}"


def _bearers(typed: dict, errors: FormErrors) -> dict[Bearer, Fraction]:
    """The bearers' percentages typed on a form; each bad one is collected."""
    bearers = {}
    for name, bearer in PERCENT_FIELDS:
        share = errors.attempt(_percent, typed.get(name, ""), bearer, name)
        if share:
            bearers[bearer] = share
    return bearers


def _typed_bearers(item: CostItem, typed: dict,
                   errors: FormErrors) -> dict[Bearer, Fraction] | None:
    """The bearers typed on the change form, or None when the percentages were left as
    they were shown (then the item keeps its proportions)."""
    shown = {name: _percent_text(item.bearer_fen(bearer), item.total_fen)
             for name, bearer in PERCENT_FIELDS}
    if all(typed.get(name, "").strip() == shown[name] for name, _ in PERCENT_FIELDS):
        return None
    return _bearers(typed, errors)


def _item_spec(form: dict, errors: FormErrors) -> costs.ItemSpec | None:
    """The add-item form as a spec, or None with every bad value collected at once."""
    rules_by_value = {rule.value: rule for rule in AllocationRule}
    rule = rules_by_value.get(form["rule"])
    if rule is None:
        errors.add(FieldError("rule", N_("Choose how residents share their part.")))
    total = errors.attempt(shared.parse_amount, form["total"], max_fen=MAX_ITEM_FEN,
                           field="total")
    bearers = _bearers(form, errors)
    opt_in, coefficients = [], {}
    if rule is AllocationRule.OPT_IN:
        opt_in = errors.attempt(costs.parse_opt_in, form["opt_in"]) or []
    if rule is AllocationRule.ELEVATOR:
        if not form["unit"].strip():
            errors.add(FieldError("unit", N_("An elevator is shared within one stairwell: "
                                             "give a building and a unit.")))
        if not form["coefficients"].strip():
            errors.add(FieldError("coefficients",
                                  N_("Write floor coefficients as 1:0,2:0,3:0.7 …")))
        else:
            coefficients = errors.attempt(costs.parse_coefficients,
                                          form["coefficients"]) or {}
    subsidy = errors.attempt(_optional_amount, form["subsidy"])
    name = form["name"].strip()
    if not name or len(name) > 100:
        errors.add(FieldError("name", N_("Give the item a name (at most 100 characters).")))
    if errors:
        return None
    return costs.ItemSpec(
        name=name, total_fen=total, rule=rule, bearers=bearers,
        building=form["building"].strip(), unit=form["unit"].strip(), opt_in=opt_in,
        coefficients=coefficients, subsidy_fen=subsidy, own_home=form["own_home"] == "y")


def _home(compound: Compound, dwelling_id: int, *capabilities: Capability) -> Dwelling:
    """A home of this compound for staff who may do one of these things; else 404."""
    home = get_staff_dwelling(dwelling_id, current_user, *(capabilities or (VIEW,)))
    if home.compound_id != compound.id:
        raise NotFound()
    return home


def _item(compound: Compound, item_id: int) -> CostItem:
    item = db.session.get(CostItem, item_id)
    if item is None or item.compound_id != compound.id:
        raise NotFound()
    return item


def _item_shares(item: CostItem, page: int):
    """Every home's share in the item's current version, a page at a time, with totals."""
    count, allocated = db.session.execute(
        sa.select(sa.func.count(Allocation.id), sa.func.coalesce(sa.func.sum(Allocation.fen), 0))
        .where(Allocation.item_id == item.id, Allocation.version == item.version)).one()
    pages = max((count + SHARES_PER_PAGE - 1) // SHARES_PER_PAGE, 1)
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        sa.select(Dwelling, Allocation.fen)
        .join(Allocation, Allocation.dwelling_id == Dwelling.id)
        .join(Unit, Unit.id == Dwelling.unit_id).join(Building, Building.id == Unit.building_id)
        .where(Allocation.item_id == item.id, Allocation.version == item.version)
        .options(selectinload(Dwelling.unit).selectinload(Unit.building))
        .order_by(Building.sort_key, Unit.sort_key, Dwelling.sort_key)
        .limit(SHARES_PER_PAGE).offset((page - 1) * SHARES_PER_PAGE)).all()
    return rows, {"page": page, "pages": pages, "homes": count, "allocated_fen": int(allocated)}


def _download_name(compound: Compound, suffix: str) -> str:
    """An attachment header that survives any compound name (CJK, quotes, slashes)."""
    name = re.sub(r"[^\w.-]+", "-", compound.name).strip("-.")[:60] or str(compound.id)
    return (f"attachment; filename=dues-{compound.id}.{suffix}; "
            f"filename*=UTF-8''{quote(f'dues-{name}.{suffix}', safe='')}")


# --- overview and property fee ----------------------------------------------------------------

@bp.get(PREFIX)
@compound_staff_required(VIEW)
def staff_dues(compound):
    """The compound's dues at a glance: costs, arrears by building, funds and the tools."""
    return _overview(compound)


def _overview(compound: Compound, fee: dict | None = None, errors: FormErrors | None = None):
    settings = fees.settings_of(compound.id)
    rate_now = fees.current_rate(compound.id)
    errors = errors if errors is not None else FormErrors()
    fee = fee or {"rate": fees.fee_rate_text(rate_now),
                  "starts_on": settings.fee_starts_on.isoformat()
                  if settings.fee_starts_on else "", "effective_from": ""}
    return render_template(
        "dues/staff_dues.html", compound=compound, split=bills.cost_split(compound),
        arrears=bills.arrears_by_building(compound),
        pending_count=payments.pending_count(compound),
        fund=funds.fund_summary(compound), income=public_income.income_balance(compound.id),
        settings=settings, rate_text=fees.fee_rate_text(rate_now), fee=fee,
        rates=fees.rates_of(compound.id), rate_label=fees.fee_rate_text,
        can_manage=_can(compound, MANAGE), errors=errors), errors.status


@bp.post(PREFIX + "/fee")
@compound_staff_required(MANAGE)
def staff_fee(compound):
    """Set the property fee: yuan per m² per month, and the date billing starts."""
    fee = _values("rate", "starts_on", "effective_from", limit=20)
    errors = FormErrors()
    if _posted(errors):
        errors.attempt(fees.parse_fee_rate, fee["rate"])
        starts_on = (errors.attempt(_date, fee["starts_on"], "starts_on")
                     if fee["starts_on"].strip() else None)
        effective = (errors.attempt(_date, fee["effective_from"], "effective_from")
                     if fee["effective_from"].strip() else None)
        if not errors:
            errors.attempt(fees.set_property_fee, compound, rate_yuan=fee["rate"],
                           starts_on=starts_on, effective_from=effective, default="rate")
        if not errors:
            flash(_("Property fee saved."), "success")
            return redirect(url_for("dues.staff_dues", compound_id=compound.id))
        db.session.rollback()
    return _overview(compound, fee, errors)


# --- pending payments -------------------------------------------------------------------------

@bp.get(PREFIX + "/pending")
@compound_staff_required(VIEW)
def staff_pending(compound):
    """Payments residents recorded, oldest first, to confirm or reject."""
    count = payments.pending_count(compound)
    pages = max((count + payments.PENDING_PER_PAGE - 1) // payments.PENDING_PER_PAGE, 1)
    page = min(clamp_page(request.args.get("page", type=int)), pages)
    return render_template("dues/staff_pending.html", compound=compound,
                           payments=payments.pending_payments(compound, page), count=count,
                           page=page, pages=pages, can_decide=_can(compound, MANAGE))


def _after_decision(compound: Compound, dwelling_id: int):
    if request.form.get("back") == "home":
        return redirect(url_for("dues.staff_home", compound_id=compound.id,
                                dwelling_id=dwelling_id))
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
    typed = {"reason": request.form.get("reason", "")[:400]}
    errors = FormErrors()
    if request.method == "POST" and _posted(errors):
        changed = errors.attempt(payments.reject_payment, payment, current_user,
                                 typed["reason"], default="reason")
        if not errors:
            if changed:
                flash(_("Payment rejected: the resident sees your reason, and the amount "
                        "stays owed."), "success")
            else:
                flash(_("This payment was already rejected."), "info")
            return _after_decision(compound, payment.dwelling_id)
        db.session.rollback()
        db.session.refresh(payment)
    return render_template("dues/staff_reject.html", compound=compound, payment=payment,
                           typed=typed, errors=errors, back=back), errors.status


# --- one home's statement, hardship -----------------------------------------------------------

@bp.get(PREFIX + "/homes/<int:dwelling_id>")
@compound_staff_required(VIEW)
def staff_home(compound, dwelling_id: int):
    """One home's statement: each line's share, payments and status, and its fund."""
    return _home_page(compound, _home(compound, dwelling_id))


def _home_page(compound: Compound, home: Dwelling, typed: dict | None = None,
               errors: FormErrors | None = None):
    bill = bills.bill_for(home)
    errors = errors if errors is not None else FormErrors()
    return render_template("dues/staff_home.html", compound=compound, home=home, bill=bill,
                           typed=typed or {}, errors=errors,
                           can_decide=_can(compound, MANAGE),
                           can_hardship=_can(compound, APPROVE)), errors.status


@bp.post(PREFIX + "/homes/<int:dwelling_id>/hardship")
@compound_staff_required(APPROVE)
def staff_hardship(compound, dwelling_id: int):
    """The committee lets a household in hardship off part of a line."""
    home = _home(compound, dwelling_id, APPROVE)
    key = payments.get_line_key(request.form.get("item", "")[:20])  # a forged line: 404
    typed = {"key": key, **_values("amount", "note")}
    errors = FormErrors()
    if _posted(errors):
        amount = errors.attempt(shared.parse_amount, typed["amount"])
        if not typed["note"].strip():
            errors.add(FieldError("note", N_("Note the committee's decision (at most 100 "
                                             "characters).")))
        if not errors:
            errors.attempt(payments.grant_hardship, home, current_user, key=key,
                           amount_fen=amount, note=typed["note"])
        if not errors:
            flash(_("Hardship subsidy recorded; it counts as paid."), "success")
            return redirect(url_for("dues.staff_home", compound_id=compound.id,
                                    dwelling_id=home.id))
        db.session.rollback()
    return _home_page(compound, home, typed, errors)


# --- cost items -------------------------------------------------------------------------------

ITEM_FIELDS = ("name", "total", "rule", "government", "utility", "city_investment",
               "building", "unit", "coefficients", "subsidy", "own_home")


@bp.route(PREFIX + "/items/new", methods=["GET", "POST"])
@compound_staff_required(VIEW)
def staff_item_new(compound):
    """Add a renovation cost item: its total, who bears what, and how residents share."""
    form = {name: "" for name in ITEM_FIELDS} | {"rule": AllocationRule.AREA.value,
                                                  "opt_in": ""}
    errors = FormErrors()
    if request.method == "POST":
        form = _values(*ITEM_FIELDS) | _values("opt_in", limit=4000)
        if _posted(errors):
            spec = _item_spec(form, errors)
            item = None if spec is None else errors.attempt(
                costs.add_item, compound, spec, actor=current_user)
            if item is not None:
                flash(_("Cost item added and shared out to the homes."), "success")
                return redirect(url_for("dues.staff_item", compound_id=compound.id,
                                        item_id=item.id))
            db.session.rollback()
    return render_template("dues/staff_item_new.html", compound=compound, form=form,
                           bearer_fields=PERCENT_FIELDS, errors=errors), errors.status


@bp.get(PREFIX + "/items/<int:item_id>")
@compound_staff_required(VIEW)
def staff_item(compound, item_id: int):
    """One cost item: bearers, version, every home's share, and the maintenance-fund gate."""
    return _item_page(compound, _item(compound, item_id))


def _item_page(compound: Compound, item: CostItem, typed: dict | None = None,
               errors: FormErrors | None = None, form: str = ""):
    rows, pager = _item_shares(item, request.args.get("page", 1, type=int))
    building = db.session.get(Building, item.building_id) if item.building_id else None
    unit = db.session.get(Unit, item.unit_id) if item.unit_id else None
    ballots = funds.fund_ballots(compound)
    linked = next((b for b in ballots if b.id == item.fund_ballot_id), None)
    if item.fund_ballot_id and linked is None:  # e.g. the decision was later withdrawn
        linked = db.session.get(Ballot, item.fund_ballot_id)
    typed = {"total": _yuan_text(item.total_fen), "subsidy": _yuan_text(item.subsidy_fen),
             "coefficients": item.coefficients, "note": ""} | {
        name: _percent_text(item.bearer_fen(bearer), item.total_fen)
        for name, bearer in PERCENT_FIELDS} | (typed or {})
    errors = errors if errors is not None else FormErrors()
    return render_template("dues/staff_item.html", compound=compound, item=item, rows=rows,
                           pager=pager, building=building, unit=unit, ballots=ballots,
                           linked=linked, typed=typed, versions=costs.item_versions(item),
                           bearer_fields=[(name, BEARER_LABELS[bearer])
                                          for name, bearer in PERCENT_FIELDS],
                           errors=errors, form=form,
                           can_change=_can(compound, VIEW),
                           can_gate=_can(compound, APPROVE)), errors.status


@bp.post(PREFIX + "/items/<int:item_id>/change")
@compound_staff_required(VIEW)
def staff_item_change(compound, item_id: int):
    """Change an item's total, subsidy or floor coefficients: shares are allocated again
    as a new version."""
    item = _item(compound, item_id)
    typed = (_values("total", "subsidy", *(name for name, _ in PERCENT_FIELDS), limit=30)
             | _values("coefficients", limit=400))
    errors = FormErrors()
    if _posted(errors):
        total = errors.attempt(shared.parse_amount, typed["total"], max_fen=MAX_ITEM_FEN,
                               field="total")
        subsidy = errors.attempt(_optional_amount, typed["subsidy"])
        coefficients = None
        if item.rule is AllocationRule.ELEVATOR and "coefficients" in request.form:
            coefficients = errors.attempt(costs.parse_coefficients, typed["coefficients"])
            if coefficients is not None and ",".join(
                    f"{f}:{c}" for f, c in sorted(coefficients.items())) == item.coefficients:
                coefficients = None
        bearers = _typed_bearers(item, typed, errors)
        if not errors and (total, subsidy, coefficients, bearers) == (
                item.total_fen, item.subsidy_fen, None, None):
            flash(_("Nothing changed."), "info")
            return redirect(url_for("dues.staff_item", compound_id=compound.id,
                                    item_id=item.id))
        if not errors:
            errors.attempt(costs.change_item, item, total_fen=total, subsidy_fen=subsidy,
                           bearers=bearers, coefficients=coefficients, actor=current_user,
                           default="total")
        if not errors:
            flash(_("Saved as version %(v)s. The earlier shares are kept as history.",
                    v=item.version), "success")
            return redirect(url_for("dues.staff_item", compound_id=compound.id,
                                    item_id=item.id))
        db.session.rollback()
        db.session.refresh(item)
    return _item_page(compound, item, typed, errors, form="change")


@bp.post(PREFIX + "/items/<int:item_id>/fund")
@compound_staff_required(APPROVE)
def staff_item_fund(compound, item_id: int):
    """Link the passed "use the maintenance fund" decision that lets the fund pay this."""
    item = _item(compound, item_id)
    text = request.form.get("ballot", "")[:20].strip()
    if _posted():
        try:
            funds.link_fund_decision(item, None if not text else form_id(text) or 0)
        except DomainError as exc:
            _refused(exc)
        else:
            flash(_("Saved.") if text else _("The decision is no longer linked."), "success")
    return redirect(url_for("dues.staff_item", compound_id=compound.id, item_id=item.id))


@bp.post(PREFIX + "/items/<int:item_id>/emergency")
@compound_staff_required(APPROVE)
def staff_item_emergency(compound, item_id: int):
    """The committee approves an emergency: the fund may pay without a vote."""
    item = _item(compound, item_id)
    typed = _values("note", limit=400)
    errors = FormErrors()
    if _posted(errors):
        errors.attempt(funds.approve_emergency, item, current_user, typed["note"],
                       default="note")
        if not errors:
            flash(_("Emergency approved: the maintenance fund may pay this item."), "success")
            return redirect(url_for("dues.staff_item", compound_id=compound.id,
                                    item_id=item.id))
        db.session.rollback()
    return _item_page(compound, item, typed, errors, form="emergency")


@bp.post(PREFIX + "/items/<int:item_id>/emergency/withdraw")
@compound_staff_required(APPROVE)
def staff_item_emergency_withdraw(compound, item_id: int):
    """Withdraw an emergency approval (payments already confirmed stay)."""
    item = _item(compound, item_id)
    if _posted():
        funds.withdraw_emergency(item)
        flash(_("Emergency approval withdrawn."), "success")
    return redirect(url_for("dues.staff_item", compound_id=compound.id, item_id=item.id))


# --- public income ----------------------------------------------------------------------------

@bp.route(PREFIX + "/income", methods=["GET", "POST"])
@compound_staff_required(VIEW)
def staff_income(compound):
    """The public income ledger; managers record income and costs, the committee uses it
    as the owners decided."""
    entry = {"kind": "", "amount": "", "occurred_on": local_today().isoformat(), "note": ""}
    use = {"amount": "", "target": "", "ballot": "", "note": ""}
    errors = FormErrors()
    action = ""
    if request.method == "POST":
        action = request.form.get("action", "")
        if action == "entry":
            _require(compound, MANAGE)
            entry = _values(*entry, limit=400)
            if _posted(errors) and _add_income(compound, entry, errors):
                flash(_("Entry recorded."), "success")
                return redirect(url_for("dues.staff_income", compound_id=compound.id))
        elif action == "use":
            _require(compound, APPROVE)
            use = _values(*use, limit=400)
            if _posted(errors) and _use_income(compound, use, errors):
                flash(_("Public income used as decided."), "success")
                return redirect(url_for("dues.staff_income", compound_id=compound.id))
        else:
            raise NotFound()
        db.session.rollback()
    entries, uses = public_income.income_ledger(compound)
    return render_template(
        "dues/staff_income.html", compound=compound, entries=entries, uses=uses,
        balance=public_income.income_balance(compound.id), entry=entry, use=use,
        items=bills.cost_split(compound).items, ballots=funds.passed_ballots(compound),
        today=local_today(), can_record=_can(compound, MANAGE),
        can_use=_can(compound, APPROVE), errors=errors, form=action), errors.status


def _add_income(compound: Compound, entry: dict, errors: FormErrors) -> bool:
    kinds = {kind.value: kind for kind in IncomeKind}
    if entry["kind"] not in kinds:
        errors.add(FieldError("kind", N_("Choose the kind of income or cost.")))
    amount = errors.attempt(shared.parse_amount, entry["amount"])
    occurred_on = errors.attempt(_date, entry["occurred_on"], "occurred_on")
    if not errors:
        errors.attempt(public_income.add_income, compound, current_user, kind=kinds[entry["kind"]],
                       amount_fen=amount, occurred_on=occurred_on, note=entry["note"])
    return not errors


def _use_income(compound: Compound, use: dict, errors: FormErrors) -> bool:
    item_id = None if use["target"] == "fund" else form_id(use["target"])
    if use["target"] != "fund" and item_id is None:
        errors.add(FieldError("target", N_("Choose what the income pays for: a cost item or "
                                           "the maintenance fund.")))
    amount = errors.attempt(shared.parse_amount, use["amount"])
    ballot_id = form_id(use["ballot"])
    if ballot_id is None:
        errors.add(FieldError("ballot", N_("Public income belongs to the owners: choose the "
                                           "passed decision that uses it.")))
    if not errors:
        errors.attempt(public_income.use_income, compound, current_user, amount_fen=amount,
                       item_id=item_id, ballot_id=ballot_id, note=use["note"])
    return not errors


# --- maintenance fund import ------------------------------------------------------------------

def _fund_page(compound: Compound, errors: FormErrors | None = None, problems=()):
    errors = errors if errors is not None else FormErrors()
    return render_template("dues/staff_fund.html", compound=compound, problems=problems,
                           errors=errors, columns=funds.FUND_COLUMNS,
                           summary=funds.fund_summary(compound),
                           can_import=_can(compound, MANAGE)), errors.status


@bp.route(PREFIX + "/fund", methods=["GET", "POST"])
@compound_staff_required(VIEW)
def staff_fund(compound):
    """Check a maintenance-fund statement (deposit and balance per home) and show what
    importing it would change; nothing is imported until the manager confirms."""
    if request.method == "GET":
        return _fund_page(compound)
    _require(compound, MANAGE)
    errors = FormErrors()
    problems = []
    if _posted(errors):
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            errors.add(FieldError("file", N_("Choose a file.")))
        else:
            data = upload.read(MAX_FILE_BYTES + 1)
            try:
                token = funds.preview_fund_import(compound, data, upload.filename,
                                                   actor=current_user)
            except FileRejected as exc:
                db.session.rollback()
                problems = exc.problems
                errors.add(exc, "file")
            except DomainError as exc:
                db.session.rollback()
                errors.add(exc, "file")
            else:
                return redirect(url_for("dues.staff_fund_preview", compound_id=compound.id,
                                        token=token))
    return _fund_page(compound, errors, problems)


@bp.route(PREFIX + "/fund/preview/<token>", methods=["GET", "POST"])
@compound_staff_required(MANAGE)
def staff_fund_preview(compound, token: str):
    """What the checked file would change (homes, totals before and after, the rows that
    change); importing it, once, on confirmation."""
    if request.method == "POST" and _posted():
        try:
            result = funds.confirm_fund_import(compound, token, current_user)
        except funds.AlreadyImported:
            flash(_("These balances were already imported."), "info")
        except DomainError as exc:
            _refused(exc)
        else:
            flash(_("Imported: %(created)s new accounts, %(updated)s updated.",
                    created=result.created, updated=result.updated), "success")
        return redirect(url_for("dues.staff_fund", compound_id=compound.id))
    try:
        preview = funds.fund_preview(compound, token, current_user)
    except funds.AlreadyImported:
        flash(_("These balances were already imported."), "info")
        return redirect(url_for("dues.staff_fund", compound_id=compound.id))
    except DomainError as exc:
        _refused(exc)
        return redirect(url_for("dues.staff_fund", compound_id=compound.id))
    return render_template("dues/staff_fund_preview.html", compound=compound, preview=preview)


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

"""Staff pages for dues: cost items, their cost split, shares, fund gate and emergencies."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.community.models import Building, Compound, Dwelling, Unit
from app.community.permissions import compound_staff_required
from app.core.errors import N_, DomainError, NotFound
from app.core.money import MoneyError, parse_decimal
from app.core.security import form_id
from app.decisions.models import Ballot
from app.dues import bp, costs, funds, shared
from app.dues.errors import FieldError, FormErrors
from app.dues.forms import (
    BEARER_LABELS,
    PERCENT_FIELDS,
    EmergencyForm,
    ItemChangeForm,
    ItemForm,
)
from app.dues.models import Allocation, AllocationRule, Bearer, CostItem
from app.dues.staff_routes import (
    APPROVE,
    MAX_ITEM_FEN,
    PREFIX,
    VIEW,
    _can,
    _optional_amount,
    _posted,
    _refused,
    _yuan_text,
)
from app.extensions import db

SHARES_PER_PAGE = 200


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
        raise FieldError(
            field,
            N_("%(bearer)s: “%(text)s” is not a percentage from 0 to 100; write e.g. 35 or 12.5."),
            bearer=BEARER_LABELS[bearer],
            text=text[:20],
        )
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


def _typed_bearers(
    item: CostItem, typed: dict, errors: FormErrors
) -> dict[Bearer, Fraction] | None:
    """The bearers typed on the change form, or None when the percentages were left as
    they were shown (then the item keeps its proportions)."""
    shown = {
        name: _percent_text(item.bearer_fen(bearer), item.total_fen)
        for name, bearer in PERCENT_FIELDS
    }
    if all(typed.get(name, "").strip() == shown[name] for name, _ in PERCENT_FIELDS):
        return None
    return _bearers(typed, errors)


def _item_spec(form: dict, errors: FormErrors) -> costs.ItemSpec | None:
    """The add-item form as a spec, or None with every bad value collected at once."""
    rules_by_value = {rule.value: rule for rule in AllocationRule}
    rule = rules_by_value.get(form["rule"])
    if rule is None:
        errors.add(FieldError("rule", N_("Choose how residents share their part.")))
    total = errors.attempt(shared.parse_amount, form["total"], max_fen=MAX_ITEM_FEN, field="total")
    bearers = _bearers(form, errors)
    opt_in, coefficients = [], {}
    if rule is AllocationRule.OPT_IN:
        opt_in = errors.attempt(costs.parse_opt_in, form["opt_in"]) or []
    if rule is AllocationRule.ELEVATOR:
        if not form["unit"].strip():
            errors.add(
                FieldError(
                    "unit",
                    N_("An elevator is shared within one stairwell: give a building and a unit."),
                )
            )
        if not form["coefficients"].strip():
            errors.add(
                FieldError("coefficients", N_("Write floor coefficients as 1:0,2:0,3:0.7 …"))
            )
        else:
            coefficients = errors.attempt(costs.parse_coefficients, form["coefficients"]) or {}
    subsidy = errors.attempt(_optional_amount, form["subsidy"])
    name = form["name"].strip()
    if not name or len(name) > 100:
        errors.add(FieldError("name", N_("Give the item a name (at most 100 characters).")))
    if errors:
        return None
    return costs.ItemSpec(
        name=name,
        total_fen=total,
        rule=rule,
        bearers=bearers,
        building=form["building"].strip(),
        unit=form["unit"].strip(),
        opt_in=opt_in,
        coefficients=coefficients,
        subsidy_fen=subsidy,
        own_home=bool(form["own_home"]),
    )


def _item(compound: Compound, item_id: int) -> CostItem:
    item = db.session.get(CostItem, item_id)
    if item is None or item.compound_id != compound.id:
        raise NotFound()
    return item


def _item_shares(item: CostItem, page: int):
    """Every home's share in the item's current version, a page at a time, with totals."""
    count, allocated = db.session.execute(
        sa.select(
            sa.func.count(Allocation.id), sa.func.coalesce(sa.func.sum(Allocation.fen), 0)
        ).where(Allocation.item_id == item.id, Allocation.version == item.version)
    ).one()
    pages = max((count + SHARES_PER_PAGE - 1) // SHARES_PER_PAGE, 1)
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        sa.select(Dwelling, Allocation.fen)
        .join(Allocation, Allocation.dwelling_id == Dwelling.id)
        .join(Unit, Unit.id == Dwelling.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(Allocation.item_id == item.id, Allocation.version == item.version)
        .options(selectinload(Dwelling.unit).selectinload(Unit.building))
        .order_by(Building.sort_key, Unit.sort_key, Dwelling.sort_key)
        .limit(SHARES_PER_PAGE)
        .offset((page - 1) * SHARES_PER_PAGE)
    ).all()
    return rows, {"page": page, "pages": pages, "homes": count, "allocated_fen": int(allocated)}


# --- cost items -------------------------------------------------------------------------------


@bp.route(PREFIX + "/items/new", methods=["GET", "POST"])
@compound_staff_required(VIEW)
def staff_item_new(compound):
    """Add a renovation cost item: its total, who bears what, and how residents share."""
    form = ItemForm() if request.method == "POST" else ItemForm(formdata=None)
    errors = FormErrors()
    if request.method == "POST" and _posted(errors):
        spec = _item_spec(form.values(), errors)
        item = (
            None
            if spec is None
            else errors.attempt(costs.add_item, compound, spec, actor=current_user)
        )
        if item is not None:
            flash(_("Cost item added and shared out to the homes."), "success")
            return redirect(url_for("dues.staff_item", compound_id=compound.id, item_id=item.id))
        db.session.rollback()
    return render_template(
        "dues/staff_item_new.html",
        compound=compound,
        form=form.show(errors),
        bearer_fields=[name for name, _bearer in PERCENT_FIELDS],
        errors=errors,
    ), errors.status


@bp.get(PREFIX + "/items/<int:item_id>")
@compound_staff_required(VIEW)
def staff_item(compound, item_id: int):
    """One cost item: bearers, version, every home's share, and the maintenance-fund gate."""
    return _item_page(compound, _item(compound, item_id))


def _item_page(
    compound: Compound,
    item: CostItem,
    sent: ItemChangeForm | EmergencyForm | None = None,
    errors: FormErrors | None = None,
):
    rows, pager = _item_shares(item, request.args.get("page", 1, type=int))
    building = db.session.get(Building, item.building_id) if item.building_id else None
    unit = db.session.get(Unit, item.unit_id) if item.unit_id else None
    ballots = funds.fund_ballots(compound)
    linked = next((b for b in ballots if b.id == item.fund_ballot_id), None)
    if item.fund_ballot_id and linked is None:  # e.g. the decision was later withdrawn
        linked = db.session.get(Ballot, item.fund_ballot_id)
    errors = errors if errors is not None else FormErrors()
    change = sent if isinstance(sent, ItemChangeForm) else ItemChangeForm(formdata=None)
    if change is not sent:
        change.total.data = _yuan_text(item.total_fen)
        change.subsidy.data = _yuan_text(item.subsidy_fen)
        change.coefficients.data = item.coefficients
        for name, bearer in PERCENT_FIELDS:
            change[name].data = _percent_text(item.bearer_fen(bearer), item.total_fen)
    if item.per_elevator:
        change.subsidy.label.text = _("Subsidy per elevator (yuan)")
    emergency = sent if isinstance(sent, EmergencyForm) else EmergencyForm(formdata=None)
    for name, _bearer in PERCENT_FIELDS:  # the item page has no other fields of these names
        change[name].id = change[name].label.field_id = f"change-{name}"
    change.show(errors if sent is change else {})
    emergency.show(errors if sent is emergency else {})
    return render_template(
        "dues/staff_item.html",
        compound=compound,
        item=item,
        rows=rows,
        pager=pager,
        building=building,
        unit=unit,
        ballots=ballots,
        linked=linked,
        change=change,
        emergency=emergency,
        versions=costs.item_versions(item),
        bearer_fields=[name for name, _bearer in PERCENT_FIELDS],
        errors=errors,
        can_change=_can(compound, VIEW),
        can_gate=_can(compound, APPROVE),
    ), errors.status


@bp.post(PREFIX + "/items/<int:item_id>/change")
@compound_staff_required(VIEW)
def staff_item_change(compound, item_id: int):
    """Change an item's total, subsidy or floor coefficients: shares are allocated again
    as a new version."""
    item = _item(compound, item_id)
    form = ItemChangeForm()
    typed = form.values()
    errors = FormErrors()
    if _posted(errors):
        total = errors.attempt(
            shared.parse_amount, typed["total"], max_fen=MAX_ITEM_FEN, field="total"
        )
        subsidy = errors.attempt(_optional_amount, typed["subsidy"])
        coefficients = None
        if item.rule is AllocationRule.ELEVATOR and "coefficients" in request.form:
            coefficients = errors.attempt(costs.parse_coefficients, typed["coefficients"])
            if (
                coefficients is not None
                and ",".join(f"{f}:{c}" for f, c in sorted(coefficients.items()))
                == item.coefficients
            ):
                coefficients = None
        bearers = _typed_bearers(item, typed, errors)
        if not errors and (total, subsidy, coefficients, bearers) == (
            item.total_fen,
            item.subsidy_fen,
            None,
            None,
        ):
            flash(_("Nothing changed."), "info")
            return redirect(url_for("dues.staff_item", compound_id=compound.id, item_id=item.id))
        if not errors:
            errors.attempt(
                costs.change_item,
                item,
                total_fen=total,
                subsidy_fen=subsidy,
                bearers=bearers,
                coefficients=coefficients,
                actor=current_user,
                default="total",
            )
        if not errors:
            flash(
                _(
                    "Saved as version %(v)s. The earlier shares are kept as history.",
                    v=item.version,
                ),
                "success",
            )
            return redirect(url_for("dues.staff_item", compound_id=compound.id, item_id=item.id))
        db.session.rollback()
        db.session.refresh(item)
    return _item_page(compound, item, form, errors)


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
    form = EmergencyForm()
    errors = FormErrors()
    if _posted(errors):
        errors.attempt(funds.approve_emergency, item, current_user, form.note.data, default="note")
        if not errors:
            flash(_("Emergency approved: the maintenance fund may pay this item."), "success")
            return redirect(url_for("dues.staff_item", compound_id=compound.id, item_id=item.id))
        db.session.rollback()
    return _item_page(compound, item, form, errors)


@bp.post(PREFIX + "/items/<int:item_id>/emergency/withdraw")
@compound_staff_required(APPROVE)
def staff_item_emergency_withdraw(compound, item_id: int):
    """Withdraw an emergency approval (payments already confirmed stay)."""
    item = _item(compound, item_id)
    if _posted():
        funds.withdraw_emergency(item)
        flash(_("Emergency approval withdrawn."), "success")
    return redirect(url_for("dues.staff_item", compound_id=compound.id, item_id=item.id))

"""Staff pages for dues: community public income and the maintenance-fund import."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from app.community.models import Compound
from app.community.permissions import compound_staff_required
from app.community.services import MAX_FILE_BYTES
from app.core.errors import N_, DomainError, NotFound
from app.core.i18n import fmt_date, fmt_money
from app.core.security import form_id
from app.core.spreadsheet import FileRejected
from app.core.timeutil import local_today
from app.dues import bp, figures, funds, public_income, shared
from app.dues.errors import FieldError, FormErrors
from app.dues.forms import FundImportForm, IncomeEntryForm, IncomeUseForm
from app.dues.models import IncomeKind
from app.dues.staff_routes import (
    APPROVE,
    MANAGE,
    PREFIX,
    VIEW,
    _can,
    _date,
    _posted,
    _refused,
    _require,
)
from app.extensions import db

# --- public income ----------------------------------------------------------------------------


@bp.route(PREFIX + "/income", methods=["GET", "POST"])
@compound_staff_required(VIEW)
def staff_income(compound):
    """The public income ledger; managers record income and costs, the committee uses it
    as the owners decided."""
    action = request.form.get("action", "") if request.method == "POST" else ""
    entry = IncomeEntryForm() if action == "entry" else IncomeEntryForm(formdata=None)
    use = IncomeUseForm() if action == "use" else IncomeUseForm(formdata=None)
    if action != "entry":
        entry.occurred_on.data = local_today().isoformat()
    errors = FormErrors()
    if request.method == "POST":
        if action == "entry":
            _require(compound, MANAGE)
            if _posted(errors) and _add_income(compound, entry.values(), errors):
                flash(_("Entry recorded."), "success")
                return redirect(url_for("dues.staff_income", compound_id=compound.id))
        elif action == "use":
            _require(compound, APPROVE)
            if _posted(errors) and _use_income(compound, use.values(), errors):
                flash(_("Public income used as decided."), "success")
                return redirect(url_for("dues.staff_income", compound_id=compound.id))
        else:
            raise NotFound()
        db.session.rollback()
    entries, uses = public_income.income_ledger(compound)
    balance = public_income.income_balance(compound.id)
    items = figures.cost_split(compound).items
    ballots = funds.passed_ballots(compound)
    entry.ids("entry-{name}", "amount", "note").show(errors if action == "entry" else {})
    entry.occurred_on.render_kw = {
        **(entry.occurred_on.render_kw or {}),
        "max": local_today().isoformat(),
    }
    use.ids("use-{name}", "amount", "note").show(errors if action == "use" else {})
    use.amount.description = _(
        "At most %(amount)s is available.", amount=fmt_money(balance.available_fen)
    )
    use.target.choices = [
        SelectChoice("", _("Choose…")),
        SelectChoice("fund", _("Maintenance fund (by area)")),
    ] + [SelectChoice(str(item.id), item.name) for item in items]
    use.ballot.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(
            str(b.id), f"{b.title} · {fmt_date(b.published_at)}" if b.published_at else b.title
        )
        for b in ballots
    ]
    return render_template(
        "dues/staff_income.html",
        compound=compound,
        entries=entries,
        uses=uses,
        balance=balance,
        entry=entry,
        use=use,
        ballots=ballots,
        can_record=_can(compound, MANAGE),
        can_use=_can(compound, APPROVE),
        errors=errors,
    ), errors.status


def _add_income(compound: Compound, entry: dict, errors: FormErrors) -> bool:
    kinds = {kind.value: kind for kind in IncomeKind}
    if entry["kind"] not in kinds:
        errors.add(FieldError("kind", N_("Choose the kind of income or cost.")))
    amount = errors.attempt(shared.parse_amount, entry["amount"])
    occurred_on = errors.attempt(_date, entry["occurred_on"], "occurred_on")
    if not errors:
        errors.attempt(
            public_income.add_income,
            compound,
            current_user,
            kind=kinds[entry["kind"]],
            amount_fen=amount,
            occurred_on=occurred_on,
            note=entry["note"],
        )
    return not errors


def _use_income(compound: Compound, use: dict, errors: FormErrors) -> bool:
    item_id = None if use["target"] == "fund" else form_id(use["target"])
    if use["target"] != "fund" and item_id is None:
        errors.add(
            FieldError(
                "target",
                N_("Choose what the income pays for: a cost item or the maintenance fund."),
            )
        )
    amount = errors.attempt(shared.parse_amount, use["amount"])
    ballot_id = form_id(use["ballot"])
    if ballot_id is None:
        errors.add(
            FieldError(
                "ballot",
                N_("Public income belongs to the owners: choose the passed decision that uses it."),
            )
        )
    if not errors:
        errors.attempt(
            public_income.use_income,
            compound,
            current_user,
            amount_fen=amount,
            item_id=item_id,
            ballot_id=ballot_id,
            note=use["note"],
        )
    return not errors


# --- maintenance fund import ------------------------------------------------------------------


def _fund_page(compound: Compound, errors: FormErrors | None = None, problems=()):
    errors = errors if errors is not None else FormErrors()
    return render_template(
        "dues/staff_fund.html",
        compound=compound,
        form=FundImportForm(formdata=None).show(errors),
        problems=problems,
        errors=errors,
        columns=funds.FUND_COLUMNS,
        summary=funds.fund_summary(compound),
        can_import=_can(compound, MANAGE),
    ), errors.status


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
        upload = FundImportForm().file.data
        if upload is None or not upload.filename:
            errors.add(FieldError("file", N_("Choose a file.")))
        else:
            data = upload.read(MAX_FILE_BYTES + 1)
            try:
                token = funds.preview_fund_import(
                    compound, data, upload.filename, actor=current_user
                )
            except FileRejected as exc:
                db.session.rollback()
                problems = exc.problems
                errors.add(exc, "file")
            except DomainError as exc:
                db.session.rollback()
                errors.add(exc, "file")
            else:
                return redirect(
                    url_for("dues.staff_fund_preview", compound_id=compound.id, token=token)
                )
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
            flash(
                _(
                    "Imported: %(created)s new accounts, %(updated)s updated.",
                    created=result.created,
                    updated=result.updated,
                ),
                "success",
            )
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

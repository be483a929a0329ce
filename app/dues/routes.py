"""Residents' pages for dues: what I owe, recording a payment, statements, the ledger."""

from __future__ import annotations

import secrets

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.permissions import Capability
from app.community.models import Compound, Dwelling, Relation
from app.community.services import dwellings_of, relation_of
from app.core import pagecache
from app.core.errors import DomainError, NotFound
from app.core.flashing import flash_error
from app.core.forms import ConfirmForm
from app.core.timeutil import local_today
from app.core.uploads import send_photo, upload_dir
from app.dues import bills, bp, fees, figures, payments, public_income, shared
from app.dues.errors import FormErrors
from app.dues.forms import (
    BEARER_LABELS,
    CHANNEL_LABELS,
    CHANNEL_REASONS,
    INCOME_LABELS,
    PROVIDENT_DOCUMENTS,
    RULE_LABELS,
    STATUS_LABELS,
    PayForm,
)
from app.dues.models import RESIDENT_CHANNELS, Channel, Payment
from app.extensions import db


@bp.context_processor
def labels():
    return {
        "CHANNEL_LABELS": CHANNEL_LABELS,
        "CHANNEL_REASONS": CHANNEL_REASONS,
        "PAYMENT_STATUS": STATUS_LABELS,
        "BEARER_LABELS": BEARER_LABELS,
        "SHARE_RULE_LABELS": RULE_LABELS,
        "INCOME_LABELS": INCOME_LABELS,
        "FEE": fees.FEE,
    }


def my_home(dwelling_id: int) -> tuple[Dwelling, Relation]:
    """A home the signed-in person belongs to (owner or tenant); anything else is 404.
    Taken from the person's homes (loaded once per request with their compound, building
    and household), so the page sends no query of its own for it."""
    home = next((d for d in dwellings_of(current_user) if d.id == dwelling_id), None)
    relation = relation_of(current_user, home) if home else None
    if relation is None:
        raise NotFound()
    return home, relation


def resident_compound(compound_id: int) -> Compound:
    """A compound the person lives in or works for."""
    compound = db.session.get(Compound, compound_id)
    if compound is None or not (
        any(d.compound_id == compound_id for d in dwellings_of(current_user))
        or current_user.can(compound_id, Capability.SEE_DUES)
    ):
        raise NotFound()
    return compound


@bp.get("/dues")
@login_required
def my_dues():
    """Start page: the bill of my only home, or a choice of my homes."""
    homes = dwellings_of(current_user)
    if not homes:
        raise NotFound()
    if len(homes) == 1:
        return redirect(url_for("dues.bill", dwelling_id=homes[0].id))
    each = [bills.bill_for(home, relation=relation_of(current_user, home)) for home in homes]
    return render_template("dues/homes.html", bills=each)


@bp.get("/dues/<int:dwelling_id>")
@login_required
@pagecache.per_person
def bill(dwelling_id: int):
    """我的费用: per item the share, paid, outstanding and every channel that can pay it."""
    home, relation = my_home(dwelling_id)
    bill = bills.bill_for(home, relation=relation)
    shown = {
        p.id
        for line in bill.lines
        for p in line.payments
        if bills.details_visible(p, current_user, relation)
    }
    return render_template(
        "dues/bill.html", bill=bill, home=home, relation=relation, shown=shown, today=local_today()
    )


@bp.route("/dues/<int:dwelling_id>/pay", methods=["GET", "POST"])
@login_required
def pay(dwelling_id: int):
    """Record a payment (channel, amount, reference, optional receipt photo)."""
    home, relation = my_home(dwelling_id)
    bill = bills.bill_for(home, relation=relation)
    key = payments.get_line_key(request.values.get("item", ""))
    line = bill.line(key)
    channels = bills.payable_channels(line, relation)
    form = PayForm(request.args) if request.method == "GET" else PayForm()
    errors = FormErrors()
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        channel = next((c for c in RESIDENT_CHANNELS if c.value == form.channel.data), None)
        photo = form.photo.data
        data = photo.read() if photo and photo.filename else None
        for problem in payments.check_payment_form(channel, form.reference.data, bool(data)):
            errors.add(problem)
        amount = errors.attempt(shared.parse_amount, form.amount.data)
        if not errors:
            result = errors.attempt(
                payments.record_payment,
                current_user,
                home,
                key=key,
                channel=channel,
                amount_fen=amount,
                reference=form.reference.data,
                photo=data,
                token=request.form.get("token", ""),
                upload_dir=upload_dir(),
            )
            if result is not None:
                if result[1]:
                    flash(
                        _(
                            "Recorded. The property manager will confirm it; until then it "
                            "shows as awaiting confirmation."
                        ),
                        "success",
                    )
                else:
                    flash(_("This payment was already recorded."), "info")
                # No #anchor: the message at the top of the bill must stay in view.
                return redirect(url_for("dues.bill", dwelling_id=home.id))
    elif request.method == "POST":
        flash(_("The form expired. Please try again."), "error")
        errors.expired = True
    if errors:  # a browser never keeps a chosen file when the page comes back
        form.photo.description = _("Choose the photo again if the form was refused.")
    return render_template(
        "dues/pay.html",
        home=home,
        line=line,
        channels=channels,
        form=form.show(errors),
        errors=errors,
        token=request.form.get("token") or secrets.token_urlsafe(16),
    ), errors.status


@bp.post("/dues/payments/<int:payment_id>/withdraw")
@login_required
def withdraw(payment_id: int):
    """Take back a payment recorded by mistake, while it still waits for confirmation."""
    payment = db.session.get(Payment, payment_id)
    if payment is None or payment.recorded_by_id != current_user.id:
        raise NotFound()
    dwelling_id = payment.dwelling_id
    if ConfirmForm().validate_on_submit():
        try:
            payments.withdraw_payment(current_user, payment_id)
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Withdrawn."), "success")
    return redirect(url_for("dues.bill", dwelling_id=dwelling_id))


@bp.get("/dues/payments/<int:payment_id>/photo")
@login_required
def photo(payment_id: int):
    """A receipt photo, for the home's members and the compound's dues staff only."""
    return send_photo(payments.payment_photo(payment_id, current_user).photo)


@bp.get("/dues/<int:dwelling_id>/statement/<int:item_id>")
@login_required
@pagecache.per_person
def statement(dwelling_id: int, item_id: int):
    """The cost-sharing statement the housing provident fund centre asks for (printable)."""
    home, relation = my_home(dwelling_id)
    if relation is not Relation.OWNER:
        raise NotFound()
    bill = bills.bill_for(home)
    line = bill.line(item_id)
    if line.item is None or not line.item.own_home:
        raise NotFound()
    if not bill.provident_open:  # DESIGN §5: only after completion acceptance
        return render_template("dues/statement_closed.html", home=home, line=line)
    return render_template(
        "dues/statement.html",
        home=home,
        bill=bill,
        line=line,
        documents=PROVIDENT_DOCUMENTS,
        today=local_today(),
        hardship_fen=line.channel(Channel.HARDSHIP).applied_fen,
    )


@bp.get("/c/<int:compound_id>/costs")
@login_required
def costs(compound_id: int):
    """The whole renovation's cost and who bears it."""
    compound = resident_compound(compound_id)
    return render_template("dues/costs.html", compound=compound, split=figures.cost_split(compound))


@bp.get("/c/<int:compound_id>/income")
@login_required
def income(compound_id: int):
    """The compound's public income ledger (it belongs to the owners, art. 282)."""
    compound = resident_compound(compound_id)
    entries, uses = public_income.income_ledger(compound)
    return render_template(
        "dues/income.html",
        compound=compound,
        entries=entries,
        uses=uses,
        balance=public_income.income_balance(compound.id),
    )

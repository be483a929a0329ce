"""Pages of the programme: the overview, a compound's progress, the pictures, the
report (XLSX, JSON for a token), report tokens, and bringing a compound and its staff on
board. Street-office admins see their street offices' compounds, city admins all; for
everyone else these pages do not exist (404)."""

from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from app.accounts import services as accounts
from app.accounts.models import Role
from app.accounts.permissions import Capability
from app.community import acceptance, places, works
from app.community import services as community
from app.community.forms import MODE_LABELS, STAGE_LABELS
from app.community.models import Compound, Stage, WorkStatus
from app.community.places import CompoundFilter, Oversight
from app.core.errors import DomainError, NotFound
from app.core.forms import refused_status
from app.core.i18n import fmt_full_date
from app.core.security import form_id
from app.core.timeutil import utcnow
from app.core.uploads import upload_dir
from app.decisions.forms import OUTCOME_LABELS
from app.dues.figures import cost_split
from app.dues.forms import BEARER_LABELS
from app.extensions import csrf, db
from app.programme import bp, charts, onboarding, reports
from app.programme import overview as board
from app.programme.forms import (
    COMPOUND_ROLES,
    PARTY_LABELS,
    ROLE_LABELS,
    WORK_STATUS_LABELS,
    CompleteForm,
    FilterForm,
    NewCompoundForm,
    NewStaffForm,
    TokenForm,
    WorkForm,
    acceptance_form,
    work_labels,
)


@bp.context_processor
def labels():
    return {
        "STAGE_LABELS": STAGE_LABELS,
        "MODE_LABELS": MODE_LABELS,
        "ROLE_LABELS": ROLE_LABELS,
        "OUTCOME_LABELS": OUTCOME_LABELS,
    }


def overseer_required(view):
    """Pass what the person oversees; 404 for anyone who oversees nothing."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        oversight = places.oversight_of(current_user)
        if not oversight.any:
            raise NotFound()
        return view(oversight, *args, **kwargs)

    return wrapped


def _filter(oversight: Oversight) -> tuple[FilterForm, CompoundFilter]:
    form = FilterForm(request.args)
    offices = places.offices_overseen(oversight)
    districts = {o.district.id: o.district for o in offices}.values()
    form.fill(sorted(districts, key=lambda d: d.name), offices)
    district = form_id(form.chosen("district", {str(d.id) for d in districts}))
    office = form_id(form.chosen("office", {str(o.id) for o in offices}))
    stage = form.chosen("stage", {s.value for s in Stage})
    form.validate()
    wanted = CompoundFilter(
        district_id=district,
        office_id=office,
        stage=Stage(stage) if stage else None,
        built_from=None if form.built_from.errors else form.built_from.data,
        built_to=None if form.built_to.errors else form.built_to.data,
    )
    return form, wanted


FILTER_ARGS = ("district", "office", "stage", "built_from", "built_to")


def _query_args() -> dict:
    """The filter as the page's links and pictures carry it on (nothing else)."""
    return {k: request.args[k][:20] for k in FILTER_ARGS if request.args.get(k)}


@bp.get("/programme")
@overseer_required
def overview(oversight):
    """Where every compound stands, one table with its totals and pictures."""
    form, wanted = _filter(oversight)
    page = community.clamp_page(request.args.get("page", 1, type=int))
    result = board.overview(oversight, wanted, page=page)
    return render_template(
        "programme/overview.html",
        form=form,
        board=result,
        args=_query_args(),
        oversight=oversight,
    )


@bp.get("/programme/compounds/<int:compound_id>")
@overseer_required
def compound(oversight, compound_id: int):
    """One compound's progress: its row of figures and the timeline of its stages."""
    item = places.get_overseen_compound(compound_id, current_user)
    sizes, _total = places.compounds_page(
        sa.select(Compound.id).where(Compound.id == item.id), 1, 1
    )
    row = board.rows_for(sizes, utcnow())[0]
    split = {i.id: i for i in cost_split(item).items}
    return render_template(
        "programme/compound.html",
        row=row,
        compound=item,
        history=places.stage_history(item.id),
        works=works.works_of(item),
        cost_items=split,
        WORK_LABELS=work_labels(),
        WORK_STATUS_LABELS=WORK_STATUS_LABELS,
        BEARER_LABELS=BEARER_LABELS,
        staff_page=current_user.can(item.id, Capability.SEE_COMPOUND),
    )


def _svg(data: bytes):
    response = make_response(data)
    response.headers["Content-Type"] = "image/svg+xml; charset=utf-8"
    # The picture's own styles, nothing else: it is shown as an image, never as a page.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'"
    )
    return response


@bp.get("/programme/charts/stages.svg")
@overseer_required
def stage_chart(oversight):
    _form, wanted = _filter(oversight)
    counts = places.stage_counts(places.overseen_compounds(oversight, wanted))
    return _svg(charts.stage_funnel(counts, STAGE_LABELS, _("Compounds at each stage")))


@bp.get("/programme/charts/accepted.svg")
@overseer_required
def accepted_chart(oversight):
    _form, wanted = _filter(oversight)
    months = places.acceptances_by_month(places.overseen_compounds(oversight, wanted))
    return _svg(
        charts.accepted_per_month(
            months, _("Compounds accepted per month"), _("No compound accepted yet")
        )
    )


@bp.get("/programme/report.xlsx")
@overseer_required
def report_xlsx(oversight):
    """The table as a spreadsheet for the periodic report (every page, the filter kept)."""
    _form, wanted = _filter(oversight)
    response = make_response(reports.workbook(board.all_rows(oversight, wanted)))
    response.headers["Content-Type"] = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = "attachment; filename=programme.xlsx"
    return response


@bp.get("/api/programme/compounds")
@csrf.exempt
def report_json():
    """The figures for a reporting system: `Authorization: Bearer <token>`; ?page=N."""
    header = request.headers.get("Authorization", "")
    secret = header[7:].strip() if header.lower().startswith("bearer ") else None
    oversight = reports.oversight_of_token(secret)
    if oversight is None:
        response = jsonify({"error": "a valid report token is needed"})
        response.status_code = 401
        response.headers["WWW-Authenticate"] = 'Bearer realm="linli"'
        return response
    page = community.clamp_page(request.args.get("page", 1, type=int))
    result = board.overview(oversight, CompoundFilter(), page=page, per_page=200)
    return jsonify(
        {
            "page": result.page,
            "pages": result.pages,
            "total": result.total,
            "totals": {
                "compounds": result.totals.compounds,
                "buildings": result.totals.buildings,
                "homes": result.totals.homes,
                "floor_area_m2": str(result.totals.area_m2),
                "investment_fen": result.investment_fen,
            },
            "stages": {stage.value: n for stage, n in result.stages.items()},
            "compounds": [reports.as_record(row) for row in result.rows],
        }
    )


@bp.route("/programme/tokens", methods=["GET", "POST"])
@overseer_required
def tokens(oversight):
    """Report tokens: create one (its secret is shown once), see and revoke them."""
    form = TokenForm()
    offices = places.offices_overseen(oversight)
    form.office.choices = ([SelectChoice("", _("The whole city"))] if oversight.city else []) + [
        SelectChoice(str(o.id), o.label) for o in offices
    ]
    secret = None
    if form.validate_on_submit():
        office_id = form_id(form.office.data)
        if form.office.data and office_id not in {o.id for o in offices}:
            abort(404)
        try:
            secret, _token = reports.create_token(
                form.label.data, office_id, actor=current_user, oversight=oversight
            )
        except NotFound:
            raise
        except DomainError as exc:
            form.label.errors.append(_(exc.message, **exc.params))
    return render_template(
        "programme/tokens.html",
        form=form,
        secret=secret,
        tokens=reports.tokens_for(oversight),
        offices={o.id: o for o in offices},
    ), refused_status(form)


@bp.post("/programme/tokens/<int:token_id>/revoke")
@overseer_required
def revoke_token(oversight, token_id: int):
    reports.revoke_token(token_id, actor=current_user, oversight=oversight)
    flash(_("The token no longer works."), "success")
    return redirect(url_for("programme.tokens"))


@bp.route("/programme/compounds/new", methods=["GET", "POST"])
@overseer_required
def new_compound(oversight):
    """Bring a compound on board under one of the person's street offices."""
    form = NewCompoundForm()
    offices = places.offices_overseen(oversight)
    form.office.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(o.id), o.label) for o in offices
    ]
    if form.validate_on_submit():
        chosen = {str(o.id): o for o in offices}.get(form.office.data or "")
        new_named = (form.new_district.data or "").strip() or (form.new_office.data or "").strip()
        office = None
        if new_named and not oversight.city:
            form.new_district.errors.append(_("Only the city adds street offices."))
        elif new_named:
            try:
                office = places.street_office_named(form.new_district.data, form.new_office.data)
            except DomainError as exc:
                form.new_office.errors.append(_(exc.message, **exc.params))
        elif chosen is None:
            form.office.errors.append(_("Choose the street office."))
        else:
            office = chosen
        if office is not None:
            try:
                created = community.create_compound(
                    form.name.data,
                    year_built=form.year_built.data,
                    office=office,
                    actor=current_user,
                )
            except DomainError as exc:
                db.session.rollback()
                target = getattr(exc, "field", "name")
                form[target].errors.append(_(exc.message, **exc.params))
            else:
                flash(_("%(name)s was added.", name=created.name), "success")
                return redirect(url_for("programme.compound", compound_id=created.id))
        db.session.rollback()
    return render_template("programme/new_compound.html", form=form), refused_status(form)


@bp.route("/programme/staff/new", methods=["GET", "POST"])
@overseer_required
def new_staff(oversight):
    """A compound's committee, property manager, operator or contractor account, with the
    same rules as `flask staff create`."""
    form = NewStaffForm()
    ids = places.overseen_compounds(oversight)
    compounds = list(
        db.session.scalars(db.select(Compound).where(Compound.id.in_(ids)).order_by(Compound.name))
    )
    form.compound.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(str(c.id), c.name) for c in compounds
    ]
    if form.validate_on_submit():
        target = {str(c.id): c for c in compounds}.get(form.compound.data or "")
        role = Role(form.role.data)
        if target is None:
            form.compound.errors.append(_("Choose the compound."))
        elif role not in COMPOUND_ROLES:
            abort(404)
        else:
            try:
                user = onboarding.add_staff(
                    form.phone.data,
                    form.name.data,
                    form.password.data or None,
                    role,
                    target,
                    oversight=oversight,
                )
            except DomainError as exc:
                db.session.rollback()
                field = getattr(exc, "field", "") or "phone"
                form[field].errors.append(_(exc.message, **exc.params))
            else:
                accounts.log_access(current_user, target.id, "staff_created", f"user:{user.id}")
                db.session.commit()
                flash(
                    _(
                        "%(name)s is %(role)s of %(compound)s.",
                        name=user.name,
                        role=ROLE_LABELS[role],
                        compound=target.name,
                    ),
                    "success",
                )
                return redirect(url_for("programme.compound", compound_id=target.id))
    return render_template("programme/new_staff.html", form=form), refused_status(form)


# --- the joint completion acceptance ---------------------------------------------------------


def _acceptance_page(compound, record, form, complete_form, status=200):
    return render_template(
        "programme/acceptance.html",
        compound=compound,
        record=record,
        form=form,
        complete_form=complete_form,
        missing=acceptance.missing(record),
        PARTY_LABELS=PARTY_LABELS,
        ALWAYS=acceptance.ALWAYS,
    ), status


def _show_record(form, record) -> None:
    """Put the record's date and participants into the form, as they are kept."""
    form.held_on.data = record.held_on
    for row in record.signatures:
        sub = form[f"party-{row.party.value}"]
        sub.involved.data, sub.organisation.data, sub.signed.data = (
            row.involved,
            row.organisation,
            row.signed,
        )


@bp.route("/programme/compounds/<int:compound_id>/acceptance", methods=["GET", "POST"])
@overseer_required
def acceptance_record(oversight, compound_id: int):
    """Who took part in the joint completion acceptance, who signed, the signed document."""
    item = places.get_overseen_compound(compound_id, current_user)
    record = acceptance.record_of(item)
    parties = [s.party for s in record.signatures]
    form = acceptance_form(parties)
    if request.method == "GET":
        _show_record(form, record)
        db.session.commit()  # a record begun now is kept
    elif form.validate_on_submit():
        entries = [
            acceptance.PartyEntry(
                party,
                form[f"party-{party.value}"].involved.data,
                form[f"party-{party.value}"].organisation.data or "",
                form[f"party-{party.value}"].signed.data,
            )
            for party in parties
        ]
        try:
            acceptance.save(record, held_on=form.held_on.data, entries=entries, actor=current_user)
            upload = request.files.get("document")
            if upload and upload.filename:
                acceptance.attach(
                    record,
                    upload.read(),
                    upload.filename,
                    actor=current_user,
                    folder=upload_dir(),
                )
            db.session.commit()  # the date, the signatures and the document together
        except DomainError as exc:
            db.session.rollback()
            target = getattr(exc, "field", "") or "held_on"
            form[target].errors = [*form[target].errors, _(exc.message, **exc.params)]
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("programme.acceptance_record", compound_id=item.id))
    return _acceptance_page(item, record, form, CompleteForm(), refused_status(form))


@bp.post("/programme/compounds/<int:compound_id>/acceptance/complete")
@overseer_required
def acceptance_complete(oversight, compound_id: int):
    item = places.get_overseen_compound(compound_id, current_user)
    record = acceptance.record_of(item)
    complete_form = CompleteForm()
    if complete_form.validate_on_submit():
        try:
            acceptance.complete(record, item, actor=current_user)
        except DomainError as exc:
            db.session.rollback()
            complete_form.sure.errors = [_(exc.message, **exc.params)]
        else:
            flash(
                _(
                    "%(name)s is accepted and handed over from %(date)s: warranties run from"
                    " that day.",
                    name=item.name,
                    date=fmt_full_date(item.accepted_on),
                ),
                "success",
            )
            return redirect(url_for("programme.compound", compound_id=item.id))
    record = acceptance.record_of(item)
    form = acceptance_form([s.party for s in record.signatures])
    _show_record(form, record)
    return _acceptance_page(item, record, form, complete_form, 422)


@bp.get("/programme/compounds/<int:compound_id>/acceptance/document")
@overseer_required
def acceptance_document(oversight, compound_id: int):
    """The signed document, only for those who oversee the compound."""
    item = places.get_overseen_compound(compound_id, current_user)
    record = acceptance.record_of(item)
    db.session.rollback()  # never begin a record by reading its document
    if not record.document_name:
        raise NotFound()
    response = make_response(
        send_from_directory(upload_dir(), record.document_name, mimetype=record.document_type)
    )
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response


# --- the renovation's works ---------------------------------------------------------------------


@bp.route("/programme/compounds/<int:compound_id>/works/<code>", methods=["GET", "POST"])
@overseer_required
def work(oversight, compound_id: int, code: str):
    """One renovation work of the compound: status, contractor, dates, its cost item."""
    item = places.get_overseen_compound(compound_id, current_user)
    labels = work_labels()
    if code not in labels:
        raise NotFound()
    current = next(w for w in works.works_of(item) if w.code == code)
    items = cost_split(item).items
    form = WorkForm(obj=current if request.method == "GET" else None)
    form.cost_item.choices = [SelectChoice("", _("None"))] + [
        SelectChoice(str(i.id), i.name) for i in items
    ]
    if request.method == "GET":
        form.status.data = (current.status or WorkStatus.PLANNED).value
        form.cost_item.data = str(current.cost_item_id or "")
    elif form.validate_on_submit():
        cost_item_id = form_id(form.cost_item.data)
        if form.cost_item.data and cost_item_id is None:
            abort(404)
        entry = works.WorkEntry(
            WorkStatus(form.status.data),
            form.contractor.data or "",
            form.planned_start.data,
            form.planned_end.data,
            form.actual_start.data,
            form.actual_end.data,
            cost_item_id,
        )
        try:
            works.save_work(item, code, entry, actor=current_user, cost_items={i.id for i in items})
        except NotFound:
            raise
        except DomainError as exc:
            db.session.rollback()
            target = getattr(exc, "field", "") or "status"
            form[target].errors = [*form[target].errors, _(exc.message, **exc.params)]
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("programme.compound", compound_id=item.id))
    return render_template(
        "programme/work.html", compound=item, form=form, name=labels[code]
    ), refused_status(form)

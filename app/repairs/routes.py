"""Repair pages: report from a phone (or a sticker), follow the repair, work the queue."""

import secrets

from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.permissions import Capability
from app.community import roster as roster_rules
from app.community.permissions import compound_staff_required
from app.community.services import dwellings_of
from app.core import pagecache
from app.core.errors import DomainError, NotFound
from app.core.forms import ConfirmForm, refused_status
from app.core.i18n import fmt_full_date
from app.core.qr import qr_svg
from app.core.security import form_id, public_url
from app.core.uploads import send_photo, upload_dir
from app.extensions import limiter
from app.repairs import bp, queries, register, reports, shared, workflow
from app.repairs.forms import (
    ACCEPTANCE_LABELS,
    CATEGORY_LABELS,
    HAND_BACK_LABEL,
    PHOTO_AGAIN,
    PRIORITY_LABELS,
    REASSIGN_LABEL,
    ROUTE_LABELS,
    STATUS_LABELS,
    STEP_LABELS,
    AcceptForm,
    ConfirmRepairForm,
    FacilityForm,
    HandBackForm,
    RejectForm,
    ReopenForm,
    ReportForm,
    ResolveForm,
    StickerReportForm,
)
from app.repairs.rules import Acceptance, Action, Category, Status

RECEIPTS = "repair_receipts"  # session: status-link tokens of reports sent from this browser
MAX_RECEIPTS = 5


@bp.context_processor
def labels():
    return {
        "REPAIR_CATEGORIES": CATEGORY_LABELS,
        "REPAIR_STATUS": STATUS_LABELS,
        "PRIORITY_LABELS": PRIORITY_LABELS,
        "ROUTE_LABELS": ROUTE_LABELS,
    }


def _files(name: str) -> list[bytes]:
    return [f.read() for f in request.files.getlist(name) if f and f.filename][:4]


def _say(exc: DomainError) -> str:
    """A domain error's message in the person's language (a nested error too)."""
    params = {k: _say(v) if isinstance(v, DomainError) else v for k, v in exc.params.items()}
    return _(exc.message, **params)


def _show_problems(form, exc: DomainError) -> None:
    """Put a service's refusal next to the fields it names (else above the button)."""
    problems = exc.problems if isinstance(exc, shared.FieldErrors) else {"": [exc]}
    for name, errors in problems.items():
        field = form._fields.get(name) if name else None
        if field is not None:
            field.errors = [*field.errors, *(_say(e) for e in errors)]
        else:
            form.form_errors.extend(_say(e) for e in errors)


def _photo_again(form, field_name: str, sent_files: bool) -> None:
    """A refused form cannot give back the photo it was sent: say so next to the field."""
    if sent_files and form.errors:
        field = form._fields[field_name]
        field.errors = [*field.errors, str(PHOTO_AGAIN)]


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# --- reports from a sticker, with or without an account -------------------------------------


def _sticker_ip_limit() -> str:
    return current_app.config["REPAIR_STICKER_RATE_LIMIT"]


def _sticker_facility_limit() -> str:
    return current_app.config["REPAIR_STICKER_FACILITY_LIMIT"]


def _facility_key() -> str:
    return "sticker:" + str((request.view_args or {}).get("code", ""))[:24]


def _report_sent(response) -> bool:
    return response.status_code == 302


@bp.route("/f/<code>", methods=["GET", "POST"])
@limiter.limit(_sticker_ip_limit, methods=["POST"])
@limiter.limit(
    _sticker_facility_limit, methods=["POST"], key_func=_facility_key, deduct_when=_report_sent
)
def sticker(code: str):
    """A facility's QR sticker: residents signed in get their report form; anyone else can
    report this common-area facility without an account (marked unverified)."""
    facility = register.facility_by_code(code)
    resident = current_user.is_authenticated and facility.compound_id in shared.resident_compounds(
        current_user
    )
    if resident and request.method == "GET":
        return redirect(url_for("repairs.new_report", facility=facility.sticker_code))
    form = StickerReportForm()
    if request.method == "GET":
        form.request_key.data = secrets.token_hex(16)
    files = _files("photos")
    if request.method == "POST" and form.validate_on_submit():
        try:
            ticket, token = reports.report_from_sticker(
                facility,
                description=form.description.data or "",
                phone=form.phone.data or "",
                consent=form.consent.data,
                photos=files,
                request_key=form.request_key.data or "",
                secret=current_app.config["SECRET_KEY"],
                upload_dir=upload_dir(),
            )
        except shared.FieldErrors as exc:
            _show_problems(form, exc)
        else:
            receipts = {k: v for k, v in session.get(RECEIPTS, {}).items() if k != str(ticket.id)}
            receipts[str(ticket.id)] = token
            session[RECEIPTS] = dict(list(receipts.items())[-MAX_RECEIPTS:])
            return redirect(url_for("repairs.sent", ticket_id=ticket.id))
    _photo_again(form, "photos", bool(files))
    response = make_response(
        render_template(
            "repairs/sticker.html",
            facility=facility,
            form=form,
            existing=register.open_ticket_on(facility),
        ),
        refused_status(form),
    )
    return _no_store(response)


@bp.get("/repairs/sent/<int:ticket_id>")
def sent(ticket_id: int):
    """After a report from a sticker: its number and the status link (this browser only)."""
    token = session.get(RECEIPTS, {}).get(str(ticket_id))
    if not token:
        raise NotFound()
    ticket = reports.ticket_by_status_token(token)
    path = url_for("repairs.status", token=token)
    return _no_store(
        make_response(
            render_template(
                "repairs/sent.html",
                ticket=ticket,
                path=path,
                link=public_url("repairs.status", token=token),
            )
        )
    )


@bp.get("/r/<token>")
def status(token: str):
    """An unverified report's status for whoever holds its link: no personal data."""
    ticket = reports.ticket_by_status_token(token)
    response = _no_store(make_response(render_template("repairs/status.html", ticket=ticket)))
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- residents -------------------------------------------------------------------------------


def _place(form, facility, homes, compounds) -> tuple[int, int | None, bool]:
    """(compound id, home id, place missing) from the form; a forged home or compound is
    a 404, never a report somewhere else."""
    if facility is not None:
        return facility.compound_id, None, False
    where = (form.where.data or "").strip()
    if where == "common":
        chosen = (form.compound.data or "").strip()
        if not chosen:
            return compounds[0], None, False
        if form_id(chosen) not in compounds:
            raise NotFound()
        return form_id(chosen), None, False
    if where:
        home = next((h for h in homes if h.id == form_id(where)), None)
        if home is None:
            raise NotFound()
        return home.compound_id, home.id, False
    return compounds[0], None, True


@bp.route("/repairs/new", methods=["GET", "POST"])
@login_required
def new_report():
    """Report a broken facility: what, where, a few words and up to three photos."""
    homes = dwellings_of(current_user)
    if not homes:
        raise NotFound()
    compounds = sorted(shared.resident_compounds(current_user))
    facility = None
    code = request.values.get("facility", "")
    if code:
        facility = register.facility_by_code(code)
        if facility.compound_id not in compounds:
            raise NotFound()
    existing = register.open_ticket_on(facility) if facility else None
    form = ReportForm()
    if request.method == "GET":
        form.request_key.data = secrets.token_hex(16)
    files = _files("photos")
    if request.method == "POST" and form.validate_on_submit():
        compound_id, dwelling_id, need_place = _place(form, facility, homes, compounds)
        category = form.category.data or ""
        form.request_key.data = reports.form_request_key(form.request_key.data)
        try:
            ticket = reports.report(
                current_user,
                compound_id=compound_id,
                description=form.description.data or "",
                category=Category(category) if category in {c.value for c in Category} else None,
                facility=facility,
                dwelling_id=dwelling_id,
                need_place=need_place,
                location=form.location.data or "",
                photos=files,
                request_key=form.request_key.data,
                upload_dir=upload_dir(),
            )
        except shared.FieldErrors as exc:
            _show_problems(form, exc)
        else:
            flash(_("Thank you. Your report number is %(n)s.", n=ticket.id), "success")
            return redirect(url_for("repairs.ticket", ticket_id=ticket.id))
    _photo_again(form, "photos", bool(files))
    return render_template(
        "repairs/new.html",
        facility=facility,
        existing=existing,
        form=form,
        homes=homes,
        compounds=reports.compounds_named(compounds),
    ), refused_status(form)


@bp.get("/repairs")
@login_required
@pagecache.per_person
def my_repairs():
    """My reports, and the open reports about common areas of my compound."""
    mine, common = queries.resident_tickets(current_user)
    return render_template("repairs/list.html", mine=mine, common=common)


def _stale_errors(forms: dict | None, steps) -> list[str]:
    """Errors of a step sent from an older page that is no longer offered (someone else
    moved the report on): shown above the steps that are offered now."""
    return [
        str(e)
        for action, form in (forms or {}).items()
        if action not in steps
        for e in (*form.form_errors, *(e for f in form for e in f.errors))
    ]


def _resident_page(item, forms: dict | None = None, follow_form=None):
    """The ticket as a resident sees it, with the forms for the steps they may take."""
    steps = workflow.resident_steps(item, current_user)
    shown = {
        Action.CONFIRM: ConfirmRepairForm(formdata=None),
        Action.REOPEN: ReopenForm(formdata=None),
        **(forms or {}),
    }
    status = refused_status(*shown.values(), follow_form)
    return render_template(
        "repairs/ticket.html",
        ticket=item,
        staff=False,
        stale=_stale_errors(forms, steps),
        mine=item.reporter_id == current_user.id,
        followers=reports.followers(item),
        can_follow=reports.can_follow(item, current_user),
        following=reports.is_following(item, current_user),
        follow_form=follow_form,
        steps=steps,
        forms=shown,
        step_labels=STEP_LABELS,
        reporter=None,
    ), status


@bp.get("/repairs/<int:ticket_id>")
@login_required
@pagecache.per_person
def ticket(ticket_id: int):
    """A report's timeline (reporters' personal data is never shown to neighbours)."""
    return _resident_page(shared.get_ticket_for_resident(ticket_id, current_user))


@bp.post("/repairs/<int:ticket_id>/metoo")
@login_required
def me_too(ticket_id: int):
    """Add myself to an open common-area report instead of reporting it again."""
    item = shared.get_ticket_for_resident(ticket_id, current_user)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            reports.me_too(item, current_user)
        except DomainError as exc:
            _show_problems(form, exc)
            return _resident_page(item, follow_form=form)
        flash(_("Thank you: you will see how this repair goes."), "success")
    return redirect(url_for("repairs.ticket", ticket_id=item.id))


@bp.post("/repairs/<int:ticket_id>/<any(confirm, reopen):action>")
@login_required
def resident_step(ticket_id: int, action: str):
    """Confirm the repair with a rating (no default: the resident chooses), or reopen it
    within the confirm window."""
    item = shared.get_ticket_for_resident(ticket_id, current_user)
    step = Action(action)
    form = ConfirmRepairForm() if step is Action.CONFIRM else ReopenForm()
    if form.validate_on_submit():
        rating = getattr(form, "rating", None)
        try:
            workflow.resident_act(
                item,
                current_user,
                step,
                rating=int(rating.data)
                if rating is not None and rating.data in {"1", "2", "3", "4", "5"}
                else None,
                comment=form.comment.data or "",
            )
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            _show_problems(form, exc)
            return _resident_page(item, {step: form})
        flash(_("Thank you."), "success")
    return redirect(url_for("repairs.ticket", ticket_id=item.id))


@bp.get("/repairs/photos/<int:photo_id>")
@login_required
def photo(photo_id: int):
    """A photo, only for those who may see its report; never from the web root."""
    return send_photo(queries.photo_for(photo_id, current_user).stored_name)


# --- staff -----------------------------------------------------------------------------------


@bp.get("/staff/compounds/<int:compound_id>/repairs")
@compound_staff_required(Capability.HANDLE_REPAIRS, Capability.WORK_ON_REPAIRS)
@pagecache.per_staff
def queue(compound):
    """The repair queue: overdue first; filter by status, category, building, worker."""
    filters = queries.QueueFilter(
        status=request.args.get("status", "")[:20],
        category=request.args.get("category", "")[:20],
        building=request.args.get("building", "")[:20],
        assignee=request.args.get("assignee", "")[:60],
    )
    manager = current_user.can(compound.id, Capability.HANDLE_REPAIRS)
    return render_template(
        "repairs/queue.html",
        compound=compound,
        filters=filters,
        rows=queries.queue(compound, current_user, filters),
        figures=queries.figures(compound, current_user),
        can_export=manager,
        can_register=manager,
    )


STAFF_FORMS = {
    Action.ACCEPT: AcceptForm,
    Action.START: ConfirmForm,
    Action.RESOLVE: ResolveForm,
    Action.REJECT: RejectForm,
}


def _staff_page(item, forms: dict | None = None, phone: str | None = None):
    """A report with the steps the user may take, the next step first and primary."""
    contractor = not current_user.can(item.compound_id, Capability.HANDLE_REPAIRS)
    steps = workflow.staff_steps(item, current_user)
    shown = {
        action: (HandBackForm if contractor and action is Action.REJECT else form)(formdata=None)
        for action, form in STAFF_FORMS.items()
    }
    shown[Action.ACCEPT].assignee.data = item.assignee
    shown.update(forms or {})
    labels = dict(STEP_LABELS)
    if item.status is Status.ACCEPTED:
        labels[Action.ACCEPT] = REASSIGN_LABEL
    if contractor:
        labels[Action.REJECT] = HAND_BACK_LABEL
    response = make_response(
        render_template(
            "repairs/ticket.html",
            ticket=item,
            mine=False,
            staff=True,
            steps=steps,
            stale=_stale_errors(forms, steps),
            forms=shown,
            step_labels=labels,
            reporter=queries.reporter_of(item),
            can_reveal=shared.can_manage(current_user, item),
            full_phone=phone,
            followers=reports.followers(item),
            acceptance=_acceptance_note(item.compound, only_wrong=True),
        ),
        refused_status(*shown.values()),
    )
    return _no_store(response)


@bp.get("/staff/repairs/<int:ticket_id>")
@login_required
@pagecache.per_staff
def staff_ticket(ticket_id: int):
    """A report with the steps the user may take."""
    return _staff_page(shared.get_ticket_for_staff(ticket_id, current_user))


@bp.post("/staff/repairs/<int:ticket_id>/phone")
@login_required
def reporter_phone(ticket_id: int):
    """Show the reporter's full number to staff who act on the report (logged)."""
    item = shared.get_ticket_for_staff(ticket_id, current_user)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("repairs.staff_ticket", ticket_id=item.id))
    return _staff_page(item, phone=queries.reporter_phone(item, current_user))


@bp.post("/staff/repairs/<int:ticket_id>/<any(accept, start, resolve, reject):action>")
@login_required
def staff_step(ticket_id: int, action: str):
    """Accept and assign, start, resolve with an "after" photo, or reject with a reason."""
    item = shared.get_ticket_for_staff(ticket_id, current_user)
    step = Action(action)
    contractor = not current_user.can(item.compound_id, Capability.HANDLE_REPAIRS)
    form = (HandBackForm if contractor and step is Action.REJECT else STAFF_FORMS[step])()
    if form.validate_on_submit():
        after = _files("after_photo")
        try:
            workflow.staff_act(
                item,
                current_user,
                step,
                assignee=request.form.get("assignee", ""),
                note=request.form.get("note", ""),
                after_photo=after[0] if after else None,
                upload_dir=upload_dir(),
            )
        except DomainError as exc:
            if isinstance(exc, NotFound):
                raise
            _show_problems(form, exc)
            if step is Action.RESOLVE:
                _photo_again(form, "after_photo", bool(after))
            return _staff_page(item, {step: form})
        flash(_("Saved."), "success")
    return redirect(url_for("repairs.staff_ticket", ticket_id=item.id))


@bp.get("/staff/compounds/<int:compound_id>/repairs.xlsx")
@compound_staff_required(Capability.HANDLE_REPAIRS)
def export(compound):
    """All reports of the compound as an Excel file."""
    data = roster_rules.write_table_xlsx(
        queries.EXPORT_HEADER, queries.export_rows(compound, current_user), "repairs"
    )
    response = make_response(data)
    response.headers["Content-Type"] = (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = f"attachment; filename=repairs-{compound.id}.xlsx"
    return response


def _acceptance_note(compound, only_wrong: bool = False) -> str | None:
    """What staff should know about the acceptance date warranties run from (or None)."""
    state = register.acceptance_of(compound)
    if state is Acceptance.DONE or (only_wrong and state is not Acceptance.WRONG):
        return None
    return str(ACCEPTANCE_LABELS[state]) % {"date": fmt_full_date(compound.accepted_on)}


@bp.route("/staff/compounds/<int:compound_id>/facilities", methods=["GET", "POST"])
@compound_staff_required(Capability.HANDLE_REPAIRS)
def facilities(compound):
    """The facility register: kind, place, contractor and warranty end."""
    form = FacilityForm()
    if form.validate_on_submit():
        try:
            register.add_facility(
                compound,
                category=Category(form.category.data),
                name=form.name.data or "",
                building=form.building.data or "",
                area=form.area.data or "",
                renovated=form.renovated.data,
                contractor_name=form.contractor_name.data or "",
                contractor_phone=form.contractor_phone.data or "",
            )
        except DomainError as exc:
            _show_problems(form, exc)
        else:
            flash(_("Facility added."), "success")
            return redirect(url_for("repairs.facilities", compound_id=compound.id))
    items = register.facilities(compound)
    return render_template(
        "repairs/facilities.html",
        compound=compound,
        form=form,
        items=[(f, register.warranty_of(f)) for f in items],
        acceptance=_acceptance_note(compound),
    ), refused_status(form)


@bp.get("/staff/compounds/<int:compound_id>/stickers")
@compound_staff_required(Capability.HANDLE_REPAIRS)
def stickers(compound):
    """A printable sheet of QR stickers, several per A4 page, with warranty end dates."""
    items = [
        (f, public_url("repairs.sticker", code=f.sticker_code))
        for f in register.facilities(compound)
    ]
    if not items:
        abort(404)
    return render_template(
        "repairs/stickers.html",
        compound=compound,
        acceptance=_acceptance_note(compound),
        stickers=[
            (f, link, qr_svg(link, label=f.name), register.warranty_of(f)) for f, link in items
        ],
    )

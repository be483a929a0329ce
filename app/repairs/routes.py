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
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.forms import ConfirmForm
from app.community import roster as roster_rules
from app.community.services import dwellings_of
from app.core.errors import DomainError, NotFound
from app.core.flashing import flash_error
from app.core.permissions import compound_staff_required
from app.core.qr import qr_svg
from app.core.security import form_id
from app.core.uploads import send_photo, upload_dir
from app.repairs import bp, services
from app.repairs.forms import (
    CATEGORY_LABELS,
    PRIORITY_LABELS,
    ROUTE_LABELS,
    STATUS_LABELS,
    FacilityForm,
)
from app.repairs.rules import Action, Category

REGISTER_ROLES = services.MANAGE_ROLES


@bp.app_context_processor
def labels():
    return {"REPAIR_CATEGORIES": CATEGORY_LABELS, "REPAIR_STATUS": STATUS_LABELS,
            "PRIORITY_LABELS": PRIORITY_LABELS, "ROUTE_LABELS": ROUTE_LABELS}


def _targets():
    """Response and resolution targets from the settings (hours)."""
    from datetime import timedelta

    from app.repairs.rules import Priority, Targets

    config = current_app.config
    return {
        Priority.URGENT: Targets(timedelta(hours=config["REPAIR_URGENT_RESPOND_HOURS"]),
                                 timedelta(hours=config["REPAIR_URGENT_RESOLVE_HOURS"])),
        Priority.NORMAL: Targets(timedelta(hours=config["REPAIR_NORMAL_RESPOND_HOURS"]),
                                 timedelta(hours=config["REPAIR_NORMAL_RESOLVE_HOURS"])),
    }


def _files(name: str) -> list[bytes]:
    return [f.read() for f in request.files.getlist(name) if f and f.filename][:4]


# --- residents -------------------------------------------------------------------------------

@bp.get("/f/<code>")
def sticker(code: str):
    """A facility's QR sticker: open the report form for it (after signing in)."""
    facility = services.facility_by_code(code)
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=url_for("repairs.sticker", code=code)))
    return redirect(url_for("repairs.new_report", facility=facility.sticker_code))


@bp.route("/repairs/new", methods=["GET", "POST"])
@login_required
def new_report():
    """Report a broken facility: what, where, a few words and up to three photos."""
    homes = dwellings_of(current_user)
    if not homes:
        raise NotFound()
    facility = None
    code = request.values.get("facility", "")
    if code:
        facility = services.facility_by_code(code)
        if facility.compound_id not in services.resident_compounds(current_user):
            raise NotFound()
    compounds = sorted(services.resident_compounds(current_user))
    compound_id = facility.compound_id if facility else compounds[0]
    existing = services.open_ticket_on(facility) if facility else None
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        where = request.form.get("where", "")
        dwelling_id = None
        if not facility:
            if where == "common":
                chosen = form_id(request.form.get("compound", ""))
                compound_id = chosen if chosen in compounds else compound_id
            else:
                dwelling_id = form_id(where)
                home = next((h for h in homes if h.id == dwelling_id), None)
                if where and home is None:
                    raise NotFound()
                compound_id = home.compound_id if home else compound_id
        category = request.form.get("category", "")
        try:
            ticket = services.report(
                current_user, compound_id=compound_id,
                description=request.form.get("description", ""),
                category=Category(category) if category in {c.value for c in Category}
                else None, facility=facility,
                dwelling_id=dwelling_id, need_place=facility is None and not where,
                location=request.form.get("location", ""), photos=_files("photos"),
                request_key=(request.form.get("request_key") or "")[:32]
                or secrets.token_hex(16), upload_dir=upload_dir())
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Thank you. Your report number is %(n)s.", n=ticket.id), "success")
            return redirect(url_for("repairs.ticket", ticket_id=ticket.id))
    return render_template("repairs/new.html", facility=facility, existing=existing,
                           homes=homes, compounds=services.compounds_named(compounds),
                           request_key=secrets.token_hex(16))


@bp.get("/repairs")
@login_required
def my_repairs():
    """My reports, and the open reports about common areas of my compound."""
    mine, common = services.resident_tickets(current_user)
    return render_template("repairs/list.html", mine=mine, common=common)


@bp.get("/repairs/<int:ticket_id>")
@login_required
def ticket(ticket_id: int):
    """A report's timeline (reporters' personal data is never shown to neighbours)."""
    item = services.get_ticket_for_resident(ticket_id, current_user)
    return render_template("repairs/ticket.html", ticket=item, mine=item.reporter_id ==
                           current_user.id, followers=services.followers(item),
                           confirm_form=ConfirmForm(), staff=False,
                           can_confirm=services.can_still_confirm(item))


@bp.post("/repairs/<int:ticket_id>/metoo")
@login_required
def me_too(ticket_id: int):
    """Add myself to an open common-area report instead of reporting it again."""
    item = services.get_ticket_for_resident(ticket_id, current_user)
    if ConfirmForm().validate_on_submit():
        try:
            services.me_too(item, current_user)
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Thank you: you will see how this repair goes."), "success")
    return redirect(url_for("repairs.ticket", ticket_id=item.id))


@bp.post("/repairs/<int:ticket_id>/<any(confirm, reopen):action>")
@login_required
def resident_step(ticket_id: int, action: str):
    """Confirm the repair with a rating, or reopen it within 7 days."""
    item = services.get_ticket_for_resident(ticket_id, current_user)
    if ConfirmForm().validate_on_submit():
        try:
            services.resident_act(item, current_user, Action(action),
                                  rating=request.form.get("rating", type=int),
                                  comment=request.form.get("comment", ""))
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Thank you."), "success")
    return redirect(url_for("repairs.ticket", ticket_id=item.id))


@bp.get("/repairs/photos/<int:photo_id>")
@login_required
def photo(photo_id: int):
    """A photo, only for those who may see its report; never from the web root."""
    return send_photo(services.photo_for(photo_id, current_user).stored_name)


# --- staff -----------------------------------------------------------------------------------

@bp.get("/staff/compounds/<int:compound_id>/repairs")
@compound_staff_required(*(services.QUEUE_ROLES + (services.Role.CONTRACTOR,)))
def queue(compound):
    """The repair queue: overdue first; filter by status, category, building, worker."""
    filters = services.QueueFilter(
        status=request.args.get("status", "")[:20], category=request.args.get("category",
                                                                          "")[:20],
        building=request.args.get("building", "")[:20],
        assignee=request.args.get("assignee", "")[:60])
    targets = _targets()
    manager = current_user.has_role(compound.id, *services.QUEUE_ROLES)
    return render_template("repairs/queue.html", compound=compound, filters=filters,
                           rows=services.queue(compound, current_user, filters, targets=targets),
                           figures=services.figures(compound, current_user, targets=targets),
                           can_export=manager, can_register=manager)


@bp.get("/staff/repairs/<int:ticket_id>")
@login_required
def staff_ticket(ticket_id: int):
    """A report with the steps the user may take."""
    item = services.get_ticket_for_staff(ticket_id, current_user)
    return render_template("repairs/ticket.html", ticket=item, mine=False, staff=True,
                           can_act=services.can_manage(current_user, item),
                           is_contractor=not current_user.has_role(item.compound_id,
                                                                   *services.MANAGE_ROLES),
                           reporter=services.reporter_of(item),
                           followers=services.followers(item), confirm_form=ConfirmForm())


@bp.post("/staff/repairs/<int:ticket_id>/<any(accept, start, resolve, reject):action>")
@login_required
def staff_step(ticket_id: int, action: str):
    """Accept and assign, start, resolve with an "after" photo, or reject with a reason."""
    item = services.get_ticket_for_staff(ticket_id, current_user)
    if ConfirmForm().validate_on_submit():
        after = _files("after_photo")
        try:
            services.staff_act(item, current_user, Action(action),
                               assignee=request.form.get("assignee", ""),
                               note=request.form.get("note", ""),
                               after_photo=after[0] if after else None,
                               upload_dir=upload_dir())
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Saved."), "success")
    return redirect(url_for("repairs.staff_ticket", ticket_id=item.id))


@bp.get("/staff/compounds/<int:compound_id>/repairs.xlsx")
@compound_staff_required(*services.QUEUE_ROLES)
def export(compound):
    """All reports of the compound as an Excel file."""
    data = roster_rules.write_table_xlsx(services.EXPORT_HEADER,
                                         services.export_rows(compound, current_user),
                                         "repairs")
    response = make_response(data)
    response.headers["Content-Type"] = \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response.headers["Content-Disposition"] = f"attachment; filename=repairs-{compound.id}.xlsx"
    return response


@bp.route("/staff/compounds/<int:compound_id>/facilities", methods=["GET", "POST"])
@compound_staff_required(*REGISTER_ROLES)
def facilities(compound):
    """The facility register: kind, place, contractor and warranty end."""
    form = FacilityForm()
    if form.validate_on_submit():
        try:
            services.add_facility(
                compound, category=Category(form.category.data), name=form.name.data,
                building=form.building.data or "", area=form.area.data or "",
                renovated=form.renovated.data, contractor_name=form.contractor_name.data or "",
                contractor_phone=form.contractor_phone.data or "")
        except DomainError as exc:
            flash_error(exc)
        else:
            flash(_("Facility added."), "success")
            return redirect(url_for("repairs.facilities", compound_id=compound.id))
    items = services.facilities(compound)
    return render_template("repairs/facilities.html", compound=compound, form=form,
                           items=[(f, services.warranty_of(f)) for f in items])


@bp.get("/staff/compounds/<int:compound_id>/stickers")
@compound_staff_required(*REGISTER_ROLES)
def stickers(compound):
    """A printable sheet of QR stickers, several per A4 page."""
    base = current_app.config["PUBLIC_BASE_URL"] or request.url_root.rstrip("/")
    items = [(f, base + url_for("repairs.sticker", code=f.sticker_code))
             for f in services.facilities(compound)]
    if not items:
        abort(404)
    return render_template("repairs/stickers.html", compound=compound,
                           stickers=[(f, link, qr_svg(link, label=f.name)) for f, link in items])


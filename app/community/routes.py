"""A home as its resident sees it, and the committee's roster tools: compound dates,
roster, homes and the people in them."""

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.permissions import Capability
from app.community import bp, letters, people, roster_files, services
from app.community.forms import (
    MODE_LABELS,
    RELATION_LABELS,
    STAGE_LABELS,
    CompoundForm,
    PhoneForm,
    RosterUploadForm,
    date_problem_text,
)
from app.community.models import ManagementMode, Relation, Stage
from app.community.permissions import compound_staff_required
from app.core import pagecache
from app.core.errors import DomainError
from app.core.forms import ConfirmForm, refused_status
from app.core.qr import qr_svg
from app.core.security import public_url


@bp.context_processor
def labels():
    return {
        "STAGE_LABELS": STAGE_LABELS,
        "MODE_LABELS": MODE_LABELS,
        "Stage": Stage,
        "RELATION_LABELS": RELATION_LABELS,
        "Relation": Relation,
    }


@bp.get("/dwellings/<int:dwelling_id>")
@login_required
@pagecache.per_person
def dwelling(dwelling_id: int):
    """One home as its resident sees it."""
    home = services.get_dwelling_or_404(dwelling_id, current_user)
    return render_template(
        "community/dwelling.html", dwelling=home, relation=services.relation_of(current_user, home)
    )


@bp.get("/staff/compounds/<int:compound_id>/poster")
@compound_staff_required(Capability.MANAGE_ROSTER)
def poster(compound):
    """A printable A4 poster whose QR opens the compound's public page."""
    link = public_url("portal.compound_page", compound_id=compound.id)
    return render_template(
        "community/poster.html", compound=compound, link=link, qr=qr_svg(link, label=compound.name)
    )


@bp.route("/staff/compounds/<int:compound_id>/edit", methods=["GET", "POST"])
@compound_staff_required(Capability.MANAGE_ROSTER)
def edit_compound(compound):
    """Change the compound's stage, dates and management mode."""
    form = CompoundForm(obj=compound)
    if request.method == "GET":
        form.stage.data = compound.stage.value
        form.management_mode.data = compound.management_mode.value
    if form.validate_on_submit():
        try:
            services.update_compound(
                compound,
                actor=current_user,
                year_built=form.year_built.data,
                stage=Stage(form.stage.data),
                survey_started_on=form.survey_started_on.data,
                construction_started_on=form.construction_started_on.data,
                accepted_on=form.accepted_on.data,
                management_mode=ManagementMode(form.management_mode.data),
                management_start_on=form.management_start_on.data,
            )
        except services.CompoundRefused as exc:  # e.g. the day changed since validating
            for name, (message, params) in exc.problems.items():
                form[name].errors.append(date_problem_text(message, params))
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("portal.staff_compound", compound_id=compound.id))
    return render_template(
        "community/edit_compound.html", form=form, compound=compound
    ), refused_status(form)


@bp.route("/staff/compounds/<int:compound_id>/roster", methods=["GET", "POST"])
@compound_staff_required(Capability.MANAGE_ROSTER)
@pagecache.per_staff
def roster(compound):
    """Upload a roster file; a file with any bad row imports nothing and lists every row."""
    form = RosterUploadForm()
    problems = []
    summary = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            summary = roster_files.import_roster(
                compound,
                upload.read(),
                upload.filename or "",
                actor=current_user,
                dry_run=form.dry_run.data,
            )
        except DomainError as exc:  # the report of every bad row is on the page, not flashed
            problems = getattr(exc, "problems", [])
            form.file.errors = [*form.file.errors, _(exc.message, **exc.params)]
        else:
            if summary.dry_run:
                flash(_("The file is fine. Nothing was imported yet."), "info")
            else:
                flash(_("Roster imported."), "success")
    return render_template(
        "community/roster.html", form=form, compound=compound, problems=problems, summary=summary
    ), refused_status(form)


@bp.get("/staff/compounds/<int:compound_id>/roster.<fmt>")
@compound_staff_required(Capability.MANAGE_ROSTER)
def roster_export(compound, fmt: str):
    """Download the roster in the import format (CSV or XLSX)."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    data = roster_files.export_roster(compound, fmt, actor=current_user)
    response = make_response(data)
    mimetype = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Type"] = mimetype
    response.headers["Content-Disposition"] = f"attachment; filename=roster-{compound.id}.{fmt}"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/staff/compounds/<int:compound_id>/dwellings")
@compound_staff_required(Capability.SEE_HOMES)
@pagecache.per_staff
def staff_dwellings(compound):
    """Find a home by building, room, name or phone."""
    page = request.args.get("page", 1, type=int)
    building = request.args.get("building", "")[:20]
    query = request.args.get("q", "")[:40]
    pagination = services.list_dwellings(
        compound, building=building, query=query, page=page, actor=current_user
    )
    return render_template(
        "community/staff_dwellings.html",
        compound=compound,
        pagination=pagination,
        building=building,
        query=query,
    )


@bp.get("/staff/dwellings/<int:dwelling_id>")
@login_required
@pagecache.per_staff
def staff_dwelling(dwelling_id: int):
    """A home as committee staff see it: members with masked phones, letter status."""
    return _staff_dwelling_page(services.get_staff_dwelling(dwelling_id, current_user))


def _staff_dwelling_page(home, revealed=None, phone_form=None, phone_person=None):
    """The staff page of a home; a refused phone form shows again at its person."""
    return render_template(
        "community/staff_dwelling.html",
        dwelling=home,
        code=letters.live_code(home),
        confirm_form=ConfirmForm(),
        phone_form=PhoneForm(formdata=None),
        refused_phone_form=phone_form,
        phone_person=phone_person,
        revealed=revealed or {},
    )


@bp.post("/staff/dwellings/<int:dwelling_id>/people/<int:person_id>/phone")
@login_required
def reveal_phone(dwelling_id: int, person_id: int):
    """Show one person's full phone number to staff; the view is logged."""
    home = services.get_staff_dwelling(dwelling_id, current_user)
    person = services.member_of(home, person_id)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("community.staff_dwelling", dwelling_id=home.id))
    return _staff_dwelling_page(home, {person.id: people.reveal_phone(person, actor=current_user)})


@bp.post("/staff/dwellings/<int:dwelling_id>/people/<int:person_id>/verify")
@login_required
def verify_phone(dwelling_id: int, person_id: int):
    """Record a phone number a committee member checked in person."""
    home = services.get_staff_dwelling(dwelling_id, current_user, Capability.MANAGE_ROSTER)
    person = services.member_of(home, person_id)
    form = PhoneForm()
    if form.validate_on_submit():
        try:
            people.set_phone_in_person(person, form.phone.data, actor=current_user)
        except DomainError as exc:
            form.phone.errors = [*form.phone.errors, _(exc.message, **exc.params)]
        else:
            flash(_("Phone number saved. The household's letter now works with it."), "success")
            return redirect(url_for("community.staff_dwelling", dwelling_id=home.id))
    return _staff_dwelling_page(home, phone_form=form, phone_person=person.id), 422


@bp.route(
    "/staff/dwellings/<int:dwelling_id>/people/<int:person_id>/forget", methods=["GET", "POST"]
)
@login_required
def forget_contact(dwelling_id: int, person_id: int):
    """Delete a person's contact data on their request, after a page saying what happens."""
    home = services.get_staff_dwelling(dwelling_id, current_user, Capability.MANAGE_ROSTER)
    person = services.member_of(home, person_id)
    back = url_for("community.staff_dwelling", dwelling_id=home.id)
    if not person.phone and person.user_id is None:
        flash(_("This person has no contact data left to delete."), "info")
        return redirect(back)
    form = ConfirmForm()
    if form.validate_on_submit():
        people.delete_contact(person, actor=current_user)
        flash(_("Contact data of %(name)s deleted.", name=person.name), "success")
        return redirect(back)
    return render_template(
        "community/forget_contact.html",
        dwelling=home,
        person=person,
        form=form,
        closes_account=people.closes_account(person),
        back=back,
    )

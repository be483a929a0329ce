"""The notice board: public pages of the board and each notice (what the poster's QR
opens), the A4 poster, and the staff page that posts, pins and takes notices down."""

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.permissions import Capability
from app.community import bp, notices, services
from app.community.forms import NOTICE_KIND_LABELS, NOTICE_LEADS, NoticeForm, audience_choices
from app.community.permissions import compound_staff_required
from app.core.errors import DomainError
from app.core.forms import ConfirmForm, refused_status
from app.core.qr import qr_svg
from app.core.security import public_url
from app.core.uploads import upload_dir

STAFF_CAPS = (Capability.POST_NOTICES,)


@bp.context_processor
def notice_labels():
    return {
        "NOTICE_KIND_LABELS": NOTICE_KIND_LABELS,
        "NOTICE_LEADS": NOTICE_LEADS,
        "notice_link": notices.link_of,
    }


@bp.get("/c/<int:compound_id>/notices")
def board(compound_id: int):
    """The compound's notice board: every notice showing now."""
    compound = services.get_compound_or_404(compound_id)
    return render_template(
        "community/board.html", compound=compound, notices=notices.current(compound.id)
    )


def _showing_or_gone(notice_id: int):
    notice = notices.get_notice_or_404(notice_id)
    if not notices.is_showing(notice):
        abort(make_response(render_template("community/notice_gone.html"), 410))
    return notice


@bp.get("/n/<int:notice_id>")
def notice(notice_id: int):
    """One notice, as its poster's QR code opens it."""
    item = _showing_or_gone(notice_id)
    return render_template(
        "community/notice.html",
        notice=item,
        compound=services.get_compound_or_404(item.compound_id),
    )


@bp.get("/n/<int:notice_id>/file")
def notice_file(notice_id: int):
    """The notice's photo or PDF, while the notice is on the board."""
    item = _showing_or_gone(notice_id)
    if not item.attachment:
        abort(404)
    mimetype = "application/pdf" if item.attachment_type == notices.PDF else "image/jpeg"
    response = make_response(send_from_directory(upload_dir(), item.attachment, mimetype=mimetype))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/n/<int:notice_id>/poster")
def notice_poster(notice_id: int):
    """The notice on one A4 sheet, with a QR code that opens it."""
    item = _showing_or_gone(notice_id)
    link = public_url("community.notice", notice_id=item.id)
    return render_template(
        "community/notice_poster.html",
        notice=item,
        compound=services.get_compound_or_404(item.compound_id),
        qr=qr_svg(link, label=item.title),
        link=link,
    )


def _staff_page(compound, form, status=200):
    return render_template(
        "community/staff_notices.html",
        compound=compound,
        form=form,
        notices=notices.recent_for_staff(compound.id),
        showing=notices.is_showing,
        confirm=ConfirmForm(),
    ), status


@bp.route("/staff/compounds/<int:compound_id>/notices", methods=["GET", "POST"])
@compound_staff_required(*STAFF_CAPS)
def staff_notices(compound):
    """Post a notice; see the board's notices, current and past."""
    form = NoticeForm()
    form.audience.choices = audience_choices(compound)
    if form.validate_on_submit():
        draft = notices.NoticeDraft(
            form.title.data or "",
            form.body.data or "",
            form.audience.data or "",
            form.days.data or "",
            bool(form.pinned.data),
        )
        upload = request.files.get("attachment")
        attachment = (upload.read(), upload.filename) if upload and upload.filename else None
        try:
            item = notices.post(
                compound, draft, actor=current_user, folder=upload_dir(), attachment=attachment
            )
        except DomainError as exc:
            target = getattr(exc, "field", "") or "title"
            form[target].errors = [*form[target].errors, _(exc.message, **exc.params)]
        else:
            flash(_("The notice is on the board."), "success")
            return redirect(
                url_for("community.staff_notices", compound_id=compound.id, posted=item.id)
            )
    return _staff_page(compound, form, refused_status(form))


@bp.post(
    "/staff/compounds/<int:compound_id>/notices/<int:notice_id>/<any(down, pin, unpin):action>"
)
@compound_staff_required(*STAFF_CAPS)
def staff_notice_action(compound, notice_id: int, action: str):
    """Take a notice down (it leaves the board at once), or pin or unpin it."""
    item = notices.get_staff_notice_or_404(notice_id, compound)
    if ConfirmForm().validate_on_submit():
        if action == "down":
            notices.take_down(item, actor=current_user)
            flash(_("The notice was taken down."), "success")
        else:
            notices.set_pinned(item, action == "pin")
    return redirect(url_for("community.staff_notices", compound_id=compound.id))

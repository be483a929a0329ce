"""The joint completion acceptance: every participant signs, the signed document is
checked and kept like repair photos, and completing it makes the handover date."""

import io
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image

from app.community.models import Party, Stage, StageChange
from app.core.timeutil import local_today
from app.extensions import db
from app.repairs import register
from app.repairs.rules import Acceptance
from tests.conftest import zh
from tests.programme.conftest import sign

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 200, 200)).save(out, "JPEG")
    return out.getvalue()


def form(held_on, signed=(), involved=None, **extra):
    """The acceptance form: every party listed; `signed` sign; `involved` False leaves out."""
    data = {"held_on": held_on.isoformat() if held_on else ""}
    for party in Party:
        if (involved or {}).get(party, True):
            data[f"party-{party.value}-involved"] = "y"
        data[f"party-{party.value}-organisation"] = f"{party.value} 单位"
        if party in signed:
            data[f"party-{party.value}-signed"] = "y"
    return {**data, **extra}


def test_a_compound_is_accepted_only_when_every_participant_signed(client, city):
    compound = city["金源新村"]
    url = f"/programme/compounds/{compound.id}/acceptance"
    sign(client, "13900000005")
    page = client.get(url).get_data(as_text=True)
    assert all(f"party-{p.value}-signed" in page for p in Party)
    day = local_today() - timedelta(days=2)
    almost = set(Party) - {Party.SUPERVISOR}
    assert client.post(url, data=form(day, almost)).status_code == 302
    refused = client.post(f"{url}/complete", data={"sure": "y"})
    assert refused.status_code == 422
    assert zh("Every participant must sign before the compound is accepted.") in refused.get_data(
        as_text=True
    )
    db.session.refresh(compound)
    assert compound.stage is Stage.SURVEYING and compound.accepted_on is None
    # All signed, but no signed document yet: still refused.
    assert client.post(url, data=form(day, set(Party))).status_code == 302
    assert client.post(f"{url}/complete", data={"sure": "y"}).status_code == 422
    upload = form(day, set(Party), document=(io.BytesIO(PDF), "验收单.pdf"))
    assert client.post(url, data=upload, content_type="multipart/form-data").status_code == 302
    assert client.post(f"{url}/complete", data={}).status_code == 422  # not confirmed
    done = client.post(f"{url}/complete", data={"sure": "y"})
    assert done.status_code == 302
    db.session.refresh(compound)
    assert compound.stage is Stage.ACCEPTED and compound.accepted_on == day
    assert register.acceptance_of(compound) is Acceptance.DONE  # warranties run from it
    change = db.session.scalar(sa.select(StageChange).where(StageChange.compound_id == compound.id))
    assert (change.to_stage, change.on) == (Stage.ACCEPTED, day)
    # Final: nothing changes it any more.
    later = client.post(url, data=form(day - timedelta(days=1), set(Party)))
    assert later.status_code == 422
    db.session.refresh(compound)
    assert compound.accepted_on == day
    assert client.get(url).status_code == 200


def test_a_party_left_out_need_not_sign_but_the_core_ones_always_take_part(client, city):
    compound = city["金源新村"]
    url = f"/programme/compounds/{compound.id}/acceptance"
    sign(client, "13900000005")
    day = local_today()
    out = {Party.UTILITIES: False, Party.TELECOM: False, Party.BUILDER: False}
    signed = set(Party) - {Party.UTILITIES, Party.TELECOM, Party.BUILDER}
    upload = form(day, signed, out, document=(io.BytesIO(jpeg()), "photo.jpg"))
    assert client.post(url, data=upload, content_type="multipart/form-data").status_code == 302
    refused = client.post(f"{url}/complete", data={"sure": "y"})
    assert refused.status_code == 422  # the builder always takes part, and has not signed
    assert client.post(url, data=form(day, signed | {Party.BUILDER}, out)).status_code == 302
    assert client.post(f"{url}/complete", data={"sure": "y"}).status_code == 302


def test_the_document_is_checked_and_shown_only_to_those_who_oversee(client, city):
    compound = city["金源新村"]
    url = f"/programme/compounds/{compound.id}/acceptance"
    sign(client, "13900000005")
    day = local_today()
    for data, name in ((b"not a pdf at all", "验收单.pdf"), (b"%PDF-1.4 cut short", "a.pdf")):
        refused = client.post(
            url,
            data=form(day, document=(io.BytesIO(data), name)),
            content_type="multipart/form-data",
        )
        assert refused.status_code == 422
        assert 'id="document-error"' in refused.get_data(as_text=True)
    assert client.get(f"{url}/document").status_code == 404  # none yet
    client.post(
        url,
        data=form(day, document=(io.BytesIO(PDF), "ok.pdf")),
        content_type="multipart/form-data",
    )
    shown = client.get(f"{url}/document")
    assert shown.status_code == 200 and shown.data == PDF
    assert shown.headers["Content-Type"] == "application/pdf"
    for phone in ("13900000001", "13800000001"):  # the committee, a resident
        sign(client, phone)
        assert client.get(f"{url}/document").status_code == 404
        assert client.get(url).status_code == 404
    other = city["桂花苑"]
    sign(client, "13900000005")
    assert client.get(f"/programme/compounds/{other.id}/acceptance").status_code == 404


def test_the_acceptance_cannot_be_in_the_future(client, city):
    compound = city["金源新村"]
    sign(client, "13900000005")
    refused = client.post(
        f"/programme/compounds/{compound.id}/acceptance",
        data=form(local_today() + timedelta(days=1), set(Party)),
    )
    assert refused.status_code == 422
    assert 'id="held_on-error"' in refused.get_data(as_text=True)


def test_a_managed_compound_stays_managed_and_a_refused_file_saves_nothing(client, city):
    compound = city["金源新村"]
    compound.stage = Stage.MANAGED
    db.session.commit()
    url = f"/programme/compounds/{compound.id}/acceptance"
    sign(client, "13900000005")
    day = local_today() - timedelta(days=1)
    damaged = form(day, set(Party), document=(io.BytesIO(b"%PDF-1.4 cut"), "a.pdf"))
    assert client.post(url, data=damaged, content_type="multipart/form-data").status_code == 422
    from app.community.models import AcceptanceRecord

    record = db.session.scalar(sa.select(AcceptanceRecord))  # none kept, or kept empty
    assert record is None or (
        record.held_on is None and not any(s.signed for s in record.signatures)
    )
    good = form(day, set(Party), document=(io.BytesIO(PDF), "a.pdf"))
    assert client.post(url, data=good, content_type="multipart/form-data").status_code == 302
    assert client.post(f"{url}/complete", data={"sure": "y"}).status_code == 302
    db.session.refresh(compound)
    assert compound.stage is Stage.MANAGED and compound.accepted_on == day

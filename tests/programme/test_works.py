"""A compound's renovation works: status, contractor, dates and the cost item that
carries the work's cost, split by who bears it."""

from datetime import timedelta

import sqlalchemy as sa

from app.community.models import RenovationWork, WorkStatus
from app.core.timeutil import local_today
from app.dues.models import AllocationRule, Bearer, CostItem, CostShare
from app.extensions import db
from tests.programme.conftest import sign


def cost_item(compound, name="道路修缮", total=1_200_000, shares=None):
    item = CostItem(compound_id=compound.id, name=name, total_fen=total, rule=AllocationRule.AREA)
    db.session.add(item)
    db.session.flush()
    for bearer, fen in (shares or {Bearer.GOVERNMENT: 900_000, Bearer.RESIDENTS: 300_000}).items():
        db.session.add(CostShare(item_id=item.id, bearer=bearer, fen=fen))
    db.session.commit()
    return item


def test_a_work_is_planned_done_and_shows_who_bears_its_cost(client, city):
    compound = city["金源新村"]
    item = cost_item(compound)
    sign(client, "13900000005")
    page = client.get(f"/programme/compounds/{compound.id}").get_data(as_text=True)
    assert page.count(f"/programme/compounds/{compound.id}/works/") == 11  # ten items + services
    start = local_today() - timedelta(days=30)
    saved = client.post(
        f"/programme/compounds/{compound.id}/works/roads",
        data={
            "status": "done",
            "contractor": "市政建设公司",
            "planned_start": start.isoformat(),
            "planned_end": (start + timedelta(days=20)).isoformat(),
            "actual_start": start.isoformat(),
            "actual_end": (start + timedelta(days=25)).isoformat(),
            "cost_item": str(item.id),
        },
    )
    assert saved.status_code == 302
    work = db.session.scalar(sa.select(RenovationWork).where(RenovationWork.code == "roads"))
    assert (work.status, work.contractor, work.cost_item_id) == (
        WorkStatus.DONE,
        "市政建设公司",
        item.id,
    )
    page = client.get(f"/programme/compounds/{compound.id}").get_data(as_text=True)
    assert "市政建设公司" in page and "¥12,000.00" in page and "¥9,000.00" in page


def test_wrong_dates_are_refused_next_to_the_field_with_the_input_kept(client, city):
    compound = city["金源新村"]
    sign(client, "13900000005")
    url = f"/programme/compounds/{compound.id}/works/walls"
    today = local_today()
    cases = [
        (
            {
                "planned_start": today.isoformat(),
                "planned_end": (today - timedelta(days=1)).isoformat(),
            },
            "planned_end",
        ),
        ({"actual_start": (today + timedelta(days=2)).isoformat()}, "actual_start"),
        ({"status": "done"}, "actual_end"),
    ]
    for data, field in cases:
        refused = client.post(url, data={"status": "planned", "contractor": "外墙公司", **data})
        assert refused.status_code == 422, data
        page = refused.get_data(as_text=True)
        assert f'id="{field}-error"' in page and 'value="外墙公司"' in page
    assert db.session.scalar(sa.select(RenovationWork)) is None


def test_another_compounds_cost_item_or_an_unknown_work_is_not_found(client, city):
    compound, other = city["金源新村"], city["北湖小区"]
    foreign = cost_item(other, name="别处的费用")
    sign(client, "13900000005")
    url = f"/programme/compounds/{compound.id}/works/roads"
    assert (
        client.post(url, data={"status": "planned", "cost_item": str(foreign.id)}).status_code
        == 404
    )
    assert client.get(f"/programme/compounds/{compound.id}/works/swimming_pool").status_code == 404
    assert client.get(f"/programme/compounds/{other.id}/works/roads").status_code == 404

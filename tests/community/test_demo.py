"""`make run` prints what a newcomer needs: a tenant sign-in beside the owner's, and
letters for homes that have not voted yet (a letter for a home with a seeded vote would
open a ballot already answered)."""

import re

import sqlalchemy as sa

from app.community.letters import hash_token
from app.community.models import ActivationCode
from app.decisions.models import RollEntry, Vote
from app.extensions import db
from app.portal.demo import DEMO_PASSWORD
from tests.conftest import login


def test_demo_links_give_a_tenant_and_letters_for_homes_without_votes(runner, app, web):
    assert runner.invoke(args=["demo"]).exit_code == 0
    links = runner.invoke(args=["demo", "links", "--count", "5"])
    assert links.exit_code == 0, links.output
    tenant = re.search(r"Tenant sign-in:\s+(\d{11}) / (\S+)", links.output)
    assert tenant and tenant.group(2) == DEMO_PASSWORD
    client = web.test_client()
    assert login(client, tenant.group(1), DEMO_PASSWORD).status_code == 302
    assert client.get("/home").status_code == 200
    tokens = re.findall(r"phone (\d{11}): \S+/a/(\S+)", links.output)
    assert len(tokens) == 5
    voted = set(
        db.session.scalars(
            sa.select(RollEntry.dwelling_id).join(
                Vote,
                sa.and_(
                    Vote.ballot_id == RollEntry.ballot_id, Vote.voter_key == RollEntry.voter_key
                ),
            )
        )
    )
    assert voted  # the demo does seed votes ...
    for phone, token in tokens:
        code = db.session.scalar(
            sa.select(ActivationCode).where(ActivationCode.token_hash == hash_token(token))
        )
        assert code.dwelling_id not in voted  # ... but not in the homes given letters
        assert phone in {m.person.phone for m in code.dwelling.members}
    again = runner.invoke(args=["demo", "links"])
    assert again.exit_code == 0 and again.output.count("Tenant sign-in") == 1

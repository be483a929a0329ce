"""`flask ballot …`: street offices run the same ballot in many compounds from scripts."""

import json
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path

import click
import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.permissions import Capability
from app.community.services import find_compound
from app.core.cli import Group, LocalDateTime, RecordId
from app.core.errors import DomainError
from app.core.settings import DEFAULT
from app.core.spreadsheet import FileRejected
from app.decisions import drafts, lifecycle, paper, queries, tallying
from app.decisions.models import Ballot, BallotKind, Category
from app.decisions.rules import Rule
from app.extensions import db

ballot_cli = Group("ballot", help="Create, run and count owner decisions (votes).")


def _text(message: str, params: dict) -> str:
    values = {
        k: tallying.local_text(v)
        if isinstance(v, datetime)
        else v.isoformat()
        if isinstance(v, date)
        else v
        for k, v in params.items()
    }
    return message % values if values else message


# The service's field names, as the options of `flask ballot create` spell them.
OPTIONS = {"opens_at": "opens", "closes_at": "closes", "mode_start_on": "mode-start"}


def _fail(exc: DomainError):
    lines = [_text(exc.message, exc.params)]
    lines += [
        f"  --{OPTIONS.get(p.field, p.field.replace('_', '-'))}: {_text(p.message, p.params)}"
        for p in getattr(exc, "problems", [])
    ]
    raise click.ClickException("\n".join(lines))


def _ballot(ballot_id: int) -> Ballot:
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        raise click.ClickException(f"No ballot {ballot_id}.")
    return ballot


class Share(click.ParamType):
    name = "FRACTION"

    def convert(self, value, param, ctx):
        try:
            share = Fraction(value)
        except (ValueError, ZeroDivisionError):
            self.fail(f"{value!r} is not a fraction like 2/3", param, ctx)
        if not 0 < share <= 1:
            self.fail("the share must be more than 0 and at most 1", param, ctx)
        return share


@ballot_cli.command("create")
@click.argument("compound")
@click.option(
    "--kind",
    type=click.Choice([k.value for k in BallotKind]),
    required=True,
    help="willingness (yes/no/abstain + ranked renovation items), management_mode "
    "(property company / self-governance), elevator (per stairwell), "
    "fund_use, general.",
)
@click.option("--title", required=True, help="Title shown to owners.")
@click.option("--explanation", default="", help="The notice text: what is decided and why.")
@click.option(
    "--category",
    type=click.Choice([c.value for c in Category]),
    help="Civil Code art. 278 category (default from the kind).",
)
@click.option(
    "--rule",
    type=click.Choice([r.value for r in Rule]),
    help="Threshold preset: major (3/4), ordinary (>1/2), share_of_all (willingness "
    "only). Default: what the law sets for the category.",
)
@click.option(
    "--share",
    type=Share(),
    help="For share_of_all: the fraction of all voters in scope who must say yes, e.g. 2/3.",
)
@click.option("--building", default="", help="Scope: this building (default: whole compound).")
@click.option("--unit", default="", help="Scope: this stairwell unit of --building.")
@click.option(
    "--notice-days",
    type=click.IntRange(0, 90),
    help="Days of notice before voting may open. Default and least: "
    f"{DEFAULT.notice_days} for an owners' decision (Property Management "
    f"Regulations art. 14), {DEFAULT.survey_notice_days} for a "
    "willingness survey; the compound's policy may require more.",
)
@click.option(
    "--opens", "opens_at", type=LocalDateTime(), required=True, help="Opening time, Asia/Shanghai."
)
@click.option(
    "--closes",
    "closes_at",
    type=LocalDateTime(),
    required=True,
    help="Closing time, Asia/Shanghai.",
)
@click.option(
    "--mode-start",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Management-mode ballots: the date the chosen mode starts.",
)
@click.option(
    "--publish-notice",
    is_flag=True,
    help="Publish the notice right away (the opening must then be at least the "
    "notice period away).",
)
def create(
    compound,
    kind,
    title,
    explanation,
    category,
    rule,
    share,
    building,
    unit,
    notice_days,
    opens_at,
    closes_at,
    mode_start,
    publish_notice,
):
    """Create a ballot in COMPOUND (name or id); prints its id."""
    try:
        target = find_compound(compound)
        spec = drafts.BallotSpec(
            kind=BallotKind(kind),
            title=title,
            explanation=explanation,
            category=Category(category) if category else None,
            rule=Rule(rule) if rule else None,
            share=share,
            building=building,
            unit=unit,
            notice_days=notice_days,
            opens_at=opens_at,
            closes_at=closes_at,
            mode_start_on=mode_start.date() if mode_start else None,
        )
        ballot = drafts.create_ballot(target, spec, actor=None)
        if publish_notice:
            lifecycle.publish_notice(ballot, actor=None)
    except DomainError as exc:
        _fail(exc)
    click.echo(ballot.id)


@ballot_cli.command("list")
@click.argument("compound")
def list_ballots(compound):
    """List a compound's ballots."""
    try:
        target = find_compound(compound)
    except DomainError as exc:
        _fail(exc)
    for ballot in queries.compound_ballots(target):
        click.echo(f"{ballot.id}\t{ballot.status.value}\t{ballot.kind.value}\t{ballot.title}")


def _step(action, ballot_id):
    ballot = _ballot(ballot_id)
    try:
        return ballot, action(ballot, actor=None)
    except DomainError as exc:
        _fail(exc)


@ballot_cli.command("notice")
@click.argument("ballot_id", type=RecordId)
def notice(ballot_id):
    """Publish a draft ballot's notice."""
    _step(lifecycle.publish_notice, ballot_id)
    click.echo("Notice published.")


@ballot_cli.command("withdraw")
@click.argument("ballot_id", type=RecordId)
@click.option("--reason", required=True, help="Why the notice is withdrawn (owners read it).")
def withdraw(ballot_id, reason):
    """Withdraw a notice before voting opens; the reason is kept and shown."""
    ballot = _ballot(ballot_id)
    try:
        lifecycle.withdraw_notice(ballot, reason, actor=None)
    except DomainError as exc:
        _fail(exc)
    click.echo("Notice withdrawn.")


@ballot_cli.command("extend")
@click.argument("ballot_id", type=RecordId)
@click.option(
    "--closes",
    "closes_at",
    type=LocalDateTime(),
    required=True,
    help="The new closing time, Asia/Shanghai; later than the current one.",
)
@click.option("--reason", required=True, help="Why voting is extended (owners read it).")
def extend(ballot_id, closes_at, reason):
    """Extend an open ballot's close while turnout is short (announced; never shorter)."""
    ballot = _ballot(ballot_id)
    try:
        lifecycle.extend_ballot(ballot, closes_at, reason, actor=None)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Voting now closes {tallying.local_text(ballot.closes_at)}.")


@ballot_cli.command("delete")
@click.argument("ballot_id", type=RecordId)
def delete(ballot_id):
    """Delete a draft (a published notice can only be withdrawn)."""
    try:
        drafts.delete_draft(_ballot(ballot_id), actor=None)
    except DomainError as exc:
        _fail(exc)
    click.echo("Draft deleted.")


@ballot_cli.command("open")
@click.argument("ballot_id", type=RecordId)
def open_(ballot_id):
    """Open voting (after the notice period); freezes the voter roll."""
    _, count = _step(lifecycle.open_ballot, ballot_id)
    click.echo(f"Open: {count} homes in the roll.")


@ballot_cli.command("close")
@click.argument("ballot_id", type=RecordId)
def close(ballot_id):
    """Close voting and record the tally."""
    _, result = _step(lifecycle.close_ballot, ballot_id)
    click.echo(f"Closed: {result.outcome.value}.")


@ballot_cli.command("publish")
@click.argument("ballot_id", type=RecordId)
def publish(ballot_id):
    """Publish a closed ballot's result (a management mode takes effect)."""
    _step(lifecycle.publish_result, ballot_id)
    click.echo("Result published.")


@ballot_cli.command("import-paper")
@click.argument("ballot_id", type=RecordId)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--staff",
    "staff_phone",
    required=True,
    help="Mobile number of the committee member who entered the ballots "
    "(recorded with each ballot).",
)
def import_paper(ballot_id, file, staff_phone):
    """Enter paper ballots from FILE (columns 楼栋/building, 单元/unit, 房号/room,
    选项/choice as the option's number or its label in Chinese or English, 委托人/proxy)."""
    ballot = _ballot(ballot_id)
    actor = db.session.scalar(sa.select(User).where(User.phone == staff_phone.strip()))
    if actor is None or not actor.can(ballot.compound_id, Capability.RUN_VOTES):
        raise click.ClickException(
            "--staff must be a committee or street-office account of this compound."
        )
    try:
        count = paper.import_paper(
            ballot, file.read_bytes(), file.name, actor=actor, translate=_chinese
        )
    except FileRejected as exc:
        for problem in exc.problems:
            click.echo(f"row {problem.row}: " + problem.message % problem.params, err=True)
        raise click.ClickException(f"Nothing recorded: {len(exc.problems)} problems.") from exc
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Recorded {count} paper ballots.")


def _chinese(msgid: str) -> str:
    """Option labels as Chinese paper ballots write them (同意, 不同意, 弃权 …)."""
    from babel.support import Translations
    from flask import current_app

    catalog = Translations.load(current_app.config["BABEL_TRANSLATION_DIRECTORIES"], ["zh_Hans"])
    return catalog.gettext(msgid)


@ballot_cli.command("tally")
@click.argument("ballot_id", type=RecordId)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def tally(ballot_id, as_json):
    """Print the tally (live while open; the recorded one once closed)."""
    ballot = _ballot(ballot_id)
    data = tallying.tally_dict(ballot)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False))
        return
    for key, value in data.items():
        click.echo(f"{key}: {value}")


@ballot_cli.command("verify")
@click.argument("ballot_id", type=RecordId)
def verify(ballot_id):
    """Recompute the vote log's hash chain; name the first broken entry."""
    result = tallying.verify_log(_ballot(ballot_id))
    if result.ok:
        click.echo(f"OK: {result.entries} entries, chain intact.")
        return
    where = f"entry {result.broken_seq}" if result.broken_seq else "current votes"
    raise click.ClickException(f"BROKEN at {where}: {result.reason}.")

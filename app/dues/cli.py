"""`flask dues …`: street offices set up cost items, fees, fund balances and public income
for many compounds alike."""

import json
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import click
import sqlalchemy as sa

from app.accounts.models import User
from app.accounts.permissions import Capability
from app.community.services import RosterRejected, find_compound
from app.core.cli import Group, fail
from app.core.errors import DomainError
from app.core.money import MoneyError, parse_decimal, parse_yuan
from app.core.privacy import normalize_mobile
from app.dues import costs, fees, figures, funds, public_income, shared
from app.dues.models import AllocationRule, Bearer, IncomeKind
from app.extensions import db

dues_cli = Group("dues", help="Renovation cost items and each home's share.")


def _yuan(value: str, what: str) -> int:
    try:
        return parse_yuan(value)
    except MoneyError as exc:
        raise click.BadParameter(f"{value!r} is not an amount in yuan", param_hint=what) from exc


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not a date like 2026-01-01", param_hint=what
        ) from exc


def _fen(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _bearer(text: str) -> tuple[Bearer, int | Fraction]:
    try:
        name, value = text.split("=")
        bearer = Bearer(name.strip())
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r}: use government=50% or utility=1234.50", param_hint="--bear"
        ) from exc
    value = value.strip()
    if value.endswith("%"):
        try:
            return bearer, Fraction(parse_decimal(value[:-1], places=4, maximum=Decimal(100))) / 100
        except MoneyError as exc:
            raise click.BadParameter(
                f"{text!r}: a percentage from 0 to 100", param_hint="--bear"
            ) from exc
    return bearer, _yuan(value, "--bear")


def _bearers(texts) -> dict[Bearer, int | Fraction]:
    pairs = [_bearer(text) for text in texts]
    if len({bearer for bearer, _ in pairs}) != len(pairs):
        raise click.BadParameter("each bearer at most once", param_hint="--bear")
    return dict(pairs)


@dues_cli.command("item-add")
@click.argument("compound")
@click.option("--name", required=True, help="Item name, e.g. 加装电梯 3幢2单元.")
@click.option("--total", required=True, help="Total cost in yuan, e.g. 100000.01.")
@click.option(
    "--bear",
    "bearers",
    multiple=True,
    help="A bearer other than residents, repeatable: government=50%, utility=65%, "
    "city_investment=12000. Residents carry the rest (all of it by default).",
)
@click.option(
    "--rule",
    type=click.Choice([r.value for r in AllocationRule]),
    default="area",
    show_default=True,
    help="How residents share their part: by exclusive area, per "
    "dwelling, only dwellings that ordered it, or elevator "
    "floor coefficients × area.",
)
@click.option("--building", default="", help="Scope: one building.")
@click.option("--unit", default="", help="Scope: one stairwell unit of --building.")
@click.option(
    "--opt-in",
    "opt_in",
    default="",
    help="opt_in: the homes that ordered it, as building-unit-room (or building-room "
    "where a building has no units), comma separated.",
)
@click.option(
    "--coefficients",
    default="",
    help="elevator: floor coefficients, e.g. 1:0,2:0,3:0.7,4:0.8,5:0.9,6:1.0.",
)
@click.option(
    "--subsidy",
    default="0",
    help="Subsidy in yuan taken off the residents' part (e.g. the county's per-elevator subsidy).",
)
@click.option(
    "--own-home",
    is_flag=True,
    help="Own-home works (windows, elevator share): the housing provident fund may pay.",
)
def item_add(
    compound, name, total, bearers, rule, building, unit, opt_in, coefficients, subsidy, own_home
):
    """Add a cost item to COMPOUND (name or id) and allocate the residents' part."""
    try:
        target = find_compound(compound)
        homes = costs.parse_opt_in(opt_in) if opt_in.strip() else []
        spec = costs.ItemSpec(
            name=name,
            total_fen=_yuan(total, "--total"),
            rule=AllocationRule(rule),
            bearers=_bearers(bearers),
            building=building,
            unit=unit,
            opt_in=[(b, u, r) for b, u, r in homes],
            coefficients=costs.parse_coefficients(coefficients),
            subsidy_fen=_yuan(subsidy, "--subsidy"),
            own_home=own_home,
        )
        item = costs.add_item(target, spec)
    except DomainError as exc:
        fail(exc)
    click.echo(f"Item {item.id}: {item.name}")


@dues_cli.command("allocation")
@click.argument("compound")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def allocation(compound, as_json):
    """Print every home's share of every item in integer fen."""
    try:
        report = costs.allocation_report(find_compound(compound))
    except DomainError as exc:
        fail(exc)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    for item in report["items"]:
        click.echo(f"{item['name']}: {item['allocated_fen']} fen to {len(item['shares'])} homes")


@dues_cli.command("fee")
@click.argument("compound")
@click.option("--rate", required=True, help="Yuan per m² per month, e.g. 0.30.")
@click.option(
    "--start",
    default=None,
    help="Billing starts on this date (2026-01-01); 'none' stops billing. "
    "Left out: the start date stays as it is.",
)
@click.option(
    "--effective",
    default=None,
    help="A changed rate applies to months beginning on or after this date "
    "(default today); months already begun keep their rate.",
)
def fee(compound, rate, start, effective):
    """Set COMPOUND's property fee: rate per m² per month and the date billing starts."""
    try:
        target = find_compound(compound)
        if start is None:
            starts_on = fees.settings_of(target.id).fee_starts_on
        elif start.strip().lower() == "none":
            starts_on = None
        else:
            starts_on = _date(start, "--start")
        fees.set_property_fee(
            target,
            rate_yuan=rate,
            starts_on=starts_on,
            effective_from=_date(effective, "--effective") if effective else None,
        )
    except DomainError as exc:
        fail(exc)
    settings = fees.settings_of(target.id)
    when = (
        f"from {settings.fee_starts_on.isoformat()}"
        if settings.fee_starts_on
        else "not billed (no start date)"
    )
    shown = fees.fee_rate_text(fees.current_rate(target.id))  # e.g. 0.30, or 0.3055
    click.echo(f"Property fee of {target.name}: {shown} yuan per m² per month, {when}")


@dues_cli.command("fund-import")
@click.argument("compound")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def fund_import(compound, file):
    """Import maintenance-fund balances from FILE (CSV or XLSX under a header row naming
    楼栋/building, 单元/unit, 房号/room, 初始交存/initial, 当前余额/balance; amounts in yuan).
    All rows or none."""
    try:
        target = find_compound(compound)
        summary = funds.import_fund_balances(target, file.read_bytes(), file.name, actor=None)
    except RosterRejected as exc:
        for problem in exc.problems:
            where = f"row {problem.row}: " if problem.row else ""
            click.echo(where + (problem.message % problem.params), err=True)
        raise click.ClickException(f"Nothing imported: {len(exc.problems)} problems.") from exc
    except DomainError as exc:
        fail(exc)
    click.echo(f"created {summary.created}, updated {summary.updated}")


@dues_cli.command("income")
@click.argument("compound")
@click.option(
    "--kind",
    required=True,
    type=click.Choice([k.value for k in IncomeKind]),
    help="What earned it; 'cost' is what earning it cost and is taken off.",
)
@click.option("--amount", required=True, help="Yuan, e.g. 1200.00.")
@click.option("--date", "occurred", required=True, help="When, e.g. 2026-10-31.")
@click.option("--note", default="", help="A short note (at most 200 characters).")
@click.option(
    "--by",
    "by_phone",
    required=True,
    help="Phone of the property manager or street admin recording it.",
)
def income(compound, kind, amount, occurred, note, by_phone):
    """Record community public income (or a cost against it) for COMPOUND."""
    try:
        target = find_compound(compound)
        occurred_on = _date(occurred, "--date")
        amount_fen = shared.parse_amount(amount)
        actor = _staff(by_phone, target)
        entry = public_income.add_income(
            target,
            actor,
            kind=IncomeKind(kind),
            amount_fen=amount_fen,
            occurred_on=occurred_on,
            note=note,
        )
    except DomainError as exc:
        fail(exc)
    click.echo(
        f"Income {entry.id}: {entry.kind.value} {_fen(entry.amount_fen)} yuan on "
        f"{entry.occurred_on.isoformat()}"
    )


def _staff(phone_text: str, compound) -> User:
    """The account recording public income: a property manager or street admin there."""
    try:
        phone = normalize_mobile(phone_text)
    except ValueError:
        phone = None
    user = db.session.scalar(sa.select(User).where(User.phone == phone)) if phone else None
    if user is None:
        raise click.BadParameter(f"no account with phone {phone_text!r}", param_hint="--by")
    if not user.active or not user.can(compound.id, Capability.MANAGE_PAYMENTS):
        raise click.BadParameter(
            f"{phone_text} is not a property manager or street admin of {compound.name}",
            param_hint="--by",
        )
    return user


@dues_cli.command("arrears")
@click.argument("compound")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (integer fen).")
def arrears(compound, as_json):
    """Per building: homes, homes in arrears, owed, paid, outstanding, awaiting
    confirmation, and still to pay (outstanding less what awaits confirmation)."""
    try:
        rows = figures.arrears_by_building(find_compound(compound))
    except DomainError as exc:
        fail(exc)
    if as_json:
        click.echo(json.dumps({"buildings": [asdict(r) for r in rows]}, ensure_ascii=False))
        return
    click.echo("building\thomes\tin arrears\towed\tpaid\toutstanding\tpending\tto pay (yuan)")
    for r in rows:
        click.echo(
            f"{r.building}\t{r.homes}\t{r.homes_in_arrears}\t{_fen(r.share_fen)}\t"
            f"{_fen(r.paid_fen)}\t{_fen(r.outstanding_fen)}\t{_fen(r.pending_fen)}\t"
            f"{_fen(r.to_pay_fen)}"
        )

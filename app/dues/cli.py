"""`flask dues …`: street offices set up cost items for many compounds alike."""

import json
from fractions import Fraction

import click
from flask.cli import AppGroup

from app.community.services import find_compound
from app.core.errors import DomainError
from app.core.money import MoneyError, parse_yuan
from app.dues import services
from app.dues.models import AllocationRule, Bearer

dues_cli = AppGroup("dues", help="Renovation cost items and each home's share.")


def _fail(exc: DomainError):
    raise click.ClickException(exc.message % exc.params if exc.params else exc.message)


def _yuan(value: str, what: str) -> int:
    try:
        return parse_yuan(value)
    except MoneyError as exc:
        raise click.BadParameter(f"{value!r} is not an amount in yuan", param_hint=what) from exc


def _bearer(text: str) -> tuple[Bearer, int | Fraction]:
    try:
        name, value = text.split("=")
        bearer = Bearer(name.strip())
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: use government=50% or utility=1234.50",
                                 param_hint="--bear") from exc
    value = value.strip()
    if value.endswith("%"):
        try:
            return bearer, Fraction(value[:-1]) / 100
        except (ValueError, ZeroDivisionError) as exc:
            raise click.BadParameter(f"{text!r}", param_hint="--bear") from exc
    return bearer, _yuan(value, "--bear")


@dues_cli.command("item-add")
@click.argument("compound")
@click.option("--name", required=True, help="Item name, e.g. 加装电梯 3幢2单元.")
@click.option("--total", required=True, help="Total cost in yuan, e.g. 100000.01.")
@click.option("--bear", "bearers", multiple=True,
              help="A bearer other than residents, repeatable: government=50%, utility=65%, "
                   "city_investment=12000. Residents carry the rest (all of it by default).")
@click.option("--rule", type=click.Choice([r.value for r in AllocationRule]), default="area",
              show_default=True, help="How residents share their part: by exclusive area, per "
                                      "dwelling, only dwellings that ordered it, or elevator "
                                      "floor coefficients × area.")
@click.option("--building", default="", help="Scope: one building.")
@click.option("--unit", default="", help="Scope: one stairwell unit of --building.")
@click.option("--opt-in", "opt_in", default="",
              help="opt_in: the homes that ordered it, as building-unit-room, comma separated.")
@click.option("--coefficients", default="",
              help="elevator: floor coefficients, e.g. 1:0,2:0,3:0.7,4:0.8,5:0.9,6:1.0.")
@click.option("--subsidy", default="0", help="Subsidy in yuan taken off the residents' part "
                                             "(e.g. the county's per-elevator subsidy).")
@click.option("--own-home", is_flag=True,
              help="Own-home works (windows, elevator share): the housing provident fund may pay.")
def item_add(compound, name, total, bearers, rule, building, unit, opt_in, coefficients,
             subsidy, own_home):
    """Add a cost item to COMPOUND (name or id) and allocate the residents' part."""
    try:
        target = find_compound(compound)
        homes = [tuple((part.split("-") + ["", "", ""])[:3]) for part in opt_in.split(",")
                 if part.strip()]
        spec = services.ItemSpec(
            name=name, total_fen=_yuan(total, "--total"), rule=AllocationRule(rule),
            bearers=dict(_bearer(b) for b in bearers), building=building, unit=unit,
            opt_in=[(b, u, r) for b, u, r in homes],
            coefficients=services.parse_coefficients(coefficients),
            subsidy_fen=_yuan(subsidy, "--subsidy"), own_home=own_home)
        item = services.add_item(target, spec)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"Item {item.id}: {item.name}")


@dues_cli.command("allocation")
@click.argument("compound")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def allocation(compound, as_json):
    """Print every home's share of every item in integer fen."""
    try:
        report = services.allocation_report(find_compound(compound))
    except DomainError as exc:
        _fail(exc)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    for item in report["items"]:
        click.echo(f"{item['name']}: {item['allocated_fen']} fen to {len(item['shares'])} homes")

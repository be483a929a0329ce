"""Command-line tools of the community: flask compound | roster | staff | letters."""

import json
import sys
from pathlib import Path

import click
from flask import current_app

from app.accounts import services as accounts
from app.accounts.models import Role
from app.community import letters, places, roster_files
from app.community import services as community
from app.community.models import Compound
from app.core import settings
from app.core.cli import Group, fail
from app.core.errors import DomainError
from app.core.security import public_url
from app.extensions import db

compound_cli = Group("compound", help="Create and list compounds.")
roster_cli = Group("roster", help="Import and export a compound's roster.")
staff_cli = Group("staff", help="Create staff accounts with roles per compound.")
letters_cli = Group("letters", help="Issue household activation letters.")


@compound_cli.command("create")
@click.argument("name")
@click.option("--district", default="", help="District (区).")
@click.option("--street-office", default="", help="Street office (街道) that oversees it.")
@click.option("--built", "year_built", type=click.IntRange(1900, 2100), help="Year built.")
def compound_create(name, district, street_office, year_built):
    """Create a compound NAME."""
    try:
        compound = community.create_compound(
            name, district=district, street_office=street_office, year_built=year_built
        )
    except DomainError as exc:
        fail(exc)
    click.echo(f"Created compound {compound.id}: {compound.name}")


@compound_cli.command("list")
def compound_list():
    """List compounds with their ids."""
    for compound in db.session.scalars(db.select(Compound).order_by(Compound.id)):
        click.echo(f"{compound.id}\t{compound.name}\t{compound.stage.value}")


@roster_cli.command("import")
@click.argument("compound")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and report; change nothing.")
def roster_import(compound, file, dry_run):
    """Import FILE (CSV or XLSX) into COMPOUND (its name or id)."""
    try:
        target = community.find_compound(compound)
        summary = roster_files.import_roster(
            target, file.read_bytes(), file.name, actor=None, dry_run=dry_run
        )
    except community.RosterRejected as exc:
        for problem in exc.problems:
            where = f"row {problem.row}: " if problem.row else ""
            click.echo(where + (problem.message % problem.params), err=True)
        raise click.ClickException(f"Nothing imported: {len(exc.problems)} problems.") from exc
    except DomainError as exc:
        fail(exc)
    verb = "Checked (dry run, nothing changed)" if dry_run else "Imported"
    click.echo(
        f"{verb}: {summary.rows} rows, {summary.created} new, {summary.updated} updated, "
        f"{summary.unchanged} unchanged, {summary.not_in_file} not in file."
    )


@roster_cli.command("export")
@click.argument("compound")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def roster_export(compound, file):
    """Write COMPOUND's roster to FILE (.csv or .xlsx) in the import format."""
    fmt = "csv" if file.suffix.lower() == ".csv" else "xlsx"
    try:
        target = community.find_compound(compound)
    except DomainError as exc:
        fail(exc)
    file.write_bytes(roster_files.export_roster(target, fmt, actor=None))
    click.echo(f"Wrote {file}")


@staff_cli.command("create")
@click.argument("phone")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Role (repeatable).",
)
@click.option(
    "--compound",
    "compounds",
    multiple=True,
    required=True,
    help="Compound name or id (repeatable); each role applies to each compound.",
)
@click.option(
    "--password",
    help="Password (at least 8 characters). A new account needs one: "
    "leave it out to be asked for it (not kept in the shell's "
    "history). For an existing account it replaces the old one.",
)
@click.option(
    "--allow-resident", is_flag=True, help="Also give roles to an existing resident's account."
)
def staff_create(phone, name, roles, compounds, password, allow_resident):
    """Create a staff account PHONE NAME, or add roles in compounds to an existing one."""
    if password is None and accounts.needs_password(phone) and sys.stdin.isatty():
        password = click.prompt(
            "Password for the new account", hide_input=True, confirmation_prompt=True
        )
    try:
        targets = [community.find_compound(c) for c in compounds]
        grants = [(Role(r), c) for r in roles for c in targets]
        user = accounts.create_staff(phone, name, password, grants, allow_resident=allow_resident)
    except DomainError as exc:
        fail(exc)
    click.echo(
        f"Staff {user.name} ({user.phone}): "
        + ", ".join(f"{g.role.value}@{g.compound_id}" for g in user.grants)
    )


@staff_cli.command("oversee")
@click.argument("phone")
@click.argument("name")
@click.option("--district", default="", help="District of the street office.")
@click.option("--street-office", default="", help="Street office to administer (every compound).")
@click.option("--city", is_flag=True, help="City admin: the programme overview of every compound.")
@click.option("--password", help="Password of a new account (asked for when left out).")
def staff_oversee(phone, name, district, street_office, city, password):
    """Make PHONE NAME a street-office admin (all its compounds, those added later too)
    or a city admin."""
    if city == bool(street_office):
        raise click.UsageError("Give --street-office (with --district) or --city.")
    if password is None and accounts.needs_password(phone) and sys.stdin.isatty():
        password = click.prompt(
            "Password for the new account", hide_input=True, confirmation_prompt=True
        )
    try:
        office = None if city else places.street_office_named(district, street_office)
        user = accounts.create_staff(phone, name, password, [])
        places.grant_office(user, Role.CITY_ADMIN if city else Role.STREET_ADMIN, office)
    except DomainError as exc:
        fail(exc)
    click.echo(f"{user.name} ({user.phone}): " + ("city admin" if city else office.label))


@letters_cli.command("issue")
@click.argument("compound")
@click.option("--building", default="", help="Only this building.")
@click.option(
    "--all", "include_active", is_flag=True, help="Also homes that already have an account."
)
@click.option("--limit", type=int, default=0, help="At most this many homes.")
def letters_issue(compound, building, include_active, limit):
    """Issue activation codes and print each home's link (old codes stop working)."""
    try:
        target = community.find_compound(compound)
    except DomainError as exc:
        fail(exc)
    dwellings = community.dwellings_for_letters(
        target, building=building, only_missing=not include_active
    )
    if limit:
        dwellings = dwellings[:limit]
    try:
        _batch, issued = letters.issue_codes(
            dwellings,
            actor=None,
            secret=current_app.config["SECRET_KEY"],
            days=current_app.config["ACTIVATION_CODE_DAYS"],
        )
    except DomainError as exc:
        fail(exc)
    for item in issued:
        d = item.dwelling
        click.echo(
            f"{d.unit.building.name}-{d.unit.name or '-'}-{d.room}\t"
            f"{public_url('community.open_letter', token=item.token)}"
        )


settings_cli = Group(
    "settings",
    help="Local policy: defaults, and overrides per city, district, street office or compound.",
)


def _scope(compound, district, street_office) -> tuple[str, str]:
    chosen = [x for x in (compound, district, street_office) if x]
    if len(chosen) > 1:
        raise click.UsageError("Give at most one of --compound, --district, --street-office.")
    if compound:
        try:
            return "compound", str(community.find_compound(compound).id)
        except DomainError as exc:
            fail(exc)
    if district:
        return "district", district
    if street_office:
        return "street_office", street_office
    return "city", ""


def _scope_options(command):
    for option in (
        click.option("--street-office", default="", help="For one street office."),
        click.option("--district", default="", help="For one district."),
        click.option("--compound", default="", help="For one compound (name or id)."),
    ):
        command = option(command)
    return command


@settings_cli.command("show")
@click.argument("compound", required=False)
def settings_show(compound):
    """Print the policy in force (for COMPOUND, or the city's defaults) and the overrides."""
    target = None
    if compound:
        try:
            target = community.find_compound(compound)
        except DomainError as exc:
            fail(exc)
    policy = settings.policy_for(target)
    for name in settings.NAMES:
        value = getattr(policy, name)
        mark = "" if value == getattr(settings.DEFAULT, name) else "   (overridden)"
        click.echo(f"{name:<22} {json.dumps(value)}{mark}")
    for row in settings.overrides():
        click.echo(f"override: {row.scope} {row.scope_key or '-'} {row.name} = {row.value}")


@settings_cli.command("set")
@click.argument("name")
@click.argument("value")
@_scope_options
def settings_set(name, value, compound, district, street_office):
    """Override setting NAME with VALUE (JSON: 65, or [[80, 100]]) for the whole city by
    default, or for one compound, district or street office."""
    scope, key = _scope(compound, district, street_office)
    try:
        settings.set_value(scope, key, name, value)
    except settings.PolicyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{name} = {value} for {scope} {key or ''}".rstrip())


@settings_cli.command("unset")
@click.argument("name")
@_scope_options
def settings_unset(name, compound, district, street_office):
    """Remove an override, so the wider scope (or the default) applies again."""
    scope, key = _scope(compound, district, street_office)
    if not settings.unset_value(scope, key, name):
        raise click.ClickException(f"No override of {name} for {scope} {key}".rstrip())
    click.echo(f"{name}: override for {scope} {key or ''} removed".rstrip())


GROUPS = (compound_cli, roster_cli, staff_cli, letters_cli, settings_cli)

"""`flask repairs …`: housekeeping that runs from cron."""

import click

from app.core.cli import Group
from app.repairs import workflow

repairs_cli = Group("repairs", help="Repair tickets.")


@repairs_cli.command("autoclose")
def autoclose():
    """Close tickets nobody confirmed or reopened within the confirm window after the repair.

    Lists and queues also do this when they are opened; run it daily from cron so that
    figures stay right on quiet days.
    """
    click.echo(f"Closed {workflow.auto_close()} tickets.")

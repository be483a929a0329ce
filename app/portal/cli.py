"""The command line: every feature's group, registered in one place."""

from app.community.cli import GROUPS as COMMUNITY_GROUPS
from app.decisions.cli import ballot_cli
from app.dues.cli import dues_cli
from app.portal.demo import demo_cli
from app.repairs.cli import repairs_cli


def init_app(app) -> None:
    for group in (*COMMUNITY_GROUPS, demo_cli, ballot_cli, repairs_cli, dues_cli):
        app.cli.add_command(group)

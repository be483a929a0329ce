"""The README's ballot example works exactly as written, from the day it was written for."""

import json
import re
import shlex
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook

from app.accounts.models import Role
from config import BASE_DIR
from tests.decisions.conftest import set_clock
from tests.fixtures.factories import make_user

# The example was written on 2026-12-02; each step runs when the README says it can.
WRITTEN = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
WHEN = {
    "create": WRITTEN,
    "open": datetime(2026, 12, 21, 1, 0, tzinfo=UTC),  # 09:00 on the opening day
    "import-paper": datetime(2026, 12, 22, 2, 0, tzinfo=UTC),
    "extend": datetime(2027, 1, 3, 2, 0, tzinfo=UTC),
    "close": datetime(2027, 1, 11, 10, 0, tzinfo=UTC),  # 18:00, the extended close
    "publish": datetime(2027, 1, 12, 2, 0, tzinfo=UTC),
    "tally": datetime(2027, 1, 12, 3, 0, tzinfo=UTC),
    "verify": datetime(2027, 1, 12, 3, 0, tzinfo=UTC),
}


def readme_commands() -> list[list[str]]:
    """The `flask ballot …` commands of the decisions section's shell block, in order."""
    text = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Owner decisions") : text.index("## Happiness")]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    commands, pending = [], ""
    for line in block.splitlines():
        pending += line.rstrip("\\") + " "
        if line.endswith("\\"):
            continue
        words = shlex.split(pending, comments=True)
        pending = ""
        if not words:
            continue
        if words[0].startswith("id=$("):  # id=$(flask ballot create … --publish-notice)
            words = [words[0].removeprefix("id=$("), *words[1:-1], words[-1].removesuffix(")")]
        command = []
        for word in [*words, "&&"]:
            if word == "&&":
                commands.append(command)
                command = []
            else:
                command.append(word)
    return commands


def test_the_readme_ballot_example_runs_as_written(runner, estate, tmp_path, monkeypatch):
    make_user("13900000001", name="王主任", grants=[(Role.COMMITTEE, estate.compound)])
    monkeypatch.chdir(tmp_path)
    book = Workbook()
    sheet = book.active
    for row in (
        ["楼栋", "单元", "房号", "选项", "委托人"],
        ["1", "1", "201", "同意", ""],
        ["2", "1", "101", "2", "丁的儿子"],
    ):
        sheet.append(row)
    book.save(tmp_path / "paper.xlsx")

    commands = readme_commands()
    assert [c[:3] for c in commands][:2] == [
        ["flask", "ballot", "create"],
        ["flask", "ballot", "open"],
    ]
    ballot_id = None
    outputs = {}
    for words in commands:
        assert words[:2] == ["flask", "ballot"], words
        step = words[2]
        moment = WHEN[step]
        set_clock(monkeypatch, lambda moment=moment: moment)
        args = [w.replace("$id", str(ballot_id)) for w in words[1:]]
        result = runner.invoke(args=args)
        assert result.exit_code == 0, (words, result.output)
        outputs[step] = result.output
        if step == "create":
            ballot_id = int(result.output.strip())
    tally = json.loads(outputs["tally"])
    assert tally["status"] == "published" and tally["voted_voters"] == 2
    assert "OK" in outputs["verify"]


@pytest.mark.parametrize("kind", ["management_mode", "general"])
def test_the_readme_dates_also_meet_the_15_day_rule(runner, estate, monkeypatch, kind):
    create = readme_commands()[0]
    set_clock(monkeypatch, lambda: WRITTEN)
    args = [w if w != "willingness" else kind for w in create[1:]]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output

"""Item 27: the README's commands work as written. Its first block ("Bringing a compound
on board") creates the compound and then the committee's account with
`flask staff create 13900000001 王主任 --role committee --compound 金源新村`, which is
refused on an empty database: "A new account needs a password." (no --password shown)."""

import re
import shlex

from config import BASE_DIR


def onboarding_commands() -> list[list[str]]:
    text = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Bringing a compound on board") : text.index("### Roster")]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    return [shlex.split(line) for line in block.splitlines() if line.strip()]


def test_the_onboarding_commands_run_as_written(app, runner):
    commands = onboarding_commands()
    assert [c[:3] for c in commands] == [
        ["flask", "compound", "create"],
        ["flask", "staff", "create"],
    ]
    for words in commands:
        result = runner.invoke(args=words[1:])
        assert result.exit_code == 0, (words, result.output)

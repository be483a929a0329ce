"""README: "A refused ballot prints every reason with its option." The CLI prints the
service's field names (--opens-at, --closes-at), which are not options of
`flask ballot create` (--opens, --closes): a street office's script author is sent to
options that do not exist."""

from tests.decisions.conftest import T0, set_clock


def test_a_refused_ballot_names_the_options_that_exist(runner, estate, monkeypatch):
    set_clock(monkeypatch, lambda: T0)
    result = runner.invoke(
        args=[
            "ballot",
            "create",
            "金源新村",
            "--kind",
            "general",
            "--title",
            "t",
            "--opens",
            "2026-12-02 09:00",
            "--closes",
            "2026-12-03 09:00",
        ]
    )
    assert result.exit_code != 0
    assert "--opens-at" not in result.output and "--closes-at" not in result.output, result.output
    assert "--opens:" in result.output and "--closes:" in result.output

"""Items 10 and 11 (the one shared id parser, bounded ids): every CLI command that takes
COMPOUND ("a name or an id") reads it with str.isdigit() and int(), so "²" raises
ValueError and a 20-digit id an OverflowError: a traceback instead of "No compound …"."""

import pytest

from tests.fixtures.factories import make_compound


@pytest.mark.parametrize("ref", ["²", "99999999999999999999"])
@pytest.mark.parametrize("command", ["ballot list", "roster export", "dues arrears"])
def test_an_odd_compound_reference_is_a_clean_refusal(app, runner, tmp_path, ref, command):
    make_compound("金源新村")
    args = [*command.split(), ref]
    if command == "roster export":
        args.append(str(tmp_path / "r.csv"))
    result = runner.invoke(args=args)
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "No compound" in result.output

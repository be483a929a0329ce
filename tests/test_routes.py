"""Every route the portal answers, as a list checked into the repository.

A route that appears or disappears fails this test until tests/routes.txt is updated in
the same change, so no page is added or lost by accident (run with ROUTES_WRITE=1 to
rewrite the list, then read the diff).
"""

import os
from pathlib import Path

LIST = Path(__file__).with_name("routes.txt")


def route_lines(app) -> list[str]:
    lines = []
    for rule in app.url_map.iter_rules():
        methods = ",".join(sorted(rule.methods - {"HEAD", "OPTIONS"}))
        lines.append(f"{methods:<9} {rule.rule}  {rule.endpoint}")
    return sorted(lines)


def test_the_routes_are_the_acknowledged_ones(web):
    current = route_lines(web)
    if os.environ.get("ROUTES_WRITE") == "1":
        LIST.write_text("\n".join(current) + "\n")
    expected = LIST.read_text().splitlines()
    appeared = sorted(set(current) - set(expected))
    gone = sorted(set(expected) - set(current))
    assert not appeared and not gone, (
        "Routes changed; update tests/routes.txt in the same change if this is on purpose.\n"
        + "".join(f"  + {line}\n" for line in appeared)
        + "".join(f"  - {line}\n" for line in gone)
    )

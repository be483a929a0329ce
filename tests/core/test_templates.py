"""Templates show, Python decides: no template compares an enum's value or a domain code
(a status, kind, rule, tier, channel, reason, outcome or step). Models, rules and the
views say what applies (``payment.is_pending``, ``line.statement``, ``steps.emphasis``)."""

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).parents[2] / "templates"
CODES = r"(status|kind|rule|tier|channel|reason|outcome|next|mode|action|route|priority|check_in)"
COMPARISONS = [
    re.compile(r"\.value\s*(==|!=|\bin\b|\bnot in\b)"),  # p.status.value == 'pending'
    re.compile(rf"\b{CODES}\s*(==|!=)\s*['\"]"),  # tier != 'standard'
    re.compile(rf"['\"]\s*(==|!=)\s*[\w.]*\b{CODES}\b"),  # 'booked' == status
]


@pytest.mark.parametrize(
    "path", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: str(p.relative_to(TEMPLATES))
)
def test_no_template_compares_a_code(path):
    text = path.read_text(encoding="utf-8")
    found = [m.group(0) for pattern in COMPARISONS for m in pattern.finditer(text)]
    assert found == [], f"{path.name} decides in the template: {found}"


def test_the_check_catches_what_it_is_for():
    samples = [
        "{% if p.status.value == 'pending' %}",
        "{% if tier != 'standard' %}",
        "{% if c.reason == 'already_used' %}",
        "{% if 'ok' == line.status %}",
    ]
    for sample in samples:
        assert any(pattern.search(sample) for pattern in COMPARISONS), sample
    assert not any(pattern.search("{% if payment.is_pending %}") for pattern in COMPARISONS)

"""Fixtures the review tests borrow from the feature suites."""

from tests.decisions.conftest import estate  # noqa: F401

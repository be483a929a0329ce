"""Fixtures the review tests borrow from the feature suites."""

from tests.decisions.conftest import estate  # noqa: F401
from tests.e2e.conftest import (  # noqa: E402,F401  (the browser, as the e2e suite runs it)
    browser_context_args,
    browser_type_launch_args,
)

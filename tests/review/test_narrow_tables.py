"""Item 26 (amounts readable at 390 px): the staff dues overview's arrears table is wider
than the phone, inside a sideways-scrolling box, so its last column, "still to pay", is
cut off at the screen's edge (by 16 px in normal text, by about 115 px in large text).
The page itself does not scroll sideways, which is all the journeys check."""

import pytest
from playwright.sync_api import Page

from tests.e2e.test_journeys import PHONES, demo, sign_in  # noqa: F401


@pytest.mark.e2e
@pytest.mark.parametrize("elder", [False, True])
def test_the_arrears_table_fits_the_phone(page: Page, demo, elder):  # noqa: F811
    base = demo["url"]
    if elder:
        page.goto(f"{base}/elder")
    sign_in(page, base, PHONES["property_manager"])
    page.goto(f"{base}/staff/compounds/{demo['compound']}/dues")
    hidden = page.evaluate("""() => [...document.querySelectorAll('main table')]
        .map(t => t.scrollWidth - t.parentElement.clientWidth).filter(d => d > 0)""")
    assert not hidden, f"tables wider than their box by {hidden} px"

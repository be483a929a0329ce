"""Phones keep the stylesheet: its link carries a fingerprint and that URL is cached a year."""

import hashlib
import re

from config import BASE_DIR


def test_the_stylesheet_link_carries_its_fingerprint(client):
    page = client.get("/login").get_data(as_text=True)
    href = re.search(r'href="(/static/css/app\.css\?v=([0-9a-f]+))"', page)
    assert href, "the stylesheet link has no fingerprint"
    body = (BASE_DIR / "static" / "css" / "app.css").read_bytes()
    assert href.group(2) == hashlib.sha256(body).hexdigest()[:10]
    response = client.get(href.group(1))
    assert response.status_code == 200
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.public and response.cache_control.immutable
    assert not response.cache_control.no_cache


def test_a_stale_or_missing_fingerprint_is_not_kept(client):
    for url in ("/static/css/app.css", "/static/css/app.css?v=0000000000"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.cache_control.max_age != 365 * 24 * 3600
        assert not response.cache_control.immutable


def test_a_missing_file_is_still_a_404(client):
    assert client.get("/static/css/nothing.css?v=abc").status_code == 404

"""Issue 10 item 20: production refuses to start with a per-worker rate-limit store.

The check compares the text with "memory://", but the limits library reads the scheme
case-insensitively and without the slashes: "MEMORY://" or "memory:/" start production
with per-process counters, exactly what the check is there to prevent."""

import pytest

from app import create_app
from app.extensions import limiter

READY = {
    "SECRET_KEY": "x" * 32,
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
    "PUBLIC_BASE_URL": "https://linli.example.gov.cn",
}


@pytest.mark.parametrize("storage", ["MEMORY://", "memory:/", "memory:", " Memory://"])
def test_production_refuses_every_spelling_of_the_memory_store(storage):
    try:
        app = create_app("production", **READY, RATELIMIT_STORAGE_URI=storage)
    except RuntimeError:
        return
    with app.app_context():
        kind = type(limiter.storage).__name__
    pytest.fail(f"production started with RATELIMIT_STORAGE_URI={storage!r} ({kind})")

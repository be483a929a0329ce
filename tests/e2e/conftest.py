"""Browser tests: Playwright driving Debian's chromium against a live, phone-sized Linli.

Every test in this folder is marked ``e2e``. Without /usr/bin/chromium they are skipped,
unless E2E_REQUIRED=1 is set (CI does), in which case they fail so they can never skip
silently. Never run ``playwright install``: these machines cannot reach its host.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app import create_app
from app.extensions import db, limiter

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Screenshots for a person to look at (git-ignored).
RESULTS_DIR = HERE.parent.parent / "test-results"


def _required() -> bool:
    return os.environ.get("E2E_REQUIRED", "").strip() == "1"


def _chromium_missing() -> bool:
    return not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK))


def _in_this_folder(item) -> bool:
    return HERE in Path(str(item.path)).resolve().parents


def pytest_collection_modifyitems(config, items):
    missing = _chromium_missing()
    for item in items:
        if not _in_this_folder(item):
            continue
        item.add_marker(pytest.mark.e2e)
        if missing and not _required():
            item.add_marker(
                pytest.mark.skip(
                    reason=f"{CHROMIUM} not found (apt-get install -y chromium); "
                    "set E2E_REQUIRED=1 to make this a failure"
                )
            )


@pytest.fixture(scope="session", autouse=True)
def _chromium_required():
    """With E2E_REQUIRED=1 a missing browser is an error, never a skip."""
    if _chromium_missing() and _required():
        pytest.fail(
            f"E2E_REQUIRED=1 but {CHROMIUM} is missing or not executable: install "
            "Debian's chromium (apt-get install -y chromium); do not run "
            "`playwright install`.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
        "locale": "zh-CN",
    }


@dataclass
class LiveServer:
    url: str
    app: Flask


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """The app on a real socket (127.0.0.1, a free port), served from a daemon thread.

    CSRF is on so the real forms are exercised. Seed data inside
    ``with live_server.app.app_context():`` and call ``db.session.remove()`` after, so
    the test's session never leaks into the server thread's requests.
    """
    tmpdir = tmp_path_factory.mktemp("e2e")
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmpdir}/e2e.db",
        WTF_CSRF_ENABLED=True,
        SERVER_NAME=None,
    )
    with app.app_context():
        db.create_all()
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(live_server):
    """Each test starts with empty sign-in rate limits (they are per IP, all 127.0.0.1)."""
    with live_server.app.app_context():
        limiter.reset()
    yield


@pytest.fixture(scope="session")
def results_dir() -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    return RESULTS_DIR

"""Fixtures: a fresh app and database per test, on SQLite or TEST_DATABASE_URL."""

import os

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db, limiter
from tests.factories import PASSWORD


def database_url(tmp_path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.db'}"


def reset_schema() -> None:
    """Drop everything, including Alembic's table, then build the models' schema."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    db.create_all()


class SeparateSessionClient(FlaskClient):
    """A client whose requests run in their own app context, as in a real worker.

    The test seeds and inspects data through the fixture's app context; after each
    request the test's session is expired so it sees what the request committed.
    """

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        if has_app_context():  # not in worker threads of concurrency tests
            db.session.expire_all()
        return response


@pytest.fixture
def app(tmp_path):
    """The app whose context the test body runs in (seeding and assertions)."""
    if os.environ.get("TEST_DATABASE_URL"):
        # Fail loudly rather than silently falling back to SQLite.
        sa.create_engine(os.environ["TEST_DATABASE_URL"]).connect().close()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url(tmp_path),
                     UPLOAD_DIR=str(tmp_path / "uploads"))
    with app.app_context():
        reset_schema()
        limiter.reset()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def web(app):
    """A second app on the same database that serves the client's requests."""
    web = create_app("testing", **{k: v for k, v in app.config.items() if k.isupper()})
    web.test_client_class = SeparateSessionClient
    yield web
    with web.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(web):
    return web.test_client()


@pytest.fixture
def runner(web):
    return web.test_cli_runner()


def login(client, phone: str, password: str = PASSWORD):
    """Sign in through the real form."""
    return client.post("/login", data={"phone": phone, "password": password})


@pytest.fixture
def sign_in(client):
    def _sign_in(phone: str, password: str = PASSWORD):
        response = login(client, phone, password)
        assert response.status_code == 302, response.data[:500]
        return response

    return _sign_in


def zh(msgid: str, **params) -> str:
    """The Chinese text a page shows for an English msgid (the default language)."""
    from babel.support import Translations

    from config import BASE_DIR

    text = Translations.load(str(BASE_DIR / "translations"), ["zh_Hans"]).gettext(msgid)
    return text % params if params else text


def pytest_sessionfinish(session, exitstatus):
    """With FAIL_ON_SKIP=1 (CI), a skipped test fails the run: nothing passes by skipping."""
    if os.environ.get("FAIL_ON_SKIP") != "1":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(f"FAIL_ON_SKIP: {len(skipped)} tests were skipped", red=True)
        for report in skipped:
            reporter.write_line(f"  skipped: {report.nodeid} {report.longrepr}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

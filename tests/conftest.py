"""Fixtures: one pair of apps per test session, emptied tables per test.

The schema is built once per session (per xdist worker) on SQLite or TEST_DATABASE_URL;
after each test every table is emptied and the apps' settings are put back, so each test
starts from an empty database without paying for a new app and a new schema.
"""

import os
import re

import pytest
import sqlalchemy as sa
from flask import has_app_context
from flask.testing import FlaskClient

from app import create_app
from app.extensions import db, limiter
from tests.fixtures.factories import PASSWORD


def _worker() -> str:
    """This run's database name suffix: the xdist worker, plus TEST_DATABASE_SUFFIX so that
    two checkouts can run the suite on one PostgreSQL server at the same time."""
    return os.environ.get("TEST_DATABASE_SUFFIX", "") + os.environ.get(
        "PYTEST_XDIST_WORKER", "main"
    )


def worker_database_url(base_url: str, suffix: str) -> str:
    """A PostgreSQL database of this worker's own (created if missing) beside base_url's."""
    url = sa.engine.make_url(base_url)
    name = re.sub(r"\W", "_", f"{url.database}_{suffix}")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        if not conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def session_database_url(tmp_dir, suffix: str = "") -> str:
    """SQLite in the session's folder, or a per-worker database next to TEST_DATABASE_URL."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_dir / f'test{suffix}.db'}"
    # Fail loudly rather than silently falling back to SQLite.
    sa.create_engine(base).connect().close()
    return worker_database_url(base, _worker() + suffix)


def reset_schema() -> None:
    """Drop everything, including Alembic's table, then build the models' schema."""
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    db.create_all()


def empty_tables() -> None:
    """Delete every row of every table (and restart PostgreSQL's id sequences)."""
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


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


@pytest.fixture(scope="session")
def _apps(tmp_path_factory):
    """The test body's app and the app serving the client, built once per session."""
    folder = tmp_path_factory.mktemp("db")
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=session_database_url(folder),
        UPLOAD_DIR=str(folder / "uploads"),
    )
    web = create_app("testing", **{k: v for k, v in app.config.items() if k.isupper()})
    web.test_client_class = SeparateSessionClient
    with app.app_context():
        reset_schema()
        db.session.remove()
    yield app, web
    for each in (app, web):
        with each.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(_apps, tmp_path):
    """The app whose context the test body runs in (seeding and assertions)."""
    app, web = _apps
    saved = {each: dict(each.config) for each in (app, web)}
    for each in (app, web):
        each.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    # A test that built an app of its own re-bound the one limiter to that app's store.
    limiter.init_app(web)
    with app.app_context():
        limiter.reset()
        try:
            yield app
        finally:
            db.session.remove()
            with web.app_context():
                db.session.remove()
            empty_tables()
            for each, config in saved.items():
                each.config.clear()
                each.config.update(config)


@pytest.fixture
def web(app, _apps):
    """A second app on the same database that serves the client's requests."""
    return _apps[1]


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

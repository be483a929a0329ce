"""Fixtures: a fresh app and database per test, on SQLite or TEST_DATABASE_URL."""

import os

import pytest
import sqlalchemy as sa

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


@pytest.fixture
def app(tmp_path):
    if os.environ.get("TEST_DATABASE_URL"):
        # Fail loudly rather than silently falling back to SQLite.
        sa.create_engine(os.environ["TEST_DATABASE_URL"]).connect().close()
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url(tmp_path))
    with app.app_context():
        reset_schema()
        limiter.reset()
        yield app
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


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

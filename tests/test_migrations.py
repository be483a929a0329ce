"""Upgrading an empty database to head yields exactly the models' schema."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app.extensions import db


def test_upgrade_to_head_matches_models(app):
    db.drop_all()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []
    downgrade(revision="base")
    assert sa.inspect(db.engine).get_table_names() in ([], ["alembic_version"])
    upgrade()

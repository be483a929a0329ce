"""Upgrading an empty database to head yields exactly the models' schema."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db
from tests.conftest import session_database_url


def test_upgrade_to_head_matches_models(tmp_path):
    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=session_database_url(tmp_path, "_migrations")
    )
    with app.app_context():
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
        db.session.remove()
        db.engine.dispose()


def test_compounds_get_their_district_and_street_office_as_records(tmp_path):
    """0012: each distinct (district, street office) of the existing compounds becomes
    records, and each compound points at its street office."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=session_database_url(tmp_path, "_places"))
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(revision="0011")
        with db.engine.begin() as conn:
            for name, district, office in (
                ("甲", "城南区", "金源街道"),
                ("乙", "城南区", "金源街道"),
                ("丙", "城北区", "北湖街道 "),
                ("丁", "", ""),
                ("戊", "", "无区街道"),
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO compounds (name, district, street_office, stage, "
                        "management_mode, created_at) VALUES (:n, :d, :o, 'surveying', "
                        "'undecided', CURRENT_TIMESTAMP)"
                    ),
                    {"n": name, "d": district, "o": office},
                )
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO users (phone, name, password_hash, active, created_at) "
                    "VALUES ('13900000005', '刘科长', 'x', true, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO role_grants (user_id, role, compound_id, created_at) SELECT "
                    "u.id, 'street_admin', c.id, CURRENT_TIMESTAMP FROM users u, compounds c "
                    "WHERE c.name IN ('甲', '乙')"
                )
            )
        upgrade()
        with db.engine.connect() as conn:
            admins = conn.execute(
                sa.text(
                    "SELECT s.name FROM office_grants g JOIN street_offices s "
                    "ON s.id = g.street_office_id WHERE g.role = 'street_admin'"
                )
            ).all()
            rows = conn.execute(
                sa.text(
                    "SELECT c.name, d.name, s.name FROM compounds c "
                    "LEFT JOIN street_offices s ON s.id = c.street_office_id "
                    "LEFT JOIN districts d ON d.id = s.district_id ORDER BY c.id"
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            ("甲", "城南区", "金源街道"),
            ("乙", "城南区", "金源街道"),
            ("丙", "城北区", "北湖街道"),
            ("丁", None, None),
            ("戊", None, None),
        ]
        assert [a[0] for a in admins] == ["金源街道"]  # one office grant for its compounds
        db.session.remove()
        db.engine.dispose()

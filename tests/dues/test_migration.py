"""The dues migration of issue 10: a payment the resident took back gets its own status."""

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app import create_app
from app.extensions import db


def test_withdrawn_payments_move_to_their_own_status(tmp_path):
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'm.db'}")
    with app.app_context():
        upgrade(revision="0006")
        with db.engine.begin() as conn:
            for n, (status, reason) in enumerate(
                (("rejected", "withdrawn"), ("rejected", "未查到这笔转账"), ("pending", ""))
            ):
                conn.execute(
                    sa.text(
                        "INSERT INTO payments (id, compound_id, dwelling_id, channel, amount_fen, "
                        "reference, status, reason, recorded_at) VALUES (:id, 1, 1, 'direct', 100, "
                        "'', :status, :reason, '2026-11-26 08:00:00')"
                    ),
                    {"id": n + 1, "status": status, "reason": reason},
                )
        upgrade(revision="0010")
        with db.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT status, reason FROM payments ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [
            ("withdrawn", ""),
            ("rejected", "未查到这笔转账"),
            ("pending", ""),
        ]
        downgrade(revision="0006")
        with db.engine.connect() as conn:
            first = conn.execute(sa.text("SELECT status, reason FROM payments WHERE id = 1")).one()
        assert tuple(first) == ("rejected", "withdrawn")
        db.session.remove()
        db.engine.dispose()

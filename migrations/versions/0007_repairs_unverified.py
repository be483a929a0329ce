"""repairs_unverified: reports sent from a sticker without an account

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.alter_column('reporter_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('unverified', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=11), nullable=True))
        batch_op.add_column(sa.Column('contact_consent', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('status_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_tickets_status_token_hash'),
                                          ['status_token_hash'])


def downgrade():
    # Unverified reports have no reporter account: they cannot survive the old schema.
    op.execute("DELETE FROM ticket_photos WHERE ticket_id IN "
               "(SELECT id FROM tickets WHERE reporter_id IS NULL)")
    op.execute("DELETE FROM ticket_events WHERE ticket_id IN "
               "(SELECT id FROM tickets WHERE reporter_id IS NULL)")
    op.execute("DELETE FROM ticket_followers WHERE ticket_id IN "
               "(SELECT id FROM tickets WHERE reporter_id IS NULL)")
    op.execute("DELETE FROM tickets WHERE reporter_id IS NULL")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_tickets_status_token_hash'), type_='unique')
        batch_op.drop_column('status_token_hash')
        batch_op.drop_column('contact_consent')
        batch_op.drop_column('contact_phone')
        batch_op.drop_column('unverified')
        batch_op.alter_column('reporter_id', existing_type=sa.Integer(), nullable=False)

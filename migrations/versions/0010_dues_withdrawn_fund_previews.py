"""dues: a withdrawn payment status; maintenance-fund import previews

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fund_import_previews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('rows', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_fund_import_previews_actor_id_users')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_fund_import_previews_compound_id_compounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_import_previews')),
    sa.UniqueConstraint('token', name=op.f('uq_fund_import_previews_token'))
    )
    with op.batch_alter_table('fund_import_previews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fund_import_previews_compound_id'), ['compound_id'], unique=False)

    # A payment the resident took back was stored as rejected with the reason "withdrawn";
    # it has its own status now (the column is a plain string: no type change).
    op.execute("UPDATE payments SET status = 'withdrawn', reason = '' "
               "WHERE status = 'rejected' AND reason = 'withdrawn'")


def downgrade():
    op.execute("UPDATE payments SET status = 'rejected', reason = 'withdrawn' "
               "WHERE status = 'withdrawn'")
    with op.batch_alter_table('fund_import_previews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_import_previews_compound_id'))

    op.drop_table('fund_import_previews')

"""policy_settings: local policy overridden per city, district, street office or compound

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('policy_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=20), nullable=False),
    sa.Column('scope_key', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_policy_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_settings')),
    sa.UniqueConstraint('scope', 'scope_key', 'name', name=op.f('uq_policy_settings_scope_scope_key_name'))
    )


def downgrade():
    op.drop_table('policy_settings')

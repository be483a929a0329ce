"""acceptance and works: the joint completion acceptance record with its participants' signatures; each compound's renovation works

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

PARTIES = ('lead_department', 'housing', 'natural_resources', 'telecom', 'street_office',
           'community', 'owners', 'property_company', 'designer', 'builder', 'supervisor',
           'utilities')


def upgrade():
    op.create_table('acceptance_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=True),
    sa.Column('document_name', sa.String(length=80), nullable=True),
    sa.Column('document_type', sa.String(length=40), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['completed_by_id'], ['users.id'], name=op.f('fk_acceptance_records_completed_by_id_users')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_acceptance_records_compound_id_compounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acceptance_records')),
    sa.UniqueConstraint('compound_id', name=op.f('uq_acceptance_records_compound_id'))
    )
    op.create_table('acceptance_signatures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('party', sa.Enum(*PARTIES, name='party', native_enum=False, length=32, create_constraint=False), nullable=False),
    sa.Column('involved', sa.Boolean(), nullable=False),
    sa.Column('organisation', sa.String(length=100), nullable=False),
    sa.Column('signed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['acceptance_records.id'], name=op.f('fk_acceptance_signatures_record_id_acceptance_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acceptance_signatures')),
    sa.UniqueConstraint('record_id', 'party', name=op.f('uq_acceptance_signatures_record_id_party'))
    )
    with op.batch_alter_table('acceptance_signatures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_acceptance_signatures_record_id'), ['record_id'], unique=False)

    op.create_table('renovation_works',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('status', sa.Enum('planned', 'in_progress', 'done', 'not_needed', name='workstatus', native_enum=False, length=32, create_constraint=False), nullable=False),
    sa.Column('contractor', sa.String(length=100), nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=True),
    sa.Column('planned_end', sa.Date(), nullable=True),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.Column('cost_item_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_renovation_works_compound_id_compounds')),
    sa.ForeignKeyConstraint(['cost_item_id'], ['cost_items.id'], name=op.f('fk_renovation_works_cost_item_id_cost_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_renovation_works')),
    sa.UniqueConstraint('compound_id', 'code', name=op.f('uq_renovation_works_compound_id_code'))
    )
    with op.batch_alter_table('renovation_works', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_renovation_works_compound_id'), ['compound_id'], unique=False)


def downgrade():
    with op.batch_alter_table('renovation_works', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_renovation_works_compound_id'))
    op.drop_table('renovation_works')
    with op.batch_alter_table('acceptance_signatures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_acceptance_signatures_record_id'))
    op.drop_table('acceptance_signatures')
    op.drop_table('acceptance_records')

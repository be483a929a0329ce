"""programme: districts and street offices as records, office grants, stage changes, report tokens

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:00:00.000000

Existing compounds keep their district and street-office names; each distinct pair
becomes a district and a street office record, and the compound points at it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('districts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_districts')),
    sa.UniqueConstraint('name', name=op.f('uq_districts_name'))
    )
    op.create_table('street_offices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('district_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_street_offices_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_street_offices')),
    sa.UniqueConstraint('district_id', 'name', name=op.f('uq_street_offices_district_id_name'))
    )
    with op.batch_alter_table('street_offices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_street_offices_district_id'), ['district_id'], unique=False)

    op.create_table('office_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('committee', 'property_manager', 'canteen_operator', 'classroom_operator', 'street_admin', 'city_admin', 'contractor', name='role', native_enum=False, length=32, create_constraint=False), nullable=False),
    sa.Column('street_office_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['street_office_id'], ['street_offices.id'], name=op.f('fk_office_grants_street_office_id_street_offices')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_office_grants_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_grants')),
    sa.UniqueConstraint('user_id', 'role', 'street_office_id', name=op.f('uq_office_grants_user_id_role_street_office_id'))
    )
    with op.batch_alter_table('office_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_office_grants_street_office_id'), ['street_office_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_office_grants_user_id'), ['user_id'], unique=False)

    op.create_table('stage_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('from_stage', sa.Enum('surveying', 'planned', 'in_construction', 'accepted', 'managed', name='stage', native_enum=False, length=32, create_constraint=False), nullable=True),
    sa.Column('to_stage', sa.Enum('surveying', 'planned', 'in_construction', 'accepted', 'managed', name='stage', native_enum=False, length=32, create_constraint=False), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_stage_changes_actor_id_users')),
    sa.ForeignKeyConstraint(['compound_id'], ['compounds.id'], name=op.f('fk_stage_changes_compound_id_compounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_changes'))
    )
    with op.batch_alter_table('stage_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_changes_compound_id'), ['compound_id'], unique=False)

    op.create_table('report_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('street_office_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_report_tokens_created_by_id_users')),
    sa.ForeignKeyConstraint(['street_office_id'], ['street_offices.id'], name=op.f('fk_report_tokens_street_office_id_street_offices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_report_tokens_token_hash'))
    )
    with op.batch_alter_table('report_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_tokens_street_office_id'), ['street_office_id'], unique=False)

    with op.batch_alter_table('compounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('street_office_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_compounds_street_office_id'), ['street_office_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_compounds_street_office_id_street_offices'), 'street_offices', ['street_office_id'], ['id'])

    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('office_grant_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_role_grants_office_grant_id'), ['office_grant_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_role_grants_office_grant_id_office_grants'), 'office_grants', ['office_grant_id'], ['id'], ondelete='CASCADE')

    _records_from_names()


def _records_from_names():
    """Each distinct (district, street office) of the existing compounds becomes records
    (names trimmed; a compound missing either stays unplaced, its text kept), and each
    street-office admin of such a compound becomes admin of its street office."""
    conn = op.get_bind()
    now = sa.func.now() if conn.dialect.name == "postgresql" else sa.text("CURRENT_TIMESTAMP")
    compounds = sa.table(
        "compounds", sa.column("id"), sa.column("district"), sa.column("street_office"),
        sa.column("street_office_id"),
    )
    districts = sa.table("districts", sa.column("id"), sa.column("name"), sa.column("created_at"))
    offices = sa.table(
        "street_offices", sa.column("id"), sa.column("district_id"), sa.column("name"),
        sa.column("created_at"),
    )
    grants = sa.table("role_grants", sa.column("user_id"), sa.column("role"), sa.column("compound_id"))
    office_grants = sa.table(
        "office_grants", sa.column("user_id"), sa.column("role"), sa.column("street_office_id"),
        sa.column("created_at"),
    )
    for compound_id, district, office in conn.execute(
        sa.select(compounds.c.id, compounds.c.district, compounds.c.street_office)
    ).all():
        district, office = (district or "").strip(), (office or "").strip()
        if not district or not office:
            continue
        district_id = conn.scalar(sa.select(districts.c.id).where(districts.c.name == district))
        if district_id is None:
            conn.execute(sa.insert(districts).values(name=district, created_at=now))
            district_id = conn.scalar(sa.select(districts.c.id).where(districts.c.name == district))
        office_id = conn.scalar(
            sa.select(offices.c.id).where(
                offices.c.district_id == district_id, offices.c.name == office
            )
        )
        if office_id is None:
            conn.execute(
                sa.insert(offices).values(district_id=district_id, name=office, created_at=now)
            )
            office_id = conn.scalar(
                sa.select(offices.c.id).where(
                    offices.c.district_id == district_id, offices.c.name == office
                )
            )
        conn.execute(
            sa.update(compounds)
            .where(compounds.c.id == compound_id)
            .values(street_office_id=office_id, district=district, street_office=office)
        )
    pairs = conn.execute(
        sa.select(grants.c.user_id, compounds.c.street_office_id)
        .join(compounds, compounds.c.id == grants.c.compound_id)
        .where(grants.c.role == "street_admin", compounds.c.street_office_id.is_not(None))
        .distinct()
    ).all()
    for user_id, office_id in pairs:
        conn.execute(
            sa.insert(office_grants).values(
                user_id=user_id, role="street_admin", street_office_id=office_id, created_at=now
            )
        )


def downgrade():
    with op.batch_alter_table('role_grants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_role_grants_office_grant_id_office_grants'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_role_grants_office_grant_id'))
        batch_op.drop_column('office_grant_id')

    with op.batch_alter_table('compounds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_compounds_street_office_id_street_offices'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_compounds_street_office_id'))
        batch_op.drop_column('street_office_id')

    with op.batch_alter_table('report_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_tokens_street_office_id'))
    op.drop_table('report_tokens')
    with op.batch_alter_table('stage_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_changes_compound_id'))
    op.drop_table('stage_changes')
    with op.batch_alter_table('office_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_office_grants_user_id'))
        batch_op.drop_index(batch_op.f('ix_office_grants_street_office_id'))
    op.drop_table('office_grants')
    with op.batch_alter_table('street_offices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_street_offices_district_id'))
    op.drop_table('street_offices')
    op.drop_table('districts')

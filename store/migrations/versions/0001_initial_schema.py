"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 19:27:07.279434
"""

from __future__ import annotations

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('changesets',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('author', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('details', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.CheckConstraint('length(reason) > 0', name=op.f('ck_changesets_reason_present')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_changesets'))
    )
    op.create_table('staff',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('staff_key', sa.Text(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('organisation', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff')),
    sa.UniqueConstraint('staff_key', name=op.f('uq_staff_staff_key'))
    )
    op.create_table('grid_codes',
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('status', sa.Text(), server_default='active', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_changeset_id', sa.BigInteger(), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_changeset_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint("(status = 'retired') = (retired_at IS NOT NULL)", name=op.f('ck_grid_codes_retired_has_date')),
    sa.CheckConstraint("code ~ '^[0-9]+$'", name=op.f('ck_grid_codes_code_digits')),
    sa.CheckConstraint("status IN ('active', 'retired')", name=op.f('ck_grid_codes_status_known')),
    sa.CheckConstraint('level BETWEEN 1 AND 5', name=op.f('ck_grid_codes_level_range')),
    sa.ForeignKeyConstraint(['created_changeset_id'], ['changesets.id'], name=op.f('fk_grid_codes_created_changeset_id_changesets')),
    sa.ForeignKeyConstraint(['retired_changeset_id'], ['changesets.id'], name=op.f('fk_grid_codes_retired_changeset_id_changesets')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_grid_codes'))
    )
    op.create_table('code_lineage',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('old_code', sa.Text(), nullable=False),
    sa.Column('new_code', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('changeset_id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint("kind IN ('split', 'merge', 'renumber', 'transfer', 'reshape', 'replace')", name=op.f('ck_code_lineage_kind_known')),
    sa.ForeignKeyConstraint(['changeset_id'], ['changesets.id'], name=op.f('fk_code_lineage_changeset_id_changesets')),
    sa.ForeignKeyConstraint(['new_code'], ['grid_codes.code'], name=op.f('fk_code_lineage_new_code_grid_codes')),
    sa.ForeignKeyConstraint(['old_code'], ['grid_codes.code'], name=op.f('fk_code_lineage_old_code_grid_codes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_lineage'))
    )
    op.create_index('ix_code_lineage_old_code', 'code_lineage', ['old_code'], unique=False)
    op.create_table('grid_versions',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('parent_code', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.Column('changeset_id', sa.BigInteger(), nullable=True),
    sa.Column('retired_changeset_id', sa.BigInteger(), nullable=True),
    sa.CheckConstraint('parent_code IS NULL OR left(code, length(parent_code)) = parent_code', name=op.f('ck_grid_versions_code_extends_parent')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name=op.f('ck_grid_versions_valid_range')),
    sa.ForeignKeyConstraint(['changeset_id'], ['changesets.id'], name=op.f('fk_grid_versions_changeset_id_changesets')),
    sa.ForeignKeyConstraint(['code'], ['grid_codes.code'], name=op.f('fk_grid_versions_code_grid_codes')),
    sa.ForeignKeyConstraint(['retired_changeset_id'], ['changesets.id'], name=op.f('fk_grid_versions_retired_changeset_id_changesets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid_versions')),
    sa.UniqueConstraint('code', 'version', name=op.f('uq_grid_versions_code_version'))
    )
    op.create_index('ix_grid_versions_code_valid_from', 'grid_versions', ['code', 'valid_from'], unique=False)
    op.create_index('ix_grid_versions_current', 'grid_versions', ['code'], unique=True, postgresql_where='valid_to IS NULL')
    op.create_index('ix_grid_versions_geom', 'grid_versions', ['geom'], unique=False, postgresql_using='gist')
    op.create_table('grids',
    sa.Column('code', sa.Text(), nullable=False),
    sa.Column('level', sa.SmallInteger(), nullable=False),
    sa.Column('parent_code', sa.Text(), nullable=True),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('changeset_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('(parent_code IS NULL) = (level = 1)', name=op.f('ck_grids_parent_iff_not_level1')),
    sa.CheckConstraint('NOT ST_IsEmpty(geom)', name=op.f('ck_grids_geom_not_empty')),
    sa.CheckConstraint('level BETWEEN 1 AND 5', name=op.f('ck_grids_level_range')),
    sa.CheckConstraint('parent_code IS NULL OR (length(code) > length(parent_code) AND left(code, length(parent_code)) = parent_code)', name=op.f('ck_grids_code_extends_parent')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_grids_version_positive')),
    sa.ForeignKeyConstraint(['changeset_id'], ['changesets.id'], name=op.f('fk_grids_changeset_id_changesets')),
    sa.ForeignKeyConstraint(['code'], ['grid_codes.code'], name=op.f('fk_grids_code_grid_codes')),
    sa.ForeignKeyConstraint(['parent_code'], ['grids.code'], name=op.f('fk_grids_parent_code_grids'), initially='DEFERRED', deferrable=True),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_grids'))
    )
    op.create_index('ix_grids_geom', 'grids', ['geom'], unique=False, postgresql_using='gist')
    op.create_index('ix_grids_parent_code', 'grids', ['parent_code'], unique=False)
    op.create_table('households',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('household_key', sa.Text(), nullable=False),
    sa.Column('address', sa.Text(), server_default='', nullable=False),
    sa.Column('building_no', sa.Text(), nullable=True),
    sa.Column('house_no', sa.Text(), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('members', sa.SmallInteger(), server_default='1', nullable=False),
    sa.Column('special_kinds', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('grid_code', sa.Text(), nullable=True),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("special_kinds <@ ARRAY['empty_nest', 'disabled', 'left_behind_child', 'hardship']::text[]", name=op.f('ck_households_special_kinds_known')),
    sa.CheckConstraint('members >= 0', name=op.f('ck_households_members_nonnegative')),
    sa.ForeignKeyConstraint(['grid_code'], ['grid_codes.code'], name=op.f('fk_households_grid_code_grid_codes')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('household_key', name=op.f('uq_households_household_key'))
    )
    op.create_index('ix_households_geom', 'households', ['geom'], unique=False, postgresql_using='gist')
    op.create_index('ix_households_grid_code', 'households', ['grid_code'], unique=False)
    op.create_table('incidents',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('incident_key', sa.Text(), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry', nullable=False), nullable=False),
    sa.Column('address', sa.Text(), server_default='', nullable=False),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('category', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('status', sa.Text(), server_default='reported', nullable=False),
    sa.Column('disposition', sa.Text(), nullable=True),
    sa.Column('grid_code', sa.Text(), nullable=True),
    sa.Column('grid_code_at_report', sa.Text(), nullable=True),
    sa.Column('reported_by', sa.BigInteger(), nullable=True),
    sa.Column('reporter_name', sa.Text(), nullable=True),
    sa.Column('assigned_to', sa.BigInteger(), nullable=True),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("disposition IS NULL OR disposition IN ('solve_now', 'research_assign', 'explain_respond')", name=op.f('ck_incidents_disposition_known')),
    sa.CheckConstraint("status IN ('reported', 'accepted', 'rejected', 'classified', 'dispatched', 'handled', 'closed')", name=op.f('ck_incidents_status_known')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_incidents_version_positive')),
    sa.ForeignKeyConstraint(['assigned_to'], ['staff.id'], name=op.f('fk_incidents_assigned_to_staff')),
    sa.ForeignKeyConstraint(['grid_code'], ['grid_codes.code'], name=op.f('fk_incidents_grid_code_grid_codes')),
    sa.ForeignKeyConstraint(['grid_code_at_report'], ['grid_codes.code'], name=op.f('fk_incidents_grid_code_at_report_grid_codes')),
    sa.ForeignKeyConstraint(['reported_by'], ['staff.id'], name=op.f('fk_incidents_reported_by_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('incident_key', name=op.f('uq_incidents_incident_key'))
    )
    op.create_index('ix_incidents_geom', 'incidents', ['geom'], unique=False, postgresql_using='gist')
    op.create_index('ix_incidents_grid_code', 'incidents', ['grid_code'], unique=False)
    op.create_index('ix_incidents_reported_at', 'incidents', ['reported_at'], unique=False)
    op.create_table('staff_assignments',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('staff_id', sa.BigInteger(), nullable=False),
    sa.Column('grid_code', sa.Text(), nullable=False),
    sa.Column('role', sa.Text(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('building_no', sa.Text(), nullable=True),
    sa.CheckConstraint("role IN ('liaison_leader', 'grid_head', 'micro_worker', 'grid_police', 'family_doctor', 'supervisor', 'coordinator', 'building_head')", name=op.f('ck_staff_assignments_role_known')),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_staff_assignments_date_range')),
    sa.ForeignKeyConstraint(['grid_code'], ['grid_codes.code'], name=op.f('fk_staff_assignments_grid_code_grid_codes')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_staff_assignments_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_assignments'))
    )
    op.create_index('ix_staff_assignments_grid_code', 'staff_assignments', ['grid_code'], unique=False)
    op.create_index('ix_staff_assignments_staff_id', 'staff_assignments', ['staff_id'], unique=False)
    op.create_table('incident_events',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('incident_id', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.Text(), nullable=False),
    sa.Column('actor', sa.Text(), nullable=False),
    sa.Column('actor_staff_id', sa.BigInteger(), nullable=True),
    sa.Column('from_status', sa.Text(), nullable=True),
    sa.Column('to_status', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.CheckConstraint("to_status IN ('reported', 'accepted', 'rejected', 'classified', 'dispatched', 'handled', 'closed')", name=op.f('ck_incident_events_to_status_known')),
    sa.ForeignKeyConstraint(['actor_staff_id'], ['staff.id'], name=op.f('fk_incident_events_actor_staff_id_staff')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_events_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_events'))
    )
    op.create_index('ix_incident_events_incident_id', 'incident_events', ['incident_id'], unique=False)
    op.create_table('residents',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('household_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('relation', sa.Text(), nullable=True),
    sa.Column('gender', sa.Text(), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('id_number', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_residents_household_id_households'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_residents'))
    )
    op.create_index('ix_residents_household_id', 'residents', ['household_id'], unique=False)
    op.create_table('visits',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('household_id', sa.BigInteger(), nullable=False),
    sa.Column('staff_id', sa.BigInteger(), nullable=False),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.Text(), server_default='routine', nullable=False),
    sa.Column('note', sa.Text(), server_default='', nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4490, dimension=2, spatial_index=False, from_text='ST_GeomFromEWKT', name='geometry'), nullable=True),
    sa.Column('grid_code', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['grid_code'], ['grid_codes.code'], name=op.f('fk_visits_grid_code_grid_codes')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_visits_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_visits_staff_id_staff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    op.create_index('ix_visits_grid_code', 'visits', ['grid_code'], unique=False)
    op.create_index('ix_visits_household_id', 'visits', ['household_id'], unique=False)
    op.create_index('ix_visits_staff_id_visited_at', 'visits', ['staff_id', 'visited_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_visits_staff_id_visited_at', table_name='visits')
    op.drop_index('ix_visits_household_id', table_name='visits')
    op.drop_index('ix_visits_grid_code', table_name='visits')
    op.drop_table('visits')
    op.drop_index('ix_residents_household_id', table_name='residents')
    op.drop_table('residents')
    op.drop_index('ix_incident_events_incident_id', table_name='incident_events')
    op.drop_table('incident_events')
    op.drop_index('ix_staff_assignments_staff_id', table_name='staff_assignments')
    op.drop_index('ix_staff_assignments_grid_code', table_name='staff_assignments')
    op.drop_table('staff_assignments')
    op.drop_index('ix_incidents_reported_at', table_name='incidents')
    op.drop_index('ix_incidents_grid_code', table_name='incidents')
    op.drop_index('ix_incidents_geom', table_name='incidents', postgresql_using='gist')
    op.drop_table('incidents')
    op.drop_index('ix_households_grid_code', table_name='households')
    op.drop_index('ix_households_geom', table_name='households', postgresql_using='gist')
    op.drop_table('households')
    op.drop_index('ix_grids_parent_code', table_name='grids')
    op.drop_index('ix_grids_geom', table_name='grids', postgresql_using='gist')
    op.drop_table('grids')
    op.drop_index('ix_grid_versions_geom', table_name='grid_versions', postgresql_using='gist')
    op.drop_index('ix_grid_versions_current', table_name='grid_versions', postgresql_where='valid_to IS NULL')
    op.drop_index('ix_grid_versions_code_valid_from', table_name='grid_versions')
    op.drop_table('grid_versions')
    op.drop_index('ix_code_lineage_old_code', table_name='code_lineage')
    op.drop_table('code_lineage')
    op.drop_table('grid_codes')
    op.drop_table('staff')
    op.drop_table('changesets')

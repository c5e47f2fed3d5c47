"""Every mapped table, in one metadata.

Geometries are stored in EPSG:4490 (CGCS2000 geographic, lon/lat order in WKB); every
geometry column passes ``srid=`` explicitly (GeoAlchemy2's default is -1). GiST indexes are
declared explicitly (``spatial_index=False`` + ``Index(..., postgresql_using="gist")``) so the
Alembic migrations and the models say exactly the same thing.

Every table that holds governed data carries a grid code, so any query can be scoped to
the grids a user may see.

Grids live in three tables:

* ``grid_codes`` — the registry of every code ever allocated, active or retired (codes are
  never reused); households, incidents and visits reference it, so a retired code on an old
  incident still resolves.
* ``grids`` — the current plan: one row per active grid, with a ``version`` number for
  optimistic locking.
* ``grid_versions`` — every version of every grid with ``valid_from`` / ``valid_to``
  (MapIt generations with real dates); the current plan is the rows with no ``valid_to``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry, WKBElement
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gis.crs import STORAGE_EPSG
from governance.vocab import DISPOSITIONS, INCIDENT_STATUSES, SPECIAL_KINDS, STAFF_ROLES

__all__ = [
    "SRID",
    "Base",
    "Changeset",
    "GridCode",
    "Grid",
    "GridVersion",
    "CodeLineage",
    "Household",
    "Resident",
    "Staff",
    "StaffAssignment",
    "Incident",
    "Photo",
    "IncidentEvent",
    "Visit",
    "Account",
    "AccountGrant",
    "LoginSession",
    "RoleAccess",
    "RolePermission",
    "AuditEntry",
    "SECURITY_TABLES",
]

#: Storage CRS of every geometry column: CGCS2000 geographic.
SRID = STORAGE_EPSG

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _timestamp(**kw: Any) -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), **kw)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Changeset(Base):
    """One change to the data (an import, a boundary edit, a rollback, the demo load)."""

    __tablename__ = "changesets"
    __table_args__ = (CheckConstraint("length(reason) > 0", name="reason_present"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    author: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _timestamp()
    reason: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, default="edit")
    #: Free-form details: the operation, its parameters, before/after geometries as WKT.
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")


class GridCode(Base):
    """Registry of every grid code ever allocated. A retired code is never reused."""

    __tablename__ = "grid_codes"
    __table_args__ = (
        CheckConstraint("code ~ '^[0-9]+$'", name="code_digits"),
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
        CheckConstraint("status IN ('active', 'retired')", name="status_known"),
        CheckConstraint("(status = 'retired') = (retired_at IS NOT NULL)", name="retired_has_date"),
    )

    code: Mapped[str] = mapped_column(Text, primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(Text, default="active", server_default="active")
    created_at: Mapped[dt.datetime] = _timestamp()
    created_changeset_id: Mapped[int | None] = mapped_column(ForeignKey("changesets.id"))
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    retired_changeset_id: Mapped[int | None] = mapped_column(ForeignKey("changesets.id"))


class Grid(Base):
    """A grid of the current plan (one row per active code)."""

    __tablename__ = "grids"
    __table_args__ = (
        CheckConstraint("level BETWEEN 1 AND 5", name="level_range"),
        CheckConstraint("(parent_code IS NULL) = (level = 1)", name="parent_iff_not_level1"),
        CheckConstraint(
            "parent_code IS NULL OR (length(code) > length(parent_code) "
            "AND left(code, length(parent_code)) = parent_code)",
            name="code_extends_parent",
        ),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("NOT ST_IsEmpty(geom)", name="geom_not_empty"),
        Index("ix_grids_geom", "geom", postgresql_using="gist"),
        Index("ix_grids_parent_code", "parent_code"),
    )

    code: Mapped[str] = mapped_column(ForeignKey("grid_codes.code"), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)
    parent_code: Mapped[str | None] = mapped_column(
        ForeignKey("grids.code", deferrable=True, initially="DEFERRED")
    )
    name: Mapped[str] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False))
    #: Optimistic-locking counter, bumped by every changeset that touches the grid.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    changeset_id: Mapped[int | None] = mapped_column(ForeignKey("changesets.id"))
    created_at: Mapped[dt.datetime] = _timestamp()
    updated_at: Mapped[dt.datetime] = _timestamp()

    parent: Mapped["Grid | None"] = relationship(remote_side="Grid.code", back_populates="children")
    children: Mapped[list["Grid"]] = relationship(back_populates="parent")


class GridVersion(Base):
    """One version of one grid, valid on ``[valid_from, valid_to)``; open-ended when current."""

    __tablename__ = "grid_versions"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="valid_range"),
        CheckConstraint(
            "parent_code IS NULL OR left(code, length(parent_code)) = parent_code", name="code_extends_parent"
        ),
        Index("ix_grid_versions_geom", "geom", postgresql_using="gist"),
        Index("ix_grid_versions_code_valid_from", "code", "valid_from"),
        Index("ix_grid_versions_current", "code", unique=True, postgresql_where="valid_to IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(ForeignKey("grid_codes.code"))
    version: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(SmallInteger)
    parent_code: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=False))
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    changeset_id: Mapped[int | None] = mapped_column(ForeignKey("changesets.id"))
    retired_changeset_id: Mapped[int | None] = mapped_column(ForeignKey("changesets.id"))


class CodeLineage(Base):
    """old code → new code links (split, merge, renumber, transfer) so old codes resolve."""

    __tablename__ = "code_lineage"
    __table_args__ = (
        CheckConstraint(_in("kind", ("split", "merge", "renumber", "transfer", "reshape", "replace")), name="kind_known"),
        Index("ix_code_lineage_old_code", "old_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    old_code: Mapped[str] = mapped_column(ForeignKey("grid_codes.code"))
    new_code: Mapped[str] = mapped_column(ForeignKey("grid_codes.code"))
    kind: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    changeset_id: Mapped[int] = mapped_column(ForeignKey("changesets.id"))


class Household(Base):
    """A registered household at a house; its point decides its micro-grid."""

    __tablename__ = "households"
    __table_args__ = (
        CheckConstraint("members >= 0", name="members_nonnegative"),
        CheckConstraint(
            "special_kinds <@ ARRAY[" + ", ".join(f"'{k}'" for k in SPECIAL_KINDS) + "]::text[]",
            name="special_kinds_known",
        ),
        Index("ix_households_geom", "geom", postgresql_using="gist"),
        Index("ix_households_grid_code", "grid_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: Natural key (household register number or the source system's id); upserts match on it.
    household_key: Mapped[str] = mapped_column(Text, unique=True)
    address: Mapped[str] = mapped_column(Text, default="", server_default="")
    building_no: Mapped[str | None] = mapped_column(Text)
    house_no: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    members: Mapped[int] = mapped_column(SmallInteger, default=1, server_default="1")
    special_kinds: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list, server_default="{}")
    #: Assigned micro-grid (finest level); NULL when the point is outside every grid.
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grid_codes.code"))
    #: When house and population data were last checked (refreshed every quarter).
    refreshed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Quarterly verification (季度核实): when, by which staff member, from which account (stamped by the database).
    last_verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    verified_account: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _timestamp()
    updated_at: Mapped[dt.datetime] = _timestamp()

    residents: Mapped[list["Resident"]] = relationship(back_populates="household", cascade="all, delete-orphan")


class Resident(Base):
    """A person in a household. ``id_number`` and ``phone`` are personal data (masked on display)."""

    __tablename__ = "residents"
    __table_args__ = (Index("ix_residents_household_id", "household_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    #: The household's micro-grid, kept equal to it by a trigger (row-level security keys on it).
    grid_code: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    relation: Mapped[str | None] = mapped_column(Text)
    gender: Mapped[str | None] = mapped_column(Text)
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    id_number: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    last_verified_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    verified_account: Mapped[str | None] = mapped_column(Text)

    household: Mapped[Household] = relationship(back_populates="residents")


class Staff(Base):
    """A person who works in the grids (worker, police, doctor, ...)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    staff_key: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    organisation: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _timestamp()

    assignments: Mapped[list["StaffAssignment"]] = relationship(back_populates="staff")


class StaffAssignment(Base):
    """A person in a role on a grid, from ``start_date`` to ``end_date`` (inclusive; open when NULL)."""

    __tablename__ = "staff_assignments"
    __table_args__ = (
        CheckConstraint(_in("role", STAFF_ROLES), name="role_known"),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="date_range"),
        Index("ix_staff_assignments_grid_code", "grid_code"),
        Index("ix_staff_assignments_staff_id", "staff_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid_codes.code"))
    role: Mapped[str] = mapped_column(Text)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    #: For building heads: the building they look after.
    building_no: Mapped[str | None] = mapped_column(Text)

    staff: Mapped[Staff] = relationship(back_populates="assignments")


class Incident(Base):
    """A reported incident and where it stands in the closed loop."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint(_in("status", INCIDENT_STATUSES), name="status_known"),
        CheckConstraint("disposition IS NULL OR " + _in("disposition", DISPOSITIONS), name="disposition_known"),
        CheckConstraint("version >= 1", name="version_positive"),
        Index("ix_incidents_geom", "geom", postgresql_using="gist"),
        Index("ix_incidents_grid_code", "grid_code"),
        Index("ix_incidents_reported_at", "reported_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: Natural key from the source system (imports upsert on it); NULL for incidents reported in the app.
    incident_key: Mapped[str | None] = mapped_column(Text, unique=True)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    address: Mapped[str] = mapped_column(Text, default="", server_default="")
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    category: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(Text, default="reported", server_default="reported")
    disposition: Mapped[str | None] = mapped_column(Text)
    #: Current micro-grid (follows boundary edits; routes the work).
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grid_codes.code"))
    #: Micro-grid valid when the incident was reported (history keeps it).
    grid_code_at_report: Mapped[str | None] = mapped_column(ForeignKey("grid_codes.code"))
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    reporter_name: Mapped[str | None] = mapped_column(Text)
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    deadline: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Optimistic-locking counter: every transition bumps it.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    updated_at: Mapped[dt.datetime] = _timestamp()
    #: Idempotency key of the form that reported it (migration 0006): a resubmission reports nothing new.
    request_key: Mapped[str | None] = mapped_column(Text, unique=True)
    #: The reporter's public reference code (:mod:`governance.feedback`), canonical Crockford base-32.
    reference: Mapped[str | None] = mapped_column(Text, unique=True)
    #: The reply written for the reporter, shown on the public status page.
    public_reply: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: The camera the incident was seen on (雪亮工程), if any.
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id", ondelete="SET NULL"))

    events: Mapped[list["IncidentEvent"]] = relationship(back_populates="incident", order_by="IncidentEvent.id")


class IncidentEvent(Base):
    """One transition of an incident: when, who, from which state to which, and a note."""

    __tablename__ = "incident_events"
    __table_args__ = (
        CheckConstraint(_in("to_status", INCIDENT_STATUSES), name="to_status_known"),
        Index("ix_incident_events_incident_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(Text)
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    from_status: Mapped[str | None] = mapped_column(Text)
    to_status: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: The incident's micro-grid, kept equal to it by a trigger (row-level security keys on it).
    grid_code: Mapped[str | None] = mapped_column(Text)

    incident: Mapped[Incident] = relationship(back_populates="events")


class Visit(Base):
    """A worker's visit to a household."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_household_id", "household_id"),
        Index("ix_visits_staff_id_visited_at", "staff_id", "visited_at"),
        Index("ix_visits_grid_code", "grid_code"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    visited_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(Text, default="routine", server_default="routine")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    #: Micro-grid of the household when the visit happened.
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grid_codes.code"))
    #: The account that recorded the visit (set by the database from the session).
    recorded_by: Mapped[str | None] = mapped_column(Text)
    #: Idempotency key of the form that recorded it (migration 0006): a double tap records one visit.
    request_key: Mapped[str | None] = mapped_column(Text, unique=True)


class Photo(Base):
    """A photo of a visit or an incident: the file as uploaded (EXIF kept) and what its EXIF says.

    ``stored_at`` is the server's time of storing (set by the database), ``taken_at`` the EXIF
    time when present; ``exif_lon``/``exif_lat`` the EXIF GPS position (degrees, WGS 84 as cameras
    record it, equal to EPSG:4490 within centimetres). Rights follow the parent row (migration 0006).
    """

    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint("(visit_id IS NULL) <> (incident_id IS NULL)", name="one_parent"),
        Index("ix_photos_visit_id", "visit_id"),
        Index("ix_photos_incident_id", "incident_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    media_type: Mapped[str] = mapped_column(Text)
    byte_size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(Text)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.clock_timestamp())
    stored_by: Mapped[str] = mapped_column(Text, default="", server_default="")
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    exif_lon: Mapped[float | None] = mapped_column(Float)
    exif_lat: Mapped[float | None] = mapped_column(Float)


class IncidentSubmission(Base):
    """How an incident came in through the API: the Open311 service code, attributes, media URL."""

    __tablename__ = "incident_submissions"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    #: The incident's micro-grid, kept equal to it by a trigger (row-level security keys on it).
    grid_code: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text, default="open311", server_default="open311")
    service_code: Mapped[str] = mapped_column(Text)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    media_url: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(Text, default="", server_default="")
    submitted_at: Mapped[dt.datetime] = _timestamp()


class IncidentContact(Base):
    """The reporter's contact details sent with an API report: personal data, never returned by the API."""

    __tablename__ = "incident_contacts"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True)
    grid_code: Mapped[str | None] = mapped_column(Text)
    first_name: Mapped[str | None] = mapped_column(Text)
    last_name: Mapped[str | None] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(Text)
    device_id: Mapped[str | None] = mapped_column(Text)
    external_account_id: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = _timestamp()


class Account(Base):
    """A person who logs in. Role and grants decide what they may see and do (:mod:`access.permissions`)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    display_name: Mapped[str] = mapped_column(Text, default="", server_default="")
    role: Mapped[str] = mapped_column(Text)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    street_wide: Mapped[bool] = mapped_column(default=False, server_default="false")
    password_hash: Mapped[str | None] = mapped_column(Text)
    disabled: Mapped[bool] = mapped_column(default=False, server_default="false")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = _timestamp()


class AccountGrant(Base):
    """A grid (and everything below it) an account may see."""

    __tablename__ = "account_grants"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    grid_code: Mapped[str] = mapped_column(Text, primary_key=True)


class LoginSession(Base):
    """A server-side login session or API token (only the SHA-256 of its token is stored)."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    token_hash: Mapped[bytes] = mapped_column(unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(Text)
    label: Mapped[str] = mapped_column(Text, default="", server_default="")
    read_only: Mapped[bool] = mapped_column(default=False, server_default="false")
    idle_seconds: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = _timestamp()
    last_seen_at: Mapped[dt.datetime] = _timestamp()
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: What ended it: logout, disabled, password, revoked (migration 0008).
    ended_by: Mapped[str | None] = mapped_column(Text)
    #: A database login's PostgreSQL role (kind ``db``: ``gridgov token create --database``).
    db_role: Mapped[str | None] = mapped_column(Text, unique=True)
    #: Requests per minute this API token may make (``None``: the GRIDGOV_API_RATE setting).
    rate_per_minute: Mapped[int | None] = mapped_column(Integer)


class RoleAccess(Base):
    """The permission matrix's table access (written by ``gridgov init`` from :mod:`access.permissions`)."""

    __tablename__ = "role_access"

    role: Mapped[str] = mapped_column(Text, primary_key=True)
    resource: Mapped[str] = mapped_column(Text, primary_key=True)
    read: Mapped[str] = mapped_column(Text)
    write: Mapped[str] = mapped_column(Text)


class RolePermission(Base):
    """The permission matrix's actions (written by ``gridgov init``)."""

    __tablename__ = "role_permissions"

    role: Mapped[str] = mapped_column(Text, primary_key=True)
    permission: Mapped[str] = mapped_column(Text, primary_key=True)


class AuditEntry(Base):
    """One entry of the append-only audit trail."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    account_id: Mapped[int | None] = mapped_column(BigInteger)
    account_name: Mapped[str] = mapped_column(Text, default="")
    db_user: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    object_type: Mapped[str] = mapped_column(Text, default="")
    object_ids: Mapped[list[str]] = mapped_column(ARRAY(Text), default=list)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    grid_code: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)


# -- the street's practices (issue #17; migration 0003) ------------------------------------------


class EvaluationRound(Base):
    """A resident evaluation round (民主测评): period, grids, questions, window; ``salt`` keys the code hashes."""

    __tablename__ = "evaluation_rounds"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    period: Mapped[str] = mapped_column(Text)
    grid_codes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    questions: Mapped[list[str]] = mapped_column(ARRAY(Text))
    opens_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    #: Random key of the code hashes; the application role cannot read it (column privileges).
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    min_group: Mapped[int] = mapped_column(Integer, default=5, server_default="5")
    status: Mapped[str] = mapped_column(Text, default="open", server_default="open")
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[dt.datetime] = _timestamp()
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class EvaluationCode(Base):
    """One one-time code: only its keyed hash, the grid and worker it counts for, and ``used``.

    No household and no time: which slip went to which door is recorded nowhere.
    """

    __tablename__ = "evaluation_codes"

    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"), primary_key=True)
    code_hash: Mapped[str] = mapped_column(Text, primary_key=True)
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid_codes.code"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    used: Mapped[bool] = mapped_column(default=False, server_default="false")


class EvaluationResponse(Base):
    """A resident's answers: round, grid, worker, local date; no code, no hash, no household, no time."""

    __tablename__ = "evaluation_responses"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("evaluation_rounds.id", ondelete="CASCADE"))
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid_codes.code"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    submitted_on: Mapped[dt.date] = mapped_column(Date)
    service: Mapped[int | None] = mapped_column(SmallInteger)
    responsiveness: Mapped[int | None] = mapped_column(SmallInteger)
    resolution: Mapped[int | None] = mapped_column(SmallInteger)
    knows_worker: Mapped[bool | None] = mapped_column()
    comment: Mapped[str] = mapped_column(Text, default="", server_default="")


class LeaderRating(Base):
    """A leader's overall rating (领导评价, 0–100) of a worker for a month, quarter or year."""

    __tablename__ = "leader_ratings"
    __table_args__ = (UniqueConstraint("staff_id", "period", name="staff_period"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(Text)
    rating: Mapped[float] = mapped_column(Numeric(5, 2))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    #: The worker's micro-grid (row-level security keys on it).
    grid_code: Mapped[str] = mapped_column(Text)
    rated_by: Mapped[str] = mapped_column(Text, default="", server_default="")
    rated_by_staff: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    rated_at: Mapped[dt.datetime] = _timestamp()
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class AssessmentResult(Base):
    """A published three-in-one result of a worker for a period, with the breakdown the worker sees."""

    __tablename__ = "assessment_results"
    __table_args__ = (UniqueConstraint("period", "staff_id", name="period_staff"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    period: Mapped[str] = mapped_column(Text)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"))
    grid_code: Mapped[str] = mapped_column(Text)
    rank: Mapped[int | None] = mapped_column(Integer)
    total: Mapped[float | None] = mapped_column(Numeric(6, 2))
    grade: Mapped[str | None] = mapped_column(Text)
    award_eligible: Mapped[bool | None] = mapped_column()
    pending: Mapped[bool] = mapped_column(default=False, server_default="false")
    breakdown: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    config: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    computed_by: Mapped[str] = mapped_column(Text, default="", server_default="")
    computed_at: Mapped[dt.datetime] = _timestamp()


class SpotCheckDraw(Base):
    """A spot-check draw (督查抽样) with everything needed to re-draw it: seed, parameters, fingerprint."""

    __tablename__ = "spot_check_draws"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[str] = mapped_column(Text)
    per_worker: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(BigInteger)
    due_rule: Mapped[str] = mapped_column(Text)
    due_households: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), default=list, server_default="{}")
    algorithm: Mapped[str] = mapped_column(Text)
    population: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(Text)
    drawn_by: Mapped[str] = mapped_column(Text, default="", server_default="")
    drawn_at: Mapped[dt.datetime] = _timestamp()


class SpotCheckItem(Base):
    """One sampled visit of a draw, in work order."""

    __tablename__ = "spot_check_items"
    __table_args__ = (UniqueConstraint("draw_id", "visit_id", name="draw_visit"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("spot_check_draws.id", ondelete="CASCADE"))
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    grid_code: Mapped[str] = mapped_column(Text)
    visited_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text)
    ord: Mapped[int] = mapped_column(Integer)


class SpotCheckOutcome(Base):
    """What the check of one sampled visit found, how it was checked, by whom."""

    __tablename__ = "spot_check_outcomes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("spot_check_items.id", ondelete="CASCADE"), unique=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    grid_code: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    inspector: Mapped[str] = mapped_column(Text, default="", server_default="")
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class ReminderTalk(Base):
    """A reminder talk (提醒谈话) a named leader holds with a worker after a failed check."""

    __tablename__ = "reminder_talks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    outcome_id: Mapped[int] = mapped_column(ForeignKey("spot_check_outcomes.id", ondelete="CASCADE"), unique=True)
    visit_id: Mapped[int] = mapped_column(BigInteger)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    leader_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    leader_name: Mapped[str] = mapped_column(Text)
    grid_code: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default="open", server_default="open")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    done_by: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Notice(Base):
    """A notice (信息推送) to grids or levels, valid ``[valid_from, valid_to)``."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_to: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    levels: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list, server_default="{}")
    public: Mapped[bool] = mapped_column(default=True, server_default="true")
    attachments: Mapped[list[Any]] = mapped_column(JSONB, default=list, server_default="[]")
    author: Mapped[str] = mapped_column(Text, default="", server_default="")
    author_staff: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    street_wide: Mapped[bool] = mapped_column(default=False, server_default="false")
    created_at: Mapped[dt.datetime] = _timestamp()
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class NoticeTarget(Base):
    """A grid a notice is published to (with its subtree)."""

    __tablename__ = "notice_targets"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid_codes.code"), primary_key=True)


class NoticeRead(Base):
    """A read receipt: a staff member opened a notice."""

    __tablename__ = "notice_reads"

    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True)
    read_at: Mapped[dt.datetime] = _timestamp()


class Camera(Base):
    """A camera of the 雪亮工程 network, assigned to its micro-grid like a household."""

    __tablename__ = "cameras"
    __table_args__ = (Index("ix_cameras_geom", "geom", postgresql_using="gist"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    camera_key: Mapped[str] = mapped_column(Text, unique=True)
    name: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    #: Often carries credentials: readable only through ``gridgov.camera_streams`` (view_camera_streams).
    stream_url: Mapped[str | None] = mapped_column(Text)
    geom: Mapped[WKBElement] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grid_codes.code"))
    created_at: Mapped[dt.datetime] = _timestamp()
    updated_at: Mapped[dt.datetime] = _timestamp()


class House(Base):
    """A known house (the building register): the completeness check finds houses with no household."""

    __tablename__ = "houses"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    house_key: Mapped[str] = mapped_column(Text, unique=True)
    address: Mapped[str] = mapped_column(Text)
    address_key: Mapped[str] = mapped_column(Text)
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grid_codes.code"))
    geom: Mapped[WKBElement | None] = mapped_column(Geometry("POINT", srid=SRID, spatial_index=False))


class CompletenessTodo(Base):
    """A completeness finding (a to-do for the grid's worker), as the last check left it."""

    __tablename__ = "completeness_todos"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    rule: Mapped[str] = mapped_column(Text)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id", ondelete="CASCADE"))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id", ondelete="CASCADE"))
    house_id: Mapped[int | None] = mapped_column(ForeignKey("houses.id", ondelete="CASCADE"))
    grid_code: Mapped[str] = mapped_column(Text)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id", ondelete="SET NULL"))
    message_key: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


#: Tables of access control itself: the demo and the data tools leave these alone (the demo replaces
#: only its own accounts, by name).
SECURITY_TABLES = frozenset({"role_access", "role_permissions", "audit_log", "accounts", "account_grants", "sessions"})

"""field capture: idempotency keys on visits and incidents, photos of visits and incidents

Revision ID: 0006_field_capture
Revises: (see down_revision)

What this adds (issue 13, the worker's phone):

* ``visits.request_key`` and ``incidents.request_key``: the idempotency key of the form that
  recorded the row (a random key per filled-in form, kept until the save succeeds). A UNIQUE
  constraint makes a double tap, a resubmitted form or a retried request record one row, not two
  (the insert is ``ON CONFLICT (request_key) DO NOTHING`` and the existing row is returned);
* ``photos``: a photo taken with or attached to a visit or an incident — the file as uploaded
  (EXIF kept), its size and type, the server time it was stored (``stored_at``), and what its
  EXIF says when present: when it was taken (``taken_at``) and where (``exif_lon``/``exif_lat``,
  degrees as the camera's GPS gives them, WGS 84 ≈ EPSG:4490 to centimetres). The account that
  stored it is stamped by a trigger (``stored_by``), whatever the application passed.

Access: a photo is read (and added) with exactly the rights on the visit or incident it belongs
to (FORCE row-level security keyed on the parent's grid code, read by a SECURITY DEFINER function
so that the parent table's own read policy does not hide it from a role that may write it). Every write is audited like the other data tables.
"""

from __future__ import annotations

from alembic import op

revision = "0006_field_capture"
down_revision = "0004_api"
branch_labels = None
depends_on = None


def _run(sql: str) -> None:
    """Run ``sql`` as it is (no bind-parameter or percent processing: the SQL has LIKE patterns)."""
    with op.get_bind().connection.driver_connection.cursor() as cursor:
        cursor.execute(sql)


def _parent_rule(mode: str) -> str:
    """A photo's parent row is readable (``read``) or writable (``write``) by the session's account.

    The parent's grid code is looked up by a SECURITY DEFINER function (a policy's own subquery
    would be filtered by the parent table's read policy, which a role may lack while it may write:
    a family doctor reports incidents but does not read them); the rights are then the parent
    table's, exactly as its own policy applies them.
    """
    def rule(table: str) -> str:
        return (f"((SELECT gridgov.sees_all('{table}', '{mode}')) OR gridgov.photo_parent_grid(visit_id, incident_id) "
                f"LIKE ANY ((SELECT gridgov.patterns('{table}', '{mode}'))::text[]))")

    return (f"((visit_id IS NOT NULL AND {rule('visits')}) "
            f"OR (incident_id IS NOT NULL AND {rule('incidents')}))")


def upgrade() -> None:
    _run(
        """
        ALTER TABLE visits ADD COLUMN request_key text;
        ALTER TABLE visits ADD CONSTRAINT uq_visits_request_key UNIQUE (request_key);
        ALTER TABLE visits ADD CONSTRAINT ck_visits_request_key_form
            CHECK (request_key IS NULL OR request_key ~ '^[A-Za-z0-9_-]{16,64}$');
        ALTER TABLE incidents ADD COLUMN request_key text;
        ALTER TABLE incidents ADD CONSTRAINT uq_incidents_request_key UNIQUE (request_key);
        ALTER TABLE incidents ADD CONSTRAINT ck_incidents_request_key_form
            CHECK (request_key IS NULL OR request_key ~ '^[A-Za-z0-9_-]{16,64}$');

        CREATE TABLE photos (
            id bigserial PRIMARY KEY,
            visit_id bigint REFERENCES visits(id) ON DELETE CASCADE,
            incident_id bigint REFERENCES incidents(id) ON DELETE CASCADE,
            content bytea NOT NULL,
            media_type text NOT NULL CONSTRAINT ck_photos_media_type CHECK (media_type IN ('image/jpeg', 'image/png', 'image/webp')),
            byte_size integer NOT NULL CONSTRAINT ck_photos_byte_size CHECK (byte_size > 0),
            sha256 text NOT NULL CONSTRAINT ck_photos_sha256_form CHECK (sha256 ~ '^[0-9a-f]{64}$'),
            width integer NOT NULL CHECK (width > 0),
            height integer NOT NULL CHECK (height > 0),
            stored_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            stored_by text NOT NULL DEFAULT '',
            taken_at timestamptz,
            exif_lon double precision CHECK (exif_lon IS NULL OR exif_lon BETWEEN -180 AND 180),
            exif_lat double precision CHECK (exif_lat IS NULL OR exif_lat BETWEEN -90 AND 90),
            CONSTRAINT ck_photos_one_parent CHECK ((visit_id IS NULL) <> (incident_id IS NULL)),
            CONSTRAINT ck_photos_exif_both CHECK ((exif_lon IS NULL) = (exif_lat IS NULL))
        );
        CREATE INDEX ix_photos_visit_id ON photos (visit_id);
        CREATE INDEX ix_photos_incident_id ON photos (incident_id);

        CREATE FUNCTION gridgov.stamp_photo() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        BEGIN
            NEW.stored_by := gridgov.actor_name();
            NEW.stored_at := clock_timestamp();
            RETURN NEW;
        END $$;
        CREATE TRIGGER stamp_photo BEFORE INSERT ON photos FOR EACH ROW EXECUTE FUNCTION gridgov.stamp_photo();

        CREATE TRIGGER audit_insert AFTER INSERT ON photos REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION gridgov.audit_rows('id');
        CREATE TRIGGER audit_update AFTER UPDATE ON photos REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION gridgov.audit_rows('id');
        CREATE TRIGGER audit_delete AFTER DELETE ON photos REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION gridgov.audit_rows('id');

        CREATE FUNCTION gridgov.photo_parent_grid(p_visit bigint, p_incident bigint) RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT CASE WHEN p_visit IS NOT NULL THEN (SELECT v.grid_code FROM visits v WHERE v.id = p_visit)
                        ELSE (SELECT i.grid_code FROM incidents i WHERE i.id = p_incident) END
        $$;

        ALTER TABLE photos ENABLE ROW LEVEL SECURITY;
        ALTER TABLE photos FORCE ROW LEVEL SECURITY;
        """
    )
    read, write = _parent_rule("read"), _parent_rule("write")
    _run(
        f"""
        CREATE POLICY parent_read ON photos FOR SELECT USING {read};
        CREATE POLICY parent_insert ON photos FOR INSERT WITH CHECK {write};
        CREATE POLICY parent_update ON photos FOR UPDATE USING {write} WITH CHECK {write};
        CREATE POLICY parent_delete ON photos FOR DELETE USING {write};
        """
    )


def downgrade() -> None:
    _run(
        """
        DROP TABLE photos;
        DROP FUNCTION gridgov.stamp_photo();
        DROP FUNCTION gridgov.photo_parent_grid(bigint, bigint);
        ALTER TABLE incidents DROP CONSTRAINT ck_incidents_request_key_form;
        ALTER TABLE incidents DROP CONSTRAINT uq_incidents_request_key;
        ALTER TABLE incidents DROP COLUMN request_key;
        ALTER TABLE visits DROP CONSTRAINT ck_visits_request_key_form;
        ALTER TABLE visits DROP CONSTRAINT uq_visits_request_key;
        ALTER TABLE visits DROP COLUMN request_key;
        """
    )

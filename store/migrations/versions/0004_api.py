"""HTTP API: Open311 submissions and reporters' contacts, published GIS views, database logins

Revision ID: 0004_api
Revises: (see down_revision)
Create Date: 2026-12-02

What this adds (see docs/api.md):

* ``incident_submissions``: how an incident came in through the API (Open311 ``service_code``,
  ``attribute[...]`` values, ``media_url``), readable where the incident is (row-level security on
  its ``grid_code`` with the ``incidents`` access of the role);
* ``incident_contacts``: the reporter's contact details an Open311 client sent (name, e-mail,
  phone, device and account ids) — personal data: FORCEd row-level security with the
  ``residents`` access of the role (who may read residents' personal data), written with the
  ``incidents`` write access; never returned by the API;
* both tables keep their ``grid_code`` equal to their incident's (triggers, as ``incident_events``);
* ``sessions.db_role`` and the session kind ``db``: a read-only account's own PostgreSQL login
  role (``gridgov token create --database``). A transaction of such a login has no
  ``gridgov.session`` setting; ``gridgov.session_id()`` then finds the live ``db`` session whose
  role is the ``session_user``, so row-level security applies to the direct login exactly as to the
  account's API and app sessions. A login whose session is revoked or expired sees no rows at all
  (a RESTRICTIVE policy on the boundary tables, whose ordinary policy lets every connected role read);
* schema ``gridgov_gis``: ``security_invoker`` views for desktop GIS and the OGC API
  (``grids``: the current plan, ``grid_versions``: every version, ``incidents``: points without
  personal fields, ``incident_counts``: every current grid in the account's incident scope with the
  incidents it may see below it) — with the invoker's rights,
  so row-level security applies;
* ``EXECUTE`` on the ``gridgov.*`` functions is revoked from ``PUBLIC`` (the application role is
  granted them by ``gridgov init``; a database login gets only the few its policies call), so
  a direct login cannot call the login functions (which read password hashes).
"""

from __future__ import annotations

from alembic import op

revision = "0004_api"
down_revision = "0003_street_practices"
branch_labels = None
depends_on = None

_DEFINER = "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public"
#: The boundary tables whose ordinary read policy is ``USING (true)``.
BOUNDARY = ("grid_codes", "grids", "grid_versions", "code_lineage")


def _run(sql: str) -> None:
    """Run ``sql`` as it is (no bind-parameter or percent processing: the SQL has LIKE patterns)."""
    with op.get_bind().connection.driver_connection.cursor() as cursor:
        cursor.execute(sql)


def _policies(table: str, read_resource: str, write_resource: str) -> str:
    read = (f"((SELECT gridgov.sees_all('{read_resource}', 'read')) "
            f"OR grid_code LIKE ANY ((SELECT gridgov.patterns('{read_resource}', 'read'))::text[]))")
    write = (f"((SELECT gridgov.sees_all('{write_resource}', 'write')) "
             f"OR grid_code LIKE ANY ((SELECT gridgov.patterns('{write_resource}', 'write'))::text[]))")
    return f"""
        ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
        ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
        CREATE POLICY scope_read ON {table} FOR SELECT USING {read};
        CREATE POLICY scope_insert ON {table} FOR INSERT WITH CHECK {write};
        CREATE POLICY scope_update ON {table} FOR UPDATE USING {write} WITH CHECK {write};
        CREATE POLICY scope_delete ON {table} FOR DELETE USING {write};
    """


def upgrade() -> None:
    _run(
        """
        CREATE TABLE incident_submissions (
            incident_id bigint PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
            grid_code text,
            channel text NOT NULL DEFAULT 'open311' CONSTRAINT ck_incident_submissions_channel CHECK (channel IN ('open311')),
            service_code text NOT NULL,
            attributes jsonb NOT NULL DEFAULT '{}',
            media_url text,
            submitted_by text NOT NULL DEFAULT '',
            submitted_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_incident_submissions_grid_code ON incident_submissions (grid_code text_pattern_ops);
        CREATE TABLE incident_contacts (
            incident_id bigint PRIMARY KEY REFERENCES incidents(id) ON DELETE CASCADE,
            grid_code text,
            first_name text,
            last_name text,
            email text,
            phone text,
            device_id text,
            external_account_id text,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_incident_contacts_grid_code ON incident_contacts (grid_code text_pattern_ops);

        CREATE FUNCTION gridgov.incident_child_grid() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        BEGIN
            NEW.grid_code := (SELECT i.grid_code FROM incidents i WHERE i.id = NEW.incident_id);
            RETURN NEW;
        END $$;
        CREATE TRIGGER submission_grid BEFORE INSERT OR UPDATE OF incident_id ON incident_submissions
            FOR EACH ROW EXECUTE FUNCTION gridgov.incident_child_grid();
        CREATE TRIGGER contact_grid BEFORE INSERT OR UPDATE OF incident_id ON incident_contacts
            FOR EACH ROW EXECUTE FUNCTION gridgov.incident_child_grid();
        CREATE FUNCTION gridgov.incident_children_moved() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        BEGIN
            UPDATE incident_submissions c SET grid_code = n.grid_code
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE c.incident_id = n.id AND n.grid_code IS DISTINCT FROM o.grid_code;
            UPDATE incident_contacts c SET grid_code = n.grid_code
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE c.incident_id = n.id AND n.grid_code IS DISTINCT FROM o.grid_code;
            RETURN NULL;
        END $$;
        CREATE TRIGGER incident_children_moved AFTER UPDATE ON incidents
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION gridgov.incident_children_moved();
        """
    )
    _run(_policies("incident_submissions", "incidents", "incidents"))
    _run(_policies("incident_contacts", "residents", "incidents"))
    for table in ("incident_submissions", "incident_contacts"):
        _run(
            f"""
            CREATE TRIGGER audit_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION gridgov.audit_rows('incident_id');
            CREATE TRIGGER audit_update AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION gridgov.audit_rows('incident_id');
            CREATE TRIGGER audit_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
                FOR EACH STATEMENT EXECUTE FUNCTION gridgov.audit_rows('incident_id');
            """
        )
    # -- database logins: a session of kind 'db' bound to a login role ------------------------------
    _run(
        f"""
        ALTER TABLE sessions DROP CONSTRAINT ck_sessions_kind;
        ALTER TABLE sessions ADD CONSTRAINT ck_sessions_kind CHECK (kind IN ('web', 'cli', 'api', 'script', 'db'));
        ALTER TABLE sessions ADD COLUMN db_role text;
        ALTER TABLE sessions ADD COLUMN rate_per_minute integer
            CONSTRAINT ck_sessions_rate_positive CHECK (rate_per_minute IS NULL OR rate_per_minute > 0);
        ALTER TABLE sessions ADD CONSTRAINT uq_sessions_db_role UNIQUE (db_role);
        ALTER TABLE sessions ADD CONSTRAINT ck_sessions_db_role_kind CHECK ((db_role IS NOT NULL) = (kind = 'db'));

        CREATE OR REPLACE FUNCTION gridgov.session_id() RETURNS bigint {_DEFINER} AS $$
            SELECT s.id FROM sessions s JOIN accounts a ON a.id = s.account_id
            WHERE s.token_hash = sha256(convert_to(nullif(current_setting('gridgov.session', true), ''), 'UTF8'))
              AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT a.disabled
            UNION ALL
            SELECT s.id FROM sessions s JOIN accounts a ON a.id = s.account_id
            WHERE nullif(current_setting('gridgov.session', true), '') IS NULL
              AND s.db_role = session_user::text AND s.kind = 'db' AND s.read_only
              AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT a.disabled
            LIMIT 1
        $$;
        CREATE FUNCTION gridgov.is_db_login() RETURNS boolean {_DEFINER} AS $$
            SELECT EXISTS (SELECT 1 FROM sessions s WHERE s.db_role = session_user::text)
        $$;
        CREATE FUNCTION gridgov.rate_per_minute() RETURNS integer {_DEFINER} AS $$
            SELECT s.rate_per_minute FROM sessions s WHERE s.id = gridgov.session_id()
        $$;
        """
    )
    for table in BOUNDARY:
        _run(
            f"""
            CREATE POLICY db_login_live ON {table} AS RESTRICTIVE FOR SELECT
                USING (NOT (SELECT gridgov.is_db_login()) OR (SELECT gridgov.session_id()) IS NOT NULL);
            """
        )
    # -- the published views (desktop GIS, OGC API) ---------------------------------------------------
    _run(
        """
        CREATE SCHEMA gridgov_gis;
        CREATE VIEW gridgov_gis.grids WITH (security_invoker = true) AS
            SELECT gv.code, gv.name, gv.level, gv.parent_code, gv.version, gv.valid_from, gv.geom
            FROM grid_versions gv WHERE gv.valid_to IS NULL;
        CREATE VIEW gridgov_gis.grid_versions WITH (security_invoker = true) AS
            SELECT gv.id, gv.code, gv.name, gv.level, gv.parent_code, gv.version, gv.valid_from, gv.valid_to, gv.geom
            FROM grid_versions gv;
        CREATE VIEW gridgov_gis.incidents WITH (security_invoker = true) AS
            SELECT i.id, i.category, i.status, i.disposition, i.reported_at, i.deadline, i.closed_at, i.updated_at,
                   i.grid_code, i.geom
            FROM incidents i;
        -- every current grid of every level in the account's incident scope, with the incidents it
        -- may see below it (counted per leaf code, rolled up by code prefix: one pass over incidents)
        CREATE VIEW gridgov_gis.incident_counts WITH (security_invoker = true) AS
            WITH lengths AS (SELECT DISTINCT length(code) AS n FROM grid_versions WHERE valid_to IS NULL),
            counted AS (
                SELECT left(i.grid_code, l.n) AS code, count(*)::integer AS incidents,
                       (count(*) FILTER (WHERE i.status NOT IN ('closed', 'rejected')))::integer AS open_incidents,
                       max(i.reported_at) AS last_reported_at
                FROM incidents i CROSS JOIN lengths l
                WHERE i.grid_code IS NOT NULL AND length(i.grid_code) >= l.n
                GROUP BY 1)
            SELECT g.code, g.name, g.level, g.parent_code, g.geom,
                   coalesce(c.incidents, 0) AS incidents, coalesce(c.open_incidents, 0) AS open_incidents,
                   c.last_reported_at
            FROM grid_versions g LEFT JOIN counted c ON c.code = g.code
            WHERE g.valid_to IS NULL
              AND ((SELECT gridgov.sees_all('incidents', 'read'))
                   OR g.code LIKE ANY ((SELECT gridgov.patterns('incidents', 'read'))::text[]));

        REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA gridgov FROM PUBLIC;
        ALTER DEFAULT PRIVILEGES IN SCHEMA gridgov REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
        """
    )


def downgrade() -> None:
    _run(
        """
        DROP SCHEMA gridgov_gis CASCADE;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA gridgov TO PUBLIC;
        ALTER DEFAULT PRIVILEGES IN SCHEMA gridgov GRANT EXECUTE ON FUNCTIONS TO PUBLIC;
        DROP POLICY IF EXISTS db_login_live ON grid_codes; DROP POLICY IF EXISTS db_login_live ON grids;
        DROP POLICY IF EXISTS db_login_live ON grid_versions; DROP POLICY IF EXISTS db_login_live ON code_lineage;
        DROP FUNCTION gridgov.is_db_login(); DROP FUNCTION gridgov.rate_per_minute();
        CREATE OR REPLACE FUNCTION gridgov.session_id() RETURNS bigint
            LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT s.id FROM sessions s JOIN accounts a ON a.id = s.account_id
            WHERE s.token_hash = sha256(convert_to(nullif(current_setting('gridgov.session', true), ''), 'UTF8'))
              AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT a.disabled
        $$;
        DELETE FROM sessions WHERE kind = 'db';
        ALTER TABLE sessions DROP CONSTRAINT ck_sessions_db_role_kind;
        ALTER TABLE sessions DROP CONSTRAINT uq_sessions_db_role;
        ALTER TABLE sessions DROP COLUMN db_role;
        ALTER TABLE sessions DROP COLUMN rate_per_minute;
        ALTER TABLE sessions DROP CONSTRAINT ck_sessions_kind;
        ALTER TABLE sessions ADD CONSTRAINT ck_sessions_kind CHECK (kind IN ('web', 'cli', 'api', 'script'));
        DROP TRIGGER IF EXISTS incident_children_moved ON incidents;
        DROP TABLE incident_contacts, incident_submissions;
        DROP FUNCTION gridgov.incident_children_moved(); DROP FUNCTION gridgov.incident_child_grid();
        """
    )

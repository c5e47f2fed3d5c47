"""accounts, sessions, audit trail and row-level security

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

What this adds (see docs/security.md):

* ``accounts``, ``account_grants`` (grid codes an account may see), ``sessions`` (server-side login
  sessions and API tokens, stored as SHA-256 of the token), ``role_access`` / ``role_permissions``
  (the permission matrix of :mod:`access.permissions`, written by ``gridgov init``);
* ``audit_log``: append-only (a trigger refuses UPDATE, DELETE and TRUNCATE; the application role
  may only INSERT, and only rows of its own account);
* schema ``gridgov``: SECURITY DEFINER functions that resolve the session of the current
  transaction (``set_config('gridgov.session', token, true)``) to an account, its role and grants,
  and the login, session and audit functions the application role calls (it has no access to the
  account tables themselves);
* row-level security, FORCEd, on households, residents, incidents, incident_events, visits and
  staff_assignments (keyed on their indexed ``grid_code``: text prefix — no spatial predicate), and
  write policies on the boundary and staff tables (permission checks);
* ``residents.grid_code`` and ``incident_events.grid_code`` (kept equal to their household's /
  incident's by triggers) so every governed table carries the code its policy keys on;
* statement-level audit triggers on every data table (who, when, what, which rows; before/after
  for grids and incidents when a statement changes up to 100 rows);
* triggers that record the logged-in account as the author of changesets, the actor of incident
  events and the recorder of visits, whatever the application passed.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Tables under row-level security by grid code (resource name = table name).
SCOPED = ("households", "residents", "incidents", "incident_events", "visits", "staff_assignments")
#: Boundary tables: readable by everyone connected, written only with a permission.
BOUNDARY = ("grid_codes", "grids", "grid_versions", "code_lineage")
#: Every data table with its key column, audited.
AUDITED = {
    "changesets": "id", "grid_codes": "code", "grids": "code", "grid_versions": "id", "code_lineage": "id",
    "households": "id", "residents": "id", "staff": "id", "staff_assignments": "id", "incidents": "id",
    "incident_events": "id", "visits": "id", "accounts": "id", "account_grants": "account_id",
}

_DEFINER = "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public"


def _run(sql: str) -> None:
    """Run ``sql`` as it is (no bind-parameter or percent processing: the SQL has LIKE patterns)."""
    with op.get_bind().connection.driver_connection.cursor() as cursor:
        cursor.execute(sql)


def upgrade() -> None:
    _run(
        """
        CREATE TABLE accounts (
            id bigserial PRIMARY KEY,
            name text NOT NULL UNIQUE CONSTRAINT ck_accounts_name_form CHECK (name ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
            display_name text NOT NULL DEFAULT '',
            role text NOT NULL,
            staff_id bigint REFERENCES staff(id) ON DELETE SET NULL,
            street_wide boolean NOT NULL DEFAULT false,
            password_hash text,
            disabled boolean NOT NULL DEFAULT false,
            failed_logins integer NOT NULL DEFAULT 0,
            locked_until timestamptz,
            password_changed_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_accounts_staff_id ON accounts (staff_id);
        CREATE TABLE account_grants (
            account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            grid_code text NOT NULL CONSTRAINT ck_account_grants_code_digits CHECK (grid_code ~ '^[0-9]+$'),
            PRIMARY KEY (account_id, grid_code)
        );
        CREATE TABLE sessions (
            id bigserial PRIMARY KEY,
            token_hash bytea NOT NULL UNIQUE,
            account_id bigint NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            kind text NOT NULL CONSTRAINT ck_sessions_kind CHECK (kind IN ('web', 'cli', 'api', 'script')),
            label text NOT NULL DEFAULT '',
            read_only boolean NOT NULL DEFAULT false,
            idle_seconds integer,
            created_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz
        );
        CREATE INDEX ix_sessions_account_id ON sessions (account_id);
        CREATE TABLE role_access (
            role text NOT NULL,
            resource text NOT NULL,
            read text NOT NULL CHECK (read IN ('all', 'scope', 'none')),
            write text NOT NULL CHECK (write IN ('all', 'scope', 'none')),
            PRIMARY KEY (role, resource)
        );
        CREATE TABLE role_permissions (
            role text NOT NULL,
            permission text NOT NULL,
            PRIMARY KEY (role, permission)
        );
        CREATE TABLE audit_log (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL DEFAULT clock_timestamp(),
            account_id bigint,
            account_name text NOT NULL DEFAULT '',
            db_user text NOT NULL DEFAULT current_user,
            action text NOT NULL,
            object_type text NOT NULL DEFAULT '',
            object_ids text[] NOT NULL DEFAULT '{}',
            row_count integer NOT NULL DEFAULT 0,
            grid_code text,
            details jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX ix_audit_log_at ON audit_log (at);
        CREATE INDEX ix_audit_log_account_id ON audit_log (account_id);
        CREATE INDEX ix_audit_log_action ON audit_log (action);

        ALTER TABLE residents ADD COLUMN grid_code text;
        ALTER TABLE incident_events ADD COLUMN grid_code text;
        ALTER TABLE visits ADD COLUMN recorded_by text;
        UPDATE residents r SET grid_code = h.grid_code FROM households h WHERE h.id = r.household_id;
        UPDATE incident_events e SET grid_code = i.grid_code FROM incidents i WHERE i.id = e.incident_id;
        CREATE INDEX ix_residents_grid_code ON residents (grid_code text_pattern_ops);
        CREATE INDEX ix_incident_events_grid_code ON incident_events (grid_code text_pattern_ops);
        CREATE INDEX ix_households_grid_code_prefix ON households (grid_code text_pattern_ops);
        CREATE INDEX ix_incidents_grid_code_prefix ON incidents (grid_code text_pattern_ops);
        CREATE INDEX ix_visits_grid_code_prefix ON visits (grid_code text_pattern_ops);
        CREATE INDEX ix_staff_assignments_grid_code_prefix ON staff_assignments (grid_code text_pattern_ops);

        CREATE SCHEMA gridgov;
        """
    )
    # -- who is acting: the session bound to this transaction ------------------------------------
    _run(
        f"""
        CREATE FUNCTION gridgov.session_id() RETURNS bigint {_DEFINER} AS $$
            SELECT s.id FROM sessions s JOIN accounts a ON a.id = s.account_id
            WHERE s.token_hash = sha256(convert_to(nullif(current_setting('gridgov.session', true), ''), 'UTF8'))
              AND s.revoked_at IS NULL AND s.expires_at > now() AND NOT a.disabled
        $$;
        CREATE FUNCTION gridgov.session_account() RETURNS bigint {_DEFINER} AS $$
            SELECT s.account_id FROM sessions s WHERE s.id = gridgov.session_id()
        $$;
        CREATE FUNCTION gridgov.read_only() RETURNS boolean {_DEFINER} AS $$
            SELECT coalesce((SELECT s.read_only FROM sessions s WHERE s.id = gridgov.session_id()), false)
        $$;
        CREATE FUNCTION gridgov.actor_name() RETURNS text {_DEFINER} AS $$
            SELECT coalesce((SELECT a.name FROM accounts a WHERE a.id = gridgov.session_account()),
                            nullif(current_setting('gridgov.actor', true), ''), current_user::text)
        $$;
        CREATE FUNCTION gridgov.access(p_resource text, p_mode text) RETURNS text {_DEFINER} AS $$
            SELECT coalesce((
                SELECT CASE
                         WHEN p_mode = 'write' AND gridgov.read_only() THEN 'none'
                         WHEN (CASE WHEN p_mode = 'write' THEN ra.write ELSE ra.read END) = 'scope' AND a.street_wide
                           THEN 'all'
                         ELSE CASE WHEN p_mode = 'write' THEN ra.write ELSE ra.read END END
                FROM accounts a JOIN role_access ra ON ra.role = a.role AND ra.resource = p_resource
                WHERE a.id = gridgov.session_account()), 'none')
        $$;
        CREATE FUNCTION gridgov.sees_all(p_resource text, p_mode text) RETURNS boolean {_DEFINER} AS $$
            SELECT gridgov.access(p_resource, p_mode) = 'all'
        $$;
        CREATE FUNCTION gridgov.patterns(p_resource text, p_mode text) RETURNS text[] {_DEFINER} AS $$
            SELECT CASE WHEN gridgov.access(p_resource, p_mode) = 'scope'
                        THEN coalesce((SELECT array_agg(g.grid_code || '%') FROM account_grants g
                                       WHERE g.account_id = gridgov.session_account()), '{{}}')
                        ELSE '{{}}'::text[] END
        $$;
        CREATE FUNCTION gridgov.can(p_permission text) RETURNS boolean {_DEFINER} AS $$
            SELECT EXISTS (
                SELECT 1 FROM accounts a JOIN role_permissions rp ON rp.role = a.role
                WHERE a.id = gridgov.session_account() AND rp.permission = p_permission)
              AND NOT (gridgov.read_only() AND p_permission NOT LIKE 'view%' AND p_permission <> 'export')
        $$;
        """
    )
    # -- row-level security --------------------------------------------------------------------------
    for table in SCOPED:
        read = (f"((SELECT gridgov.sees_all('{table}', 'read')) "
                f"OR grid_code LIKE ANY ((SELECT gridgov.patterns('{table}', 'read'))::text[]))")
        write = (f"((SELECT gridgov.sees_all('{table}', 'write')) "
                 f"OR grid_code LIKE ANY ((SELECT gridgov.patterns('{table}', 'write'))::text[]))")
        _run(
            f"""
            ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
            ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
            CREATE POLICY scope_read ON {table} FOR SELECT USING {read};
            CREATE POLICY scope_insert ON {table} FOR INSERT WITH CHECK {write};
            CREATE POLICY scope_update ON {table} FOR UPDATE USING {write} WITH CHECK {write};
            CREATE POLICY scope_delete ON {table} FOR DELETE USING {write};
            """
        )
    boundary_write = "((SELECT gridgov.can('edit_boundaries')) OR (SELECT gridgov.can('import')))"
    for table in BOUNDARY:
        _run(
            f"""
            ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
            ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
            CREATE POLICY public_read ON {table} FOR SELECT USING (true);
            CREATE POLICY edit_insert ON {table} FOR INSERT WITH CHECK {boundary_write};
            CREATE POLICY edit_update ON {table} FOR UPDATE USING {boundary_write} WITH CHECK {boundary_write};
            CREATE POLICY edit_delete ON {table} FOR DELETE USING {boundary_write};
            """
        )
    roster_write = "((SELECT gridgov.can('manage_roster')) OR (SELECT gridgov.can('import')))"
    _run(
        f"""
        ALTER TABLE staff ENABLE ROW LEVEL SECURITY;
        ALTER TABLE staff FORCE ROW LEVEL SECURITY;
        CREATE POLICY public_read ON staff FOR SELECT USING (true);
        CREATE POLICY roster_insert ON staff FOR INSERT WITH CHECK {roster_write};
        CREATE POLICY roster_update ON staff FOR UPDATE USING {roster_write} WITH CHECK {roster_write};
        CREATE POLICY roster_delete ON staff FOR DELETE USING {roster_write};

        ALTER TABLE changesets ENABLE ROW LEVEL SECURITY;
        ALTER TABLE changesets FORCE ROW LEVEL SECURITY;
        CREATE POLICY public_read ON changesets FOR SELECT USING (true);
        CREATE POLICY session_insert ON changesets FOR INSERT
            WITH CHECK ((SELECT gridgov.session_account()) IS NOT NULL AND NOT (SELECT gridgov.read_only()));

        ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
        ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
        CREATE POLICY own_insert ON audit_log FOR INSERT
            WITH CHECK (account_id IS NOT DISTINCT FROM (SELECT gridgov.session_account()));

        ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
        ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
        ALTER TABLE account_grants ENABLE ROW LEVEL SECURITY;
        ALTER TABLE account_grants FORCE ROW LEVEL SECURITY;
        ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
        ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
        """
    )
    # -- denormalized grid codes of residents and incident events ------------------------------------
    _run(
        """
        CREATE FUNCTION gridgov.resident_grid() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        BEGIN
            NEW.grid_code := (SELECT h.grid_code FROM households h WHERE h.id = NEW.household_id);
            RETURN NEW;
        END $$;
        CREATE TRIGGER resident_grid BEFORE INSERT OR UPDATE OF household_id ON residents
            FOR EACH ROW EXECUTE FUNCTION gridgov.resident_grid();
        CREATE FUNCTION gridgov.event_grid() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        BEGIN
            NEW.grid_code := (SELECT i.grid_code FROM incidents i WHERE i.id = NEW.incident_id);
            RETURN NEW;
        END $$;
        CREATE TRIGGER event_grid BEFORE INSERT OR UPDATE OF incident_id ON incident_events
            FOR EACH ROW EXECUTE FUNCTION gridgov.event_grid();
        CREATE FUNCTION gridgov.household_moved() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        BEGIN
            UPDATE residents r SET grid_code = n.grid_code
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE r.household_id = n.id AND n.grid_code IS DISTINCT FROM o.grid_code;
            RETURN NULL;
        END $$;
        CREATE TRIGGER household_moved AFTER UPDATE ON households
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION gridgov.household_moved();
        CREATE FUNCTION gridgov.incident_moved() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        BEGIN
            UPDATE incident_events e SET grid_code = n.grid_code
            FROM new_rows n JOIN old_rows o ON o.id = n.id
            WHERE e.incident_id = n.id AND n.grid_code IS DISTINCT FROM o.grid_code;
            RETURN NULL;
        END $$;
        CREATE TRIGGER incident_moved AFTER UPDATE ON incidents
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION gridgov.incident_moved();
        """
    )
    # -- the actor of every write is the logged-in account ------------------------------------------
    _run(
        """
        CREATE FUNCTION gridgov.stamp_changeset() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        BEGIN
            IF gridgov.session_account() IS NOT NULL THEN NEW.author := gridgov.actor_name(); END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER stamp_author BEFORE INSERT ON changesets FOR EACH ROW EXECUTE FUNCTION gridgov.stamp_changeset();
        CREATE FUNCTION gridgov.stamp_event() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        BEGIN
            IF gridgov.session_account() IS NOT NULL THEN NEW.actor := gridgov.actor_name(); END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER stamp_actor BEFORE INSERT ON incident_events FOR EACH ROW EXECUTE FUNCTION gridgov.stamp_event();
        CREATE FUNCTION gridgov.stamp_visit() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        BEGIN
            NEW.recorded_by := gridgov.actor_name();
            RETURN NEW;
        END $$;
        CREATE TRIGGER stamp_recorder BEFORE INSERT ON visits FOR EACH ROW EXECUTE FUNCTION gridgov.stamp_visit();
        """
    )
    # -- audit: append-only, written by triggers and by the application ------------------------------
    _run(
        """
        CREATE FUNCTION gridgov.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only: % is refused', TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$;
        CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_log
            FOR EACH ROW EXECUTE FUNCTION gridgov.audit_append_only();
        CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION gridgov.audit_append_only();

        CREATE FUNCTION gridgov.audit_rows() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        DECLARE
            key text := TG_ARGV[0];
            rel text := CASE WHEN TG_OP = 'DELETE' THEN 'old_rows' ELSE 'new_rows' END;
            n integer;
            ids text[];
            detail jsonb := '{}'::jsonb;
        BEGIN
            EXECUTE format('SELECT count(*) FROM %I', rel) INTO n;
            IF n = 0 THEN RETURN NULL; END IF;
            EXECUTE format('SELECT coalesce(array_agg(k), ''{}'') FROM (SELECT %I::text AS k FROM %I ORDER BY 1 LIMIT 1000) s',
                           key, rel) INTO ids;
            IF TG_TABLE_NAME IN ('incidents', 'grids') AND n <= 100 THEN
                IF TG_OP IN ('UPDATE', 'DELETE') THEN
                    EXECUTE 'SELECT jsonb_agg(to_jsonb(o) - ''geom'' ORDER BY 1) FROM old_rows o' INTO detail;
                    detail := jsonb_build_object('before', detail);
                END IF;
                IF TG_OP IN ('UPDATE', 'INSERT') THEN
                    detail := detail || jsonb_build_object('after',
                        (SELECT jsonb_agg(x) FROM (SELECT to_jsonb(r) - 'geom' AS x FROM new_rows r) s));
                END IF;
            END IF;
            INSERT INTO audit_log (account_id, account_name, action, object_type, object_ids, row_count, details)
            VALUES (gridgov.session_account(), gridgov.actor_name(), lower(TG_OP), TG_TABLE_NAME, ids, n, detail);
            RETURN NULL;
        END $$;
        """
    )
    for table, key in AUDITED.items():
        _run(
            f"""
            CREATE TRIGGER audit_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION gridgov.audit_rows('{key}');
            CREATE TRIGGER audit_update AFTER UPDATE ON {table} REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION gridgov.audit_rows('{key}');
            CREATE TRIGGER audit_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS old_rows
                FOR EACH STATEMENT EXECUTE FUNCTION gridgov.audit_rows('{key}');
            """
        )
    # -- login, sessions, audit reading: the only doors to the account tables -------------------------
    _run(
        """
        CREATE FUNCTION gridgov.auth_lookup(p_name text)
        RETURNS TABLE (account_id bigint, password_hash text, disabled boolean, locked_until timestamptz, role text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT a.id, a.password_hash, a.disabled, a.locked_until, a.role FROM accounts a WHERE a.name = p_name
        $$;

        CREATE FUNCTION gridgov.auth_failed(p_account bigint, p_attempts integer, p_lock_minutes integer)
        RETURNS timestamptz LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
            fails integer;
            until timestamptz;
        BEGIN
            UPDATE accounts SET failed_logins = failed_logins + 1 WHERE id = p_account
                RETURNING failed_logins INTO fails;
            INSERT INTO audit_log (account_id, account_name, action, object_type, object_ids, details)
            SELECT a.id, a.name, 'login_failed', 'account', ARRAY[a.id::text], jsonb_build_object('failures', fails)
            FROM accounts a WHERE a.id = p_account;
            IF fails >= p_attempts THEN
                until := clock_timestamp() + make_interval(mins => p_lock_minutes);
                UPDATE accounts SET locked_until = until, failed_logins = 0 WHERE id = p_account;
                INSERT INTO audit_log (account_id, account_name, action, object_type, object_ids, details)
                SELECT a.id, a.name, 'lockout', 'account', ARRAY[a.id::text], jsonb_build_object('until', until)
                FROM accounts a WHERE a.id = p_account;
            END IF;
            RETURN until;
        END $$;

        CREATE FUNCTION gridgov.auth_unknown(p_name text) RETURNS void
        LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            INSERT INTO audit_log (account_id, account_name, action, object_type, details)
            VALUES (NULL, '', 'login_failed', 'account', jsonb_build_object('unknown_name', left(p_name, 64)))
        $$;

        CREATE FUNCTION gridgov.auth_open_session(
            p_account bigint, p_token_hash bytea, p_kind text, p_idle_seconds integer,
            p_expires_at timestamptz, p_label text, p_read_only boolean, p_method text
        ) RETURNS bigint LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
            sid bigint;
        BEGIN
            IF EXISTS (SELECT 1 FROM accounts a WHERE a.id = p_account
                       AND (a.disabled OR (a.locked_until IS NOT NULL AND a.locked_until > clock_timestamp()))) THEN
                RAISE EXCEPTION 'account % is disabled or locked', p_account USING ERRCODE = 'insufficient_privilege';
            END IF;
            UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = p_account;
            INSERT INTO sessions (token_hash, account_id, kind, label, read_only, idle_seconds, expires_at)
            VALUES (p_token_hash, p_account, p_kind, coalesce(p_label, ''), coalesce(p_read_only, false), p_idle_seconds,
                    coalesce(p_expires_at, clock_timestamp() + make_interval(secs => p_idle_seconds)))
            RETURNING id INTO sid;
            INSERT INTO audit_log (account_id, account_name, action, object_type, object_ids, details)
            SELECT a.id, a.name, CASE WHEN p_kind = 'api' THEN 'token_created' ELSE 'login' END, 'session',
                   ARRAY[sid::text], jsonb_build_object('kind', p_kind, 'method', p_method, 'read_only', p_read_only)
            FROM accounts a WHERE a.id = p_account;
            RETURN sid;
        END $$;

        CREATE FUNCTION gridgov.session_touch() RETURNS boolean
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
            sid bigint := gridgov.session_id();
        BEGIN
            IF sid IS NULL THEN RETURN false; END IF;
            UPDATE sessions SET last_seen_at = clock_timestamp(),
                   expires_at = CASE WHEN idle_seconds IS NULL THEN expires_at
                                     ELSE clock_timestamp() + make_interval(secs => idle_seconds) END
            WHERE id = sid AND last_seen_at < clock_timestamp() - interval '30 seconds';
            RETURN true;
        END $$;

        CREATE FUNCTION gridgov.session_end() RETURNS boolean
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
            sid bigint := gridgov.session_id();
        BEGIN
            IF sid IS NULL THEN RETURN false; END IF;
            INSERT INTO audit_log (account_id, account_name, action, object_type, object_ids)
            SELECT a.id, a.name, 'logout', 'session', ARRAY[sid::text]
            FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id = sid;
            UPDATE sessions SET revoked_at = clock_timestamp() WHERE id = sid;
            RETURN true;
        END $$;

        CREATE FUNCTION gridgov.whoami()
        RETURNS TABLE (account_id bigint, name text, display_name text, role text, staff_id bigint,
                       street_wide boolean, grants text[], session_kind text, read_only boolean)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT a.id, a.name, a.display_name, a.role, a.staff_id, a.street_wide,
                   coalesce((SELECT array_agg(g.grid_code ORDER BY g.grid_code) FROM account_grants g
                             WHERE g.account_id = a.id), '{}'),
                   s.kind, s.read_only
            FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id = gridgov.session_id()
        $$;

        CREATE FUNCTION gridgov.audit_entries(p_since timestamptz, p_account text, p_action text, p_limit integer)
        RETURNS SETOF audit_log LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
            IF NOT gridgov.can('view_audit') THEN
                RAISE EXCEPTION 'reading the audit trail needs the view_audit permission' USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN QUERY SELECT * FROM audit_log l
                WHERE (p_since IS NULL OR l.at >= p_since)
                  AND (p_account IS NULL OR l.account_name = p_account)
                  AND (p_action IS NULL OR l.action = p_action)
                ORDER BY l.id DESC LIMIT coalesce(p_limit, 500);
        END $$;

        CREATE FUNCTION gridgov.account_list()
        RETURNS TABLE (name text, display_name text, role text, street_wide boolean, grants text[], disabled boolean,
                       locked_until timestamptz, last_seen timestamptz)
        LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
            IF NOT (gridgov.can('manage_accounts') OR gridgov.can('view_audit')) THEN
                RAISE EXCEPTION 'listing accounts needs the manage_accounts or view_audit permission'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN QUERY SELECT a.name, a.display_name, a.role, a.street_wide,
                   coalesce((SELECT array_agg(g.grid_code ORDER BY g.grid_code) FROM account_grants g
                             WHERE g.account_id = a.id), '{}'),
                   a.disabled, a.locked_until, (SELECT max(s.last_seen_at) FROM sessions s WHERE s.account_id = a.id)
            FROM accounts a ORDER BY a.role, a.name;
        END $$;

        CREATE INDEX ix_audit_log_writes ON audit_log (id) WHERE action IN ('insert', 'update', 'delete');
        CREATE FUNCTION gridgov.data_version() RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT coalesce(max(id), 0)::text FROM audit_log WHERE action IN ('insert', 'update', 'delete')
        $$;

        CREATE FUNCTION gridgov.apply_assignment(p_table text, p_ids bigint[], p_codes text[]) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        -- Re-assign households or incidents to the grids the one assignment rule (boundaries.assign)
        -- computed, for accounts that may assign, edit boundaries or import, whatever their row rights.
        -- Each code is checked: a leaf grid that covers the point, or NULL only where no leaf grid does.
        -- An incident's grid_code_at_report is filled where it is still empty.
        DECLARE
            n integer;
            bad bigint;
        BEGIN
            IF p_table NOT IN ('households', 'incidents') THEN
                RAISE EXCEPTION 'apply_assignment: % is not households or incidents', p_table;
            END IF;
            IF gridgov.session_account() IS NOT NULL
               AND NOT (gridgov.can('assign') OR gridgov.can('edit_boundaries') OR gridgov.can('import')) THEN
                RAISE EXCEPTION 're-assigning % needs the assign permission', p_table USING ERRCODE = 'insufficient_privilege';
            END IF;
            EXECUTE format(
                'SELECT v.id FROM unnest($1, $2) AS v(id, code) JOIN %I t ON t.id = v.id '
                'LEFT JOIN grids g ON g.code = v.code '
                'WHERE CASE WHEN v.code IS NULL THEN EXISTS ('
                '    SELECT 1 FROM grids l WHERE ST_Covers(l.geom, t.geom) '
                '    AND NOT EXISTS (SELECT 1 FROM grids c WHERE c.parent_code = l.code)) '
                'ELSE g.code IS NULL OR NOT ST_Covers(g.geom, t.geom) '
                '    OR EXISTS (SELECT 1 FROM grids c WHERE c.parent_code = g.code) END LIMIT 1', p_table)
                INTO bad USING p_ids, p_codes;
            IF bad IS NOT NULL THEN
                RAISE EXCEPTION 'apply_assignment: % row % is not covered by the leaf grid given for it', p_table, bad
                    USING ERRCODE = 'check_violation';
            END IF;
            IF p_table = 'incidents' THEN
                UPDATE incidents t SET grid_code = v.code, grid_code_at_report = coalesce(t.grid_code_at_report, v.code)
                FROM unnest(p_ids, p_codes) AS v(id, code) WHERE t.id = v.id;
            ELSE
                UPDATE households t SET grid_code = v.code FROM unnest(p_ids, p_codes) AS v(id, code) WHERE t.id = v.id;
            END IF;
            GET DIAGNOSTICS n = ROW_COUNT;
            RETURN n;
        END $$;
        """
    )


def downgrade() -> None:
    for table, _key in AUDITED.items():
        _run(f"DROP TRIGGER IF EXISTS audit_insert ON {table}; DROP TRIGGER IF EXISTS audit_update ON {table}; "
                   f"DROP TRIGGER IF EXISTS audit_delete ON {table};")
    for table in (*SCOPED, *BOUNDARY, "staff", "changesets"):
        _run(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY; ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;")
        for policy in ("scope_read", "scope_insert", "scope_update", "scope_delete", "public_read", "edit_insert",
                       "edit_update", "edit_delete", "roster_insert", "roster_update", "roster_delete", "session_insert"):
            _run(f"DROP POLICY IF EXISTS {policy} ON {table}")
    _run(
        """
        DROP TRIGGER IF EXISTS resident_grid ON residents; DROP TRIGGER IF EXISTS event_grid ON incident_events;
        DROP TRIGGER IF EXISTS household_moved ON households; DROP TRIGGER IF EXISTS incident_moved ON incidents;
        DROP TRIGGER IF EXISTS stamp_author ON changesets; DROP TRIGGER IF EXISTS stamp_actor ON incident_events;
        DROP TRIGGER IF EXISTS stamp_recorder ON visits;
        DROP SCHEMA gridgov CASCADE;
        DROP TABLE audit_log, role_permissions, role_access, sessions, account_grants, accounts;
        ALTER TABLE residents DROP COLUMN grid_code; ALTER TABLE incident_events DROP COLUMN grid_code;
        ALTER TABLE visits DROP COLUMN recorded_by;
        DROP INDEX IF EXISTS ix_households_grid_code_prefix; DROP INDEX IF EXISTS ix_incidents_grid_code_prefix;
        DROP INDEX IF EXISTS ix_visits_grid_code_prefix; DROP INDEX IF EXISTS ix_staff_assignments_grid_code_prefix;
        """
    )

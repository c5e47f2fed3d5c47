"""the street's practices: evaluation, three-in-one assessment, spot checks, notices, cameras, completeness

Revision ID: 0003_street_practices
Revises: 0002
Create Date: 2026-12-01

What this adds (issue #17; the pure rules are in ``governance/``):

* **Resident evaluation (民主测评)**: ``evaluation_rounds`` (the code hashes' random ``salt`` is not
  readable by the application role: column privileges), ``evaluation_codes`` (only the HMAC of each
  code, the grid and worker it was issued for, ``used``; **no household, no time**; the application
  role may insert but never read or update it), ``evaluation_responses`` (the answers, the grid, the
  worker and the local date; no code, no hash, no household, no time). A resident's response is
  written by ``gridgov.evaluation_submit`` (SECURITY DEFINER): it flips ``used`` with
  ``… WHERE NOT used`` and inserts the response in one statement sequence, so one code answers once;
  the grid and worker come from the code record, never from the caller. Code updates are not
  audited (an audit row with a time would pair a code with a response).
* **Three-in-one assessment**: ``leader_ratings`` (0–100 per worker and period, the rater stamped
  from the session), ``assessment_results`` (the published breakdown per worker and period, and
  the award flag of a year).
* **Spot checks (督查)**: ``spot_check_draws`` (seed, parameters, population fingerprint),
  ``spot_check_items`` (the sampled visits), ``spot_check_outcomes``, ``reminder_talks``.
* **Notices (信息推送)**: ``notices``, ``notice_targets`` (chosen grids), ``notice_reads`` (read
  receipts; a person inserts only their own).
* **Cameras (雪亮工程)**: ``cameras`` (Point EPSG:4490, ``grid_code`` by the one assignment rule,
  ``stream_url`` readable only through ``gridgov.camera_streams`` by roles with
  ``view_camera_streams``); ``incidents.camera_id``.
* **Quarterly refresh and completeness**: ``last_verified_at``, ``verified_by`` (staff) and
  ``verified_account`` (stamped from the session) on households and residents (backfilled from
  ``households.refreshed_at``); ``houses`` (the address register) and ``completeness_todos``.
* **Feedback to residents**: ``incidents.reference`` (public reference code) and
  ``incidents.public_reply``; ``gridgov.public_incident`` returns only the whitelisted columns.
* Public, login-free reads through SECURITY DEFINER functions: ``evaluation_round_public``,
  ``evaluation_code``, ``public_notices``, ``public_contacts``, ``public_incident``.

Row-level security as in 0002: FORCEd, scope policies keyed on ``grid_code`` text prefixes for the
resources of :data:`access.permissions.PRACTICE_RESOURCES` (``role_access`` rows written by
``gridgov init``), permission policies (``gridgov.can``) elsewhere.
"""

from __future__ import annotations

from alembic import op

revision = "0003_street_practices"
down_revision = "0002"
branch_labels = None
depends_on = None

#: Tables under grid-code row-level security (resource name = table name), and whether a person
#: also reads their own rows (``staff_id`` = the session's staff record).
SCOPED = {
    "evaluation_responses": False,
    "leader_ratings": True,
    "assessment_results": True,
    "spot_check_items": False,
    "spot_check_outcomes": False,
    "reminder_talks": True,
    "notice_targets": False,
    "cameras": False,
    "completeness_todos": False,
    "houses": False,
}
#: Audited tables and their key column (evaluation_codes deliberately not: see the docstring).
AUDITED = {
    "evaluation_rounds": "id", "evaluation_responses": "id", "leader_ratings": "id", "assessment_results": "id",
    "spot_check_draws": "id", "spot_check_items": "id", "spot_check_outcomes": "id", "reminder_talks": "id",
    "notices": "id", "notice_targets": "notice_id", "notice_reads": "notice_id", "cameras": "id",
    "completeness_todos": "id", "houses": "id",
}
_DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
_REFERENCE = "'^[0-9A-HJKMNP-TV-Z]{12}$'"


def _run(sql: str) -> None:
    """Run ``sql`` as it is (no bind-parameter or percent processing)."""
    with op.get_bind().connection.driver_connection.cursor() as cursor:
        cursor.execute(sql)


def upgrade() -> None:
    _run(
        f"""
        -- who is acting, as a staff record -------------------------------------------------------
        CREATE FUNCTION gridgov.session_staff() RETURNS bigint LANGUAGE sql STABLE {_DEFINER} AS $$
            SELECT a.staff_id FROM accounts a WHERE a.id = gridgov.session_account()
        $$;

        -- resident evaluation ------------------------------------------------------------------
        CREATE TABLE evaluation_rounds (
            id bigserial PRIMARY KEY,
            title text NOT NULL CONSTRAINT ck_evaluation_rounds_title CHECK (length(title) BETWEEN 1 AND 100),
            period text NOT NULL CONSTRAINT ck_evaluation_rounds_period CHECK (period ~ '^[0-9]{{4}}(-(0[1-9]|1[0-2])|-Q[1-4])?$'),
            grid_codes text[] NOT NULL CONSTRAINT ck_evaluation_rounds_grids CHECK (cardinality(grid_codes) > 0),
            questions text[] NOT NULL,
            opens_at timestamptz NOT NULL,
            closes_at timestamptz NOT NULL,
            salt bytea NOT NULL CONSTRAINT ck_evaluation_rounds_salt CHECK (length(salt) >= 16),
            min_group integer NOT NULL DEFAULT 5 CHECK (min_group >= 1),
            status text NOT NULL DEFAULT 'open' CONSTRAINT ck_evaluation_rounds_status CHECK (status IN ('open', 'closed')),
            closed_at timestamptz,
            created_by text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            version integer NOT NULL DEFAULT 1,
            CONSTRAINT ck_evaluation_rounds_window CHECK (closes_at > opens_at)
        );
        CREATE TABLE evaluation_codes (
            round_id bigint NOT NULL REFERENCES evaluation_rounds(id) ON DELETE CASCADE,
            code_hash text NOT NULL CONSTRAINT ck_evaluation_codes_hash CHECK (code_hash ~ '^[0-9a-f]{{64}}$'),
            grid_code text NOT NULL REFERENCES grid_codes(code),
            staff_id bigint REFERENCES staff(id) ON DELETE SET NULL,
            expires_at timestamptz NOT NULL,
            used boolean NOT NULL DEFAULT false,
            PRIMARY KEY (round_id, code_hash)
        );
        CREATE TABLE evaluation_responses (
            id bigserial PRIMARY KEY,
            round_id bigint NOT NULL REFERENCES evaluation_rounds(id) ON DELETE CASCADE,
            grid_code text NOT NULL REFERENCES grid_codes(code),
            staff_id bigint REFERENCES staff(id) ON DELETE SET NULL,
            submitted_on date NOT NULL,
            service smallint CHECK (service BETWEEN 1 AND 5),
            responsiveness smallint CHECK (responsiveness BETWEEN 1 AND 5),
            resolution smallint CHECK (resolution BETWEEN 1 AND 5),
            knows_worker boolean,
            comment text NOT NULL DEFAULT '' CHECK (length(comment) <= 500)
        );
        CREATE INDEX ix_evaluation_responses_round ON evaluation_responses (round_id);
        CREATE INDEX ix_evaluation_responses_grid_code ON evaluation_responses (grid_code text_pattern_ops);

        -- three-in-one assessment ----------------------------------------------------------------
        CREATE TABLE leader_ratings (
            id bigserial PRIMARY KEY,
            staff_id bigint NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
            period text NOT NULL CHECK (period ~ '^[0-9]{{4}}(-(0[1-9]|1[0-2])|-Q[1-4])?$'),
            rating numeric(5, 2) NOT NULL CONSTRAINT ck_leader_ratings_range CHECK (rating BETWEEN 0 AND 100),
            note text NOT NULL DEFAULT '',
            grid_code text NOT NULL,
            rated_by text NOT NULL DEFAULT '',
            rated_by_staff bigint REFERENCES staff(id) ON DELETE SET NULL,
            rated_at timestamptz NOT NULL DEFAULT now(),
            version integer NOT NULL DEFAULT 1,
            CONSTRAINT uq_leader_ratings_staff_period UNIQUE (staff_id, period)
        );
        CREATE INDEX ix_leader_ratings_grid_code ON leader_ratings (grid_code text_pattern_ops);
        CREATE TABLE assessment_results (
            id bigserial PRIMARY KEY,
            period text NOT NULL CHECK (period ~ '^[0-9]{{4}}(-(0[1-9]|1[0-2])|-Q[1-4])?$'),
            staff_id bigint NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
            grid_code text NOT NULL,
            rank integer,
            total numeric(6, 2),
            grade text CHECK (grade IS NULL OR grade IN ('excellent', 'qualified', 'basic', 'unqualified')),
            award_eligible boolean,
            pending boolean NOT NULL DEFAULT false,
            breakdown jsonb NOT NULL DEFAULT '{{}}',
            config jsonb NOT NULL DEFAULT '{{}}',
            computed_by text NOT NULL DEFAULT '',
            computed_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_assessment_results_period_staff UNIQUE (period, staff_id)
        );
        CREATE INDEX ix_assessment_results_grid_code ON assessment_results (grid_code text_pattern_ops);

        -- spot checks ----------------------------------------------------------------------------
        CREATE TABLE spot_check_draws (
            id bigserial PRIMARY KEY,
            month text NOT NULL CHECK (month ~ '^[0-9]{{4}}-(0[1-9]|1[0-2])$'),
            per_worker integer NOT NULL CHECK (per_worker >= 0),
            seed bigint NOT NULL CHECK (seed >= 0),
            due_rule text NOT NULL,
            due_households bigint[] NOT NULL DEFAULT '{{}}',
            algorithm text NOT NULL,
            population integer NOT NULL,
            fingerprint text NOT NULL,
            drawn_by text NOT NULL DEFAULT '',
            drawn_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE spot_check_items (
            id bigserial PRIMARY KEY,
            draw_id bigint NOT NULL REFERENCES spot_check_draws(id) ON DELETE CASCADE,
            visit_id bigint NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
            staff_id bigint NOT NULL REFERENCES staff(id),
            household_id bigint NOT NULL REFERENCES households(id) ON DELETE CASCADE,
            grid_code text NOT NULL,
            visited_at timestamptz NOT NULL,
            reason text NOT NULL CHECK (reason IN ('random', 'special_due')),
            ord integer NOT NULL,
            CONSTRAINT uq_spot_check_items_draw_visit UNIQUE (draw_id, visit_id)
        );
        CREATE INDEX ix_spot_check_items_grid_code ON spot_check_items (grid_code text_pattern_ops);
        CREATE TABLE spot_check_outcomes (
            id bigserial PRIMARY KEY,
            item_id bigint NOT NULL UNIQUE REFERENCES spot_check_items(id) ON DELETE CASCADE,
            visit_id bigint NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
            staff_id bigint NOT NULL REFERENCES staff(id),
            grid_code text NOT NULL,
            outcome text NOT NULL CHECK (outcome IN ('confirmed', 'not_visited', 'details_wrong', 'unreachable')),
            method text NOT NULL CHECK (method IN ('phone', 'door')),
            note text NOT NULL DEFAULT '',
            inspector text NOT NULL DEFAULT '',
            checked_at timestamptz NOT NULL
        );
        CREATE INDEX ix_spot_check_outcomes_grid_code ON spot_check_outcomes (grid_code text_pattern_ops);
        CREATE INDEX ix_spot_check_outcomes_staff ON spot_check_outcomes (staff_id, checked_at);
        CREATE TABLE reminder_talks (
            id bigserial PRIMARY KEY,
            outcome_id bigint NOT NULL UNIQUE REFERENCES spot_check_outcomes(id) ON DELETE CASCADE,
            visit_id bigint NOT NULL,
            staff_id bigint NOT NULL REFERENCES staff(id),
            leader_id bigint NOT NULL REFERENCES staff(id),
            leader_name text NOT NULL,
            grid_code text NOT NULL,
            status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
            created_at timestamptz NOT NULL,
            done_at timestamptz,
            note text NOT NULL DEFAULT '',
            done_by text,
            version integer NOT NULL DEFAULT 1,
            CONSTRAINT ck_reminder_talks_done CHECK ((status = 'done') = (done_at IS NOT NULL))
        );
        CREATE INDEX ix_reminder_talks_grid_code ON reminder_talks (grid_code text_pattern_ops);
        CREATE INDEX ix_reminder_talks_leader ON reminder_talks (leader_id, status);

        -- notices --------------------------------------------------------------------------------
        CREATE TABLE notices (
            id bigserial PRIMARY KEY,
            kind text NOT NULL CHECK (kind IN ('policy', 'police_alert', 'public_safety', 'jobs', 'street_work')),
            title text NOT NULL CHECK (length(title) BETWEEN 1 AND 60),
            body text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
            valid_from timestamptz NOT NULL,
            valid_to timestamptz NOT NULL,
            levels integer[] NOT NULL DEFAULT '{{}}',
            public boolean NOT NULL DEFAULT true,
            attachments jsonb NOT NULL DEFAULT '[]',
            author text NOT NULL DEFAULT '',
            author_staff bigint REFERENCES staff(id) ON DELETE SET NULL,
            street_wide boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL DEFAULT now(),
            withdrawn_at timestamptz,
            CONSTRAINT ck_notices_window CHECK (valid_to > valid_from)
        );
        CREATE INDEX ix_notices_valid ON notices (valid_from, valid_to);
        CREATE TABLE notice_targets (
            notice_id bigint NOT NULL REFERENCES notices(id) ON DELETE CASCADE,
            grid_code text NOT NULL REFERENCES grid_codes(code),
            PRIMARY KEY (notice_id, grid_code)
        );
        CREATE INDEX ix_notice_targets_grid_code ON notice_targets (grid_code text_pattern_ops);
        CREATE TABLE notice_reads (
            notice_id bigint NOT NULL REFERENCES notices(id) ON DELETE CASCADE,
            staff_id bigint NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
            read_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (notice_id, staff_id)
        );

        -- cameras --------------------------------------------------------------------------------
        CREATE TABLE cameras (
            id bigserial PRIMARY KEY,
            camera_key text NOT NULL UNIQUE,
            name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
            type text NOT NULL CHECK (type IN ('bullet', 'dome', 'hemisphere', 'face', 'vehicle', 'other')),
            status text NOT NULL CHECK (status IN ('online', 'offline', 'fault', 'maintenance', 'removed')),
            stream_url text,
            geom geometry(Point, 4490) NOT NULL,
            grid_code text REFERENCES grid_codes(code),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX ix_cameras_geom ON cameras USING gist (geom);
        CREATE INDEX ix_cameras_grid_code ON cameras (grid_code text_pattern_ops);
        ALTER TABLE incidents ADD COLUMN camera_id bigint REFERENCES cameras(id) ON DELETE SET NULL;

        -- feedback to residents ------------------------------------------------------------------
        ALTER TABLE incidents ADD COLUMN reference text CONSTRAINT ck_incidents_reference_form CHECK (reference ~ {_REFERENCE});
        ALTER TABLE incidents ADD CONSTRAINT uq_incidents_reference UNIQUE (reference);
        ALTER TABLE incidents ADD COLUMN public_reply text NOT NULL DEFAULT '' CHECK (length(public_reply) <= 1000);

        -- quarterly refresh and completeness -----------------------------------------------------
        ALTER TABLE households ADD COLUMN last_verified_at timestamptz,
            ADD COLUMN verified_by bigint REFERENCES staff(id) ON DELETE SET NULL, ADD COLUMN verified_account text;
        ALTER TABLE residents ADD COLUMN last_verified_at timestamptz,
            ADD COLUMN verified_by bigint REFERENCES staff(id) ON DELETE SET NULL, ADD COLUMN verified_account text;
        CREATE TABLE houses (
            id bigserial PRIMARY KEY,
            house_key text NOT NULL UNIQUE,
            address text NOT NULL,
            address_key text NOT NULL,
            grid_code text REFERENCES grid_codes(code),
            geom geometry(Point, 4490)
        );
        CREATE INDEX ix_houses_grid_code ON houses (grid_code text_pattern_ops);
        CREATE TABLE completeness_todos (
            id bigserial PRIMARY KEY,
            rule text NOT NULL,
            household_id bigint REFERENCES households(id) ON DELETE CASCADE,
            resident_id bigint REFERENCES residents(id) ON DELETE CASCADE,
            house_id bigint REFERENCES houses(id) ON DELETE CASCADE,
            grid_code text NOT NULL,
            staff_id bigint REFERENCES staff(id) ON DELETE SET NULL,
            message_key text NOT NULL,
            params jsonb NOT NULL DEFAULT '{{}}',
            checked_at timestamptz NOT NULL
        );
        CREATE INDEX ix_completeness_todos_grid_code ON completeness_todos (grid_code text_pattern_ops);
        CREATE INDEX ix_completeness_todos_staff ON completeness_todos (staff_id);
        """
    )
    # the existing refresh dates are the first verification stamps
    _run(
        """
        UPDATE households SET last_verified_at = refreshed_at WHERE refreshed_at IS NOT NULL;
        UPDATE residents r SET last_verified_at = h.refreshed_at FROM households h
            WHERE h.id = r.household_id AND h.refreshed_at IS NOT NULL;
        """
    )
    # -- row-level security --------------------------------------------------------------------------
    for table, own in SCOPED.items():
        mine = " OR staff_id = (SELECT gridgov.session_staff())" if own else ""
        read = (f"((SELECT gridgov.sees_all('{table}', 'read')) "
                f"OR grid_code LIKE ANY ((SELECT gridgov.patterns('{table}', 'read'))::text[]){mine})")
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
    signed_in = "((SELECT gridgov.session_account()) IS NOT NULL)"
    _run(
        f"""
        ALTER TABLE evaluation_rounds ENABLE ROW LEVEL SECURITY;
        ALTER TABLE evaluation_rounds FORCE ROW LEVEL SECURITY;
        CREATE POLICY signed_in_read ON evaluation_rounds FOR SELECT USING {signed_in};
        CREATE POLICY manage_insert ON evaluation_rounds FOR INSERT WITH CHECK ((SELECT gridgov.can('manage_evaluation')));
        CREATE POLICY manage_update ON evaluation_rounds FOR UPDATE USING ((SELECT gridgov.can('manage_evaluation')))
            WITH CHECK ((SELECT gridgov.can('manage_evaluation')));

        -- nobody reads or updates the codes through the application role: only these functions do
        ALTER TABLE evaluation_codes ENABLE ROW LEVEL SECURITY;
        ALTER TABLE evaluation_codes FORCE ROW LEVEL SECURITY;
        CREATE POLICY manage_insert ON evaluation_codes FOR INSERT WITH CHECK ((SELECT gridgov.can('manage_evaluation')));

        ALTER TABLE spot_check_draws ENABLE ROW LEVEL SECURITY;
        ALTER TABLE spot_check_draws FORCE ROW LEVEL SECURITY;
        CREATE POLICY checker_read ON spot_check_draws FOR SELECT
            USING ((SELECT gridgov.can('spot_check')) OR (SELECT gridgov.can('hold_talks')));
        CREATE POLICY checker_insert ON spot_check_draws FOR INSERT WITH CHECK ((SELECT gridgov.can('spot_check')));

        ALTER TABLE notices ENABLE ROW LEVEL SECURITY;
        ALTER TABLE notices FORCE ROW LEVEL SECURITY;
        CREATE POLICY signed_in_read ON notices FOR SELECT USING {signed_in};
        CREATE POLICY publish_insert ON notices FOR INSERT WITH CHECK ((SELECT gridgov.can('publish_notice')));
        CREATE POLICY publish_update ON notices FOR UPDATE USING ((SELECT gridgov.can('publish_notice')))
            WITH CHECK ((SELECT gridgov.can('publish_notice')));

        ALTER TABLE notice_reads ENABLE ROW LEVEL SECURITY;
        ALTER TABLE notice_reads FORCE ROW LEVEL SECURITY;
        CREATE POLICY receipts_read ON notice_reads FOR SELECT
            USING ((SELECT gridgov.can('publish_notice')) OR staff_id = (SELECT gridgov.session_staff()));
        CREATE POLICY own_insert ON notice_reads FOR INSERT
            WITH CHECK (staff_id = (SELECT gridgov.session_staff()) AND NOT (SELECT gridgov.read_only()));
        """
    )
    # -- stamps: the acting account, whatever the application passed ---------------------------------
    _run(
        f"""
        CREATE FUNCTION gridgov.stamp_rater() RETURNS trigger LANGUAGE plpgsql {_DEFINER} AS $$
        BEGIN
            IF gridgov.session_account() IS NOT NULL THEN
                NEW.rated_by := gridgov.actor_name(); NEW.rated_by_staff := gridgov.session_staff();
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER stamp_rater BEFORE INSERT OR UPDATE ON leader_ratings FOR EACH ROW EXECUTE FUNCTION gridgov.stamp_rater();

        CREATE FUNCTION gridgov.stamp_computed() RETURNS trigger LANGUAGE plpgsql {_DEFINER} AS $$
        BEGIN
            IF gridgov.session_account() IS NOT NULL THEN NEW.computed_by := gridgov.actor_name(); END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER stamp_computed BEFORE INSERT OR UPDATE ON assessment_results FOR EACH ROW
            EXECUTE FUNCTION gridgov.stamp_computed();

        CREATE FUNCTION gridgov.stamp_round() RETURNS trigger LANGUAGE plpgsql {_DEFINER} AS $$
        BEGIN
            IF gridgov.session_account() IS NOT NULL THEN NEW.created_by := gridgov.actor_name(); END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER stamp_round BEFORE INSERT ON evaluation_rounds FOR EACH ROW EXECUTE FUNCTION gridgov.stamp_round();

        CREATE FUNCTION gridgov.stamp_draw() RETURNS trigger LANGUAGE plpgsql {_DEFINER} AS $$
        BEGIN
            IF gridgov.session_account() IS NOT NULL THEN NEW.drawn_by := gridgov.actor_name(); END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER stamp_draw BEFORE INSERT ON spot_check_draws FOR EACH ROW EXECUTE FUNCTION gridgov.stamp_draw();

        CREATE FUNCTION gridgov.stamp_inspector() RETURNS trigger LANGUAGE plpgsql {_DEFINER} AS $$
        BEGIN
            IF gridgov.session_account() IS NOT NULL THEN NEW.inspector := gridgov.actor_name(); END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER stamp_inspector BEFORE INSERT ON spot_check_outcomes FOR EACH ROW
            EXECUTE FUNCTION gridgov.stamp_inspector();

        CREATE FUNCTION gridgov.stamp_talk() RETURNS trigger LANGUAGE plpgsql {_DEFINER} AS $$
        BEGIN
            IF gridgov.session_account() IS NOT NULL AND NEW.status = 'done' AND OLD.status IS DISTINCT FROM 'done' THEN
                NEW.done_by := gridgov.actor_name();
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER stamp_talk BEFORE UPDATE ON reminder_talks FOR EACH ROW EXECUTE FUNCTION gridgov.stamp_talk();

        CREATE FUNCTION gridgov.stamp_notice() RETURNS trigger LANGUAGE plpgsql {_DEFINER} AS $$
        BEGIN
            IF gridgov.session_account() IS NOT NULL THEN
                NEW.author := gridgov.actor_name(); NEW.author_staff := gridgov.session_staff();
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER stamp_notice BEFORE INSERT ON notices FOR EACH ROW EXECUTE FUNCTION gridgov.stamp_notice();

        CREATE FUNCTION gridgov.stamp_verifier() RETURNS trigger LANGUAGE plpgsql {_DEFINER} AS $$
        BEGIN
            IF gridgov.session_account() IS NOT NULL
               AND (TG_OP = 'INSERT' OR NEW.last_verified_at IS DISTINCT FROM OLD.last_verified_at) THEN
                NEW.verified_account := CASE WHEN NEW.last_verified_at IS NULL THEN NULL ELSE gridgov.actor_name() END;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER stamp_verifier BEFORE INSERT OR UPDATE OF last_verified_at ON households FOR EACH ROW
            EXECUTE FUNCTION gridgov.stamp_verifier();
        CREATE TRIGGER stamp_verifier BEFORE INSERT OR UPDATE OF last_verified_at ON residents FOR EACH ROW
            EXECUTE FUNCTION gridgov.stamp_verifier();
        """
    )
    # -- audit -----------------------------------------------------------------------------------------
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
    # -- the doors of the public pages and of what the application role may not read -------------------
    _run(
        f"""
        CREATE FUNCTION gridgov.evaluation_round_public(p_round bigint)
        RETURNS TABLE (id bigint, title text, period text, grid_codes text[], questions text[], opens_at timestamptz,
                       closes_at timestamptz, status text, salt bytea)
        LANGUAGE sql STABLE {_DEFINER} AS $$
            SELECT r.id, r.title, r.period, r.grid_codes, r.questions, r.opens_at, r.closes_at, r.status, r.salt
            FROM evaluation_rounds r
            WHERE (p_round IS NULL AND r.closes_at > now() - interval '90 days') OR r.id = p_round
            ORDER BY r.id DESC LIMIT 20
        $$;

        CREATE FUNCTION gridgov.evaluation_code(p_round bigint, p_hash text)
        RETURNS TABLE (round_id bigint, code_hash text, grid_code text, staff_id bigint, expires_at timestamptz, used boolean)
        LANGUAGE sql STABLE {_DEFINER} AS $$
            SELECT c.round_id, c.code_hash, c.grid_code, c.staff_id, c.expires_at, c.used
            FROM evaluation_codes c WHERE c.round_id = p_round AND c.code_hash = p_hash
        $$;

        CREATE FUNCTION gridgov.evaluation_submit(
            p_round bigint, p_hash text, p_service smallint, p_responsiveness smallint, p_resolution smallint,
            p_knows boolean, p_comment text, p_submitted_on date
        ) RETURNS text LANGUAGE plpgsql {_DEFINER} AS $$
        -- One response per code: the code is flipped to used only if it still is unused, and the
        -- response takes the grid and worker of the code record. Returns 'ok', 'used', 'unknown',
        -- 'not_open' or 'expired'; nothing is written unless 'ok'.
        DECLARE
            rnd evaluation_rounds%ROWTYPE;
            code evaluation_codes%ROWTYPE;
        BEGIN
            SELECT * INTO rnd FROM evaluation_rounds WHERE id = p_round;
            IF NOT FOUND THEN RETURN 'unknown'; END IF;
            IF clock_timestamp() < rnd.opens_at THEN RETURN 'not_open'; END IF;
            UPDATE evaluation_codes c SET used = true
                WHERE c.round_id = p_round AND c.code_hash = p_hash AND NOT c.used
                  AND clock_timestamp() < least(rnd.closes_at, c.expires_at) AND rnd.status = 'open'
                RETURNING c.* INTO code;
            IF NOT FOUND THEN
                SELECT * INTO code FROM evaluation_codes c WHERE c.round_id = p_round AND c.code_hash = p_hash;
                IF NOT FOUND THEN RETURN 'unknown'; END IF;
                IF code.used THEN RETURN 'used'; END IF;
                RETURN 'expired';
            END IF;
            INSERT INTO evaluation_responses (round_id, grid_code, staff_id, submitted_on, service, responsiveness,
                                              resolution, knows_worker, comment)
            VALUES (p_round, code.grid_code, code.staff_id, p_submitted_on, p_service, p_responsiveness, p_resolution,
                    p_knows, coalesce(p_comment, ''));
            RETURN 'ok';
        END $$;

        CREATE FUNCTION gridgov.evaluation_issued(p_round bigint)
        RETURNS TABLE (grid_code text, staff_id bigint, issued bigint, used bigint)
        LANGUAGE plpgsql STABLE {_DEFINER} AS $$
        BEGIN
            IF NOT (gridgov.can('view_evaluation') OR gridgov.can('manage_evaluation')) THEN
                RAISE EXCEPTION 'evaluation figures need the view_evaluation permission' USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN QUERY SELECT c.grid_code, c.staff_id, count(*), count(*) FILTER (WHERE c.used)
                FROM evaluation_codes c
                WHERE c.round_id = p_round
                  AND (gridgov.sees_all('evaluation_responses', 'read')
                       OR c.grid_code LIKE ANY (gridgov.patterns('evaluation_responses', 'read')))
                GROUP BY c.grid_code, c.staff_id ORDER BY c.grid_code, c.staff_id;
        END $$;

        CREATE FUNCTION gridgov.camera_streams(p_ids bigint[])
        RETURNS TABLE (id bigint, stream_url text)
        LANGUAGE plpgsql STABLE {_DEFINER} AS $$
        BEGIN
            IF NOT gridgov.can('view_camera_streams') THEN
                RAISE EXCEPTION 'camera streams need the view_camera_streams permission' USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN QUERY SELECT c.id, c.stream_url FROM cameras c
                WHERE c.id = ANY(p_ids) AND c.stream_url IS NOT NULL
                  AND (gridgov.sees_all('cameras', 'read') OR c.grid_code LIKE ANY (gridgov.patterns('cameras', 'read')));
        END $$;

        CREATE FUNCTION gridgov.public_notices(p_codes text[])
        RETURNS TABLE (id bigint, kind text, title text, body text, valid_from timestamptz, valid_to timestamptz,
                       levels integer[], grid_codes text[], attachments jsonb)
        LANGUAGE sql STABLE {_DEFINER} AS $$
            -- current public notices sent to one of p_codes (a grid and its ancestors) or street-wide
            SELECT n.id, n.kind, n.title, n.body, n.valid_from, n.valid_to, n.levels,
                   coalesce((SELECT array_agg(t.grid_code ORDER BY t.grid_code) FROM notice_targets t WHERE t.notice_id = n.id), '{{}}'),
                   n.attachments
            FROM notices n
            WHERE n.public AND n.withdrawn_at IS NULL AND n.valid_from <= now() AND now() < n.valid_to
              AND (NOT EXISTS (SELECT 1 FROM notice_targets t WHERE t.notice_id = n.id)
                   OR EXISTS (SELECT 1 FROM notice_targets t WHERE t.notice_id = n.id
                              AND EXISTS (SELECT 1 FROM unnest(p_codes) c WHERE left(c, length(t.grid_code)) = t.grid_code
                                                                            OR left(t.grid_code, length(c)) = c)))
            ORDER BY n.valid_from DESC, n.id
            LIMIT 50
        $$;

        CREATE FUNCTION gridgov.public_contacts(p_code text, p_ancestors text[], p_day date)
        RETURNS TABLE (name text, role text, phone text, grid_code text, building_no text)
        LANGUAGE sql STABLE {_DEFINER} AS $$
            -- the public contact card (公示卡): the grid's team and its ancestors' leaders (work phones)
            SELECT s.name, a.role, s.phone, a.grid_code, a.building_no
            FROM staff_assignments a JOIN staff s ON s.id = a.staff_id
            WHERE (a.grid_code = p_code OR (a.grid_code = ANY(p_ancestors) AND a.role IN ('liaison_leader', 'grid_head')))
              AND a.start_date <= p_day AND (a.end_date IS NULL OR a.end_date >= p_day)
            ORDER BY a.grid_code, a.role, s.name
        $$;

        CREATE FUNCTION gridgov.public_incident(p_reference text)
        RETURNS TABLE (reference text, category text, status text, disposition text, public_reply text,
                       reported_at timestamptz, deadline timestamptz, closed_at timestamptz, updated_at timestamptz)
        LANGUAGE sql STABLE {_DEFINER} AS $$
            -- only what the public status page may show (governance.feedback.READ_KEYS)
            SELECT i.reference, i.category, i.status, i.disposition, i.public_reply, i.reported_at, i.deadline,
                   i.closed_at, i.updated_at
            FROM incidents i WHERE i.reference = p_reference
        $$;
        """
    )
    # -- cameras are assigned to their micro-grid by the one rule, like households and incidents -------
    _run(
        """
        CREATE OR REPLACE FUNCTION gridgov.apply_assignment(p_table text, p_ids bigint[], p_codes text[]) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
            n integer;
            bad bigint;
        BEGIN
            IF p_table NOT IN ('households', 'incidents', 'cameras') THEN
                RAISE EXCEPTION 'apply_assignment: % is not households, incidents or cameras', p_table;
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
            ELSIF p_table = 'cameras' THEN
                UPDATE cameras t SET grid_code = v.code FROM unnest(p_ids, p_codes) AS v(id, code) WHERE t.id = v.id;
            ELSE
                UPDATE households t SET grid_code = v.code FROM unnest(p_ids, p_codes) AS v(id, code) WHERE t.id = v.id;
            END IF;
            GET DIAGNOSTICS n = ROW_COUNT;
            RETURN n;
        END $$;
        """
    )


def downgrade() -> None:
    for table in AUDITED:
        _run(f"DROP TRIGGER IF EXISTS audit_insert ON {table}; DROP TRIGGER IF EXISTS audit_update ON {table}; "
             f"DROP TRIGGER IF EXISTS audit_delete ON {table};")
    _run(
        """
        DROP TRIGGER IF EXISTS stamp_verifier ON households; DROP TRIGGER IF EXISTS stamp_verifier ON residents;
        DROP FUNCTION IF EXISTS gridgov.evaluation_round_public(bigint), gridgov.evaluation_code(bigint, text),
            gridgov.evaluation_submit(bigint, text, smallint, smallint, smallint, boolean, text, date),
            gridgov.evaluation_issued(bigint), gridgov.camera_streams(bigint[]), gridgov.public_notices(text[]),
            gridgov.public_contacts(text, text[], date), gridgov.public_incident(text);
        DROP TABLE completeness_todos, houses, notice_reads, notice_targets, notices, reminder_talks,
            spot_check_outcomes, spot_check_items, spot_check_draws, assessment_results, leader_ratings,
            evaluation_responses, evaluation_codes, evaluation_rounds;
        ALTER TABLE incidents DROP COLUMN camera_id, DROP COLUMN reference, DROP COLUMN public_reply;
        DROP TABLE cameras;
        ALTER TABLE households DROP COLUMN last_verified_at, DROP COLUMN verified_by, DROP COLUMN verified_account;
        ALTER TABLE residents DROP COLUMN last_verified_at, DROP COLUMN verified_by, DROP COLUMN verified_account;
        DROP FUNCTION IF EXISTS gridgov.stamp_rater(), gridgov.stamp_computed(), gridgov.stamp_round(),
            gridgov.stamp_draw(), gridgov.stamp_inspector(), gridgov.stamp_talk(), gridgov.stamp_notice(),
            gridgov.stamp_verifier(), gridgov.session_staff();
        """
    )

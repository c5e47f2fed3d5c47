"""why a session ended, and an idle timer that short idle times can rely on

Revision ID: 0008_session_end
Revises: (see down_revision)
Create Date: 2026-12-01

* ``sessions.ended_by``: what ended a revoked session — ``logout`` (the person, in any tab),
  ``disabled`` (``gridgov user disable``), ``password`` (``gridgov user passwd``), ``revoked``
  (anything else: ``token revoke``, the owner ending an ``--as`` session);
* ``gridgov.session_end()`` (logout): a web session's logout ends every web session of the account —
  every tab of every browser it is logged in with — at its next request; a CLI or API session's
  logout ends that session only;
* ``gridgov.session_ended()``: for the token bound to the current transaction, why it no longer
  opens a session (``expired`` after the idle time, ``disabled``, one of the above, ``unknown``),
  or NULL while it is valid — so a page can tell the person why they must log in again;
* ``gridgov.session_touch()`` restarts the idle timer at most every 30 s (as before) but at least
  ten times per idle period, so an idle time shorter than a few minutes still counts from the
  last request.
"""

from __future__ import annotations

from alembic import op

revision = "0008_session_end"
down_revision = "0006_field_capture"
branch_labels = None
depends_on = None

_HEADER = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public"


def _run(sql: str) -> None:
    """Run ``sql`` as it is (no bind-parameter or percent processing), as 0002 does."""
    with op.get_bind().connection.driver_connection.cursor() as cursor:
        cursor.execute(sql)


def _session_end(every_web_session: bool) -> str:
    if not every_web_session:  # 0002's: this session only
        return """
        CREATE OR REPLACE FUNCTION gridgov.session_end() RETURNS boolean {h} AS $$
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
        """.replace("{h}", _HEADER)
    return """
        CREATE OR REPLACE FUNCTION gridgov.session_end() RETURNS boolean {h} AS $$
        DECLARE
            sid bigint := gridgov.session_id();
            ended text[];
        BEGIN
            IF sid IS NULL THEN RETURN false; END IF;
            WITH ended_now AS (
                UPDATE sessions s SET revoked_at = clock_timestamp(), ended_by = 'logout'
                FROM sessions me
                WHERE me.id = sid AND s.account_id = me.account_id AND s.revoked_at IS NULL
                  AND (s.id = sid OR (me.kind = 'web' AND s.kind = 'web'))
                RETURNING s.id
            )
            SELECT array_agg(id::text ORDER BY id) INTO ended FROM ended_now;
            INSERT INTO audit_log (account_id, account_name, action, object_type, object_ids)
            SELECT a.id, a.name, 'logout', 'session', ended
            FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id = sid;
            RETURN true;
        END $$;
        """.replace("{h}", _HEADER)


def _session_touch(throttle: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION gridgov.session_touch() RETURNS boolean {_HEADER} AS $$
        DECLARE
            sid bigint := gridgov.session_id();
        BEGIN
            IF sid IS NULL THEN RETURN false; END IF;
            UPDATE sessions SET last_seen_at = clock_timestamp(),
                   expires_at = CASE WHEN idle_seconds IS NULL THEN expires_at
                                     ELSE clock_timestamp() + make_interval(secs => idle_seconds) END
            WHERE id = sid AND last_seen_at < clock_timestamp() - {throttle};
            RETURN true;
        END $$;
    """


def upgrade() -> None:
    _run(
        """
        ALTER TABLE sessions ADD COLUMN ended_by text
            CONSTRAINT ck_sessions_ended_by CHECK (ended_by IN ('logout', 'disabled', 'password', 'revoked'));

        CREATE FUNCTION gridgov.session_ended() RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
            SELECT CASE WHEN s.id IS NULL THEN 'unknown'
                        WHEN a.disabled THEN 'disabled'
                        WHEN s.revoked_at IS NOT NULL THEN coalesce(s.ended_by, 'revoked')
                        WHEN s.expires_at <= now() THEN 'expired'
                   END
            FROM (SELECT sha256(convert_to(nullif(current_setting('gridgov.session', true), ''), 'UTF8')) AS h) t
            LEFT JOIN sessions s ON s.token_hash = t.h
            LEFT JOIN accounts a ON a.id = s.account_id
        $$;
        """
    )
    _run(_session_end(True))
    _run(_session_touch(
        "least(interval '30 seconds', make_interval(secs => coalesce(idle_seconds, 300) / 10.0))"))


def downgrade() -> None:
    _run(_session_touch("interval '30 seconds'"))
    _run(_session_end(False))
    _run("DROP FUNCTION gridgov.session_ended(); ALTER TABLE sessions DROP COLUMN ended_by;")

"""Account grants follow the staff moves of a boundary edit (issue #13: a redraw carries its people).

A worker's account is granted her micro-grid's code; when a split or merge moves her assignment to
a new code, her grant must follow in the same transaction, or row-level security locks her out of
her own grid. The application role has no rights on ``account_grants``; this SECURITY DEFINER
function is its one door, for accounts that may edit boundaries or manage the roster:
``gridgov.follow_grants(staff_ids, old_codes, new_codes)`` grants each ``new_code`` to the accounts
of the staff member that hold exactly ``old_code``, and drops grants on ``old_code`` when it is no
longer a current grid. Returns the number of grants added.
"""

from __future__ import annotations

from alembic import op

revision = "0013_grants_follow_staff"
down_revision = "0010"
branch_labels = None
depends_on = None


def _run(sql: str) -> None:
    with op.get_bind().connection.driver_connection.cursor() as cursor:
        cursor.execute(sql)


def upgrade() -> None:
    _run(
        """
        CREATE FUNCTION gridgov.follow_grants(p_staff bigint[], p_old text[], p_new text[]) RETURNS integer
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        DECLARE
            n integer;
        BEGIN
            IF gridgov.session_account() IS NOT NULL
               AND NOT (gridgov.can('edit_boundaries') OR gridgov.can('manage_roster')) THEN
                RAISE EXCEPTION 'moving account grants needs the edit_boundaries or manage_roster permission'
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            INSERT INTO account_grants (account_id, grid_code)
            SELECT DISTINCT g.account_id, v.new_code
            FROM unnest(p_staff, p_old, p_new) AS v(staff_id, old_code, new_code)
            JOIN accounts a ON a.staff_id = v.staff_id
            JOIN account_grants g ON g.account_id = a.id AND g.grid_code = v.old_code
            WHERE EXISTS (SELECT 1 FROM grids c WHERE c.code = v.new_code)
            ON CONFLICT DO NOTHING;
            GET DIAGNOSTICS n = ROW_COUNT;
            DELETE FROM account_grants g
            USING unnest(p_staff, p_old) AS v(staff_id, old_code), accounts a
            WHERE a.staff_id = v.staff_id AND g.account_id = a.id AND g.grid_code = v.old_code
              AND NOT EXISTS (SELECT 1 FROM grids c WHERE c.code = v.old_code);
            RETURN n;
        END $$;
        """
    )


def downgrade() -> None:
    _run("DROP FUNCTION IF EXISTS gridgov.follow_grants(bigint[], text[], text[])")

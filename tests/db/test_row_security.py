"""Row-level security, proved through the application role's own engine (what the app, CLI and API use).

* the application role is powerless by itself (no superuser, no BYPASSRLS, owns nothing, no rights on
  the account tables, only INSERT on the audit log);
* every governed table has row-level security FORCEd, with policies on grid codes only (no spatial
  predicate);
* for every role (its demo account): a raw ``SELECT`` returns exactly the rows of its grants and its
  role's table access (:data:`access.permissions.TABLE_ACCESS`), counted against the owner's view;
* a micro-grid worker's session cannot read another grid's households, residents, incidents or visits
  by any query we could think of — joins, CTEs, sub-queries, spatial joins, JSON, statistics,
  ``row_security = off``, ``SET ROLE``, resetting the session setting — nor change them;
* no session bound: zero rows everywhere (fail closed), and writes refused;
* one pooled connection interleaving two accounts (and nobody, and a failed transaction) never
  carries one account's scope into another's transaction;
* views run with ``security_invoker`` (catalogue check, and a probe showing why it matters);
* the audit log is append-only: the application role cannot UPDATE, DELETE, TRUNCATE or read it,
  may INSERT only rows of its own account, and even the owner's UPDATE/DELETE/TRUNCATE are refused.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from access.permissions import ROLES, TABLE_ACCESS
from store.engine import make_engine
from store.session import acting_as

SCOPED = ("households", "residents", "incidents", "incident_events", "visits", "staff_assignments")
ACCOUNT_TABLES = ("accounts", "account_grants", "sessions", "role_access", "role_permissions")
ACCOUNTS = {
    "admin": "admin", "leader": "leader", "planner": "planner", "grid_head": "head-001", "worker": "worker-001",
    "police": "police", "doctor": "doctor", "supervisor": "supervisor", "coordinator": "coordinator",
    "inspector": "inspector",
}


def _rows(app_engine: Engine, actor, sql: str | list[str], params: dict | None = None) -> list:  # noqa: ANN001
    """The rows of ``sql`` (or of the last of a list of statements, run in one transaction) as ``actor``."""
    statements = [sql] if isinstance(sql, str) else sql
    with acting_as(actor), app_engine.begin() as conn:
        for statement in statements[:-1]:
            conn.execute(text(statement))
        return conn.execute(text(statements[-1]), params or {}).all()


def _grants(engine: Engine, account: str) -> tuple[list[str], bool]:
    with engine.connect() as conn:
        wide = conn.execute(text("SELECT street_wide FROM accounts WHERE name = :n"), {"n": account}).scalar_one()
        codes = conn.execute(text("SELECT g.grid_code FROM account_grants g JOIN accounts a ON a.id = g.account_id "
                                  "WHERE a.name = :n ORDER BY 1"), {"n": account}).scalars().all()
    return list(codes), bool(wide)


def _refused(app_engine: Engine, actor, sql: str | list[str]) -> str:  # noqa: ANN001
    """The database's message for ``sql`` run as ``actor`` (the test fails when it is not refused)."""
    with pytest.raises(DBAPIError) as caught:
        _rows(app_engine, actor, sql)
    return str(caught.value.orig)


@pytest.fixture(scope="module")
def worker(login_as):  # noqa: ANN001, ANN201
    return login_as("worker-001")


@pytest.fixture(scope="module")
def elsewhere(engine: Engine) -> dict:
    """A household, resident, incident and visit outside worker-001's grants (read as the owner)."""
    codes, _ = _grants(engine, "worker-001")
    assert codes, "worker-001 has no grants in the demo"
    outside = " AND ".join(f"grid_code NOT LIKE '{c}%'" for c in codes)
    with engine.connect() as conn:
        household, code = conn.execute(text(f"SELECT id, grid_code FROM households WHERE {outside} ORDER BY id LIMIT 1")).one()
        resident = conn.execute(text(f"SELECT id FROM residents WHERE {outside} ORDER BY id LIMIT 1")).scalar_one()
        incident = conn.execute(text(f"SELECT id FROM incidents WHERE {outside} ORDER BY id LIMIT 1")).scalar_one()
        visit = conn.execute(text(f"SELECT id FROM visits WHERE {outside} ORDER BY id LIMIT 1")).scalar_one()
        inside = conn.execute(text(f"SELECT count(*) FROM households WHERE NOT ({outside})")).scalar_one()
    assert inside > 0
    return {"household": household, "code": code, "resident": resident, "incident": incident, "visit": visit,
            "own": codes, "own_households": inside}


# -- the roles and the catalogue ----------------------------------------------------------------------
def test_the_application_role_is_powerless(app_engine: Engine) -> None:
    with app_engine.connect() as conn:
        me, sup, bypass = conn.execute(text(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")).one()
        assert not sup and not bypass, me
        owned = conn.execute(text(
            "SELECT (SELECT count(*) FROM pg_class WHERE relowner = r.oid) + (SELECT count(*) FROM pg_proc "
            "WHERE proowner = r.oid) + (SELECT count(*) FROM pg_namespace WHERE nspowner = r.oid) "
            "FROM pg_roles r WHERE rolname = current_user")).scalar_one()
        assert owned == 0
        for table in ACCOUNT_TABLES:
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE"):
                assert not conn.execute(text("SELECT has_table_privilege(:t, :p)"), {"t": table, "p": privilege}
                                        ).scalar_one(), (table, privilege)
        audit = {p: conn.execute(text("SELECT has_table_privilege('audit_log', :p)"), {"p": p}).scalar_one()
                 for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")}
        assert audit == {p: p == "INSERT" for p in audit}, audit


def test_governed_tables_force_rls_with_grid_code_policies(engine: Engine) -> None:
    with engine.connect() as conn:
        flags = dict(conn.execute(text(
            "SELECT relname, relrowsecurity AND relforcerowsecurity FROM pg_class "
            "WHERE relname = ANY(:t) AND relkind = 'r'"), {"t": [*SCOPED, "audit_log"]}).all())
        policies = conn.execute(text(
            "SELECT tablename, policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '') FROM pg_policies "
            "WHERE tablename = ANY(:t)"), {"t": list(SCOPED)}).all()
    assert flags == {t: True for t in (*SCOPED, "audit_log")}
    assert {p[0] for p in policies} == set(SCOPED)
    for table, name, expr in policies:
        assert "grid_code" in expr, (table, name, expr)
        assert not any(op in expr.lower() for op in ("&&", "st_", "geom", "~=", "@")), (table, name, expr)


def _leaky_views(conn) -> list[str]:  # noqa: ANN001
    """Views of the project's schemas (not an extension's) that run as their owner instead of the invoker."""
    return list(conn.execute(text(
        """
        SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg_toast%'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                          AND d.deptype = 'e')
          AND NOT coalesce('security_invoker=true' = ANY(c.reloptions) OR 'security_invoker=on' = ANY(c.reloptions),
                           false)
        ORDER BY 1
        """)).scalars())


def test_views_run_with_security_invoker(engine: Engine, app_engine: Engine, worker, elsewhere) -> None:  # noqa: ANN001
    with engine.connect() as conn:
        assert _leaky_views(conn) == []
    # why: a view without security_invoker reads as its owner, around every policy; with it, as the reader
    app_role = make_url_user(app_engine)
    safe, leaky = f"probe_invoker_{uuid.uuid4().hex[:6]}", f"probe_owner_{uuid.uuid4().hex[:6]}"
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE VIEW {safe} WITH (security_invoker = true) AS SELECT id, grid_code FROM households"))
            conn.execute(text(f"CREATE VIEW {leaky} AS SELECT id, grid_code FROM households"))
            conn.execute(text(f'GRANT SELECT ON {safe}, {leaky} TO "{app_role}"'))
            assert _leaky_views(conn) == [f"public.{leaky}"]  # the catalogue check catches it
        other = {"id": elsewhere["household"]}
        assert _rows(app_engine, worker, f"SELECT * FROM {safe} WHERE id = :id", other) == []
        assert _rows(app_engine, worker, f"SELECT count(*) FROM {safe}")[0][0] == elsewhere["own_households"]
        assert len(_rows(app_engine, worker, f"SELECT * FROM {leaky} WHERE id = :id", other)) == 1
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP VIEW IF EXISTS {safe}"))
            conn.execute(text(f"DROP VIEW IF EXISTS {leaky}"))


def make_url_user(app_engine: Engine) -> str:
    return str(app_engine.url.username)


# -- every role reads only its rows ---------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_only_its_rows(role: str, login_as, engine: Engine, app_engine: Engine) -> None:  # noqa: ANN001
    account = ACCOUNTS[role]
    actor = login_as(account)
    assert actor.role == role
    codes, wide = _grants(engine, account)
    problems = []
    for table in SCOPED:
        read = TABLE_ACCESS[role][table].read
        if read == "scope" and wide:
            read = "all"
        with engine.connect() as conn:
            total = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            in_scope = conn.execute(text(f"SELECT count(*) FROM {table} WHERE grid_code LIKE ANY(:p)"),
                                    {"p": [c + "%" for c in codes]}).scalar_one()
        expected = {"all": total, "scope": in_scope, "none": 0}[read]
        seen = _rows(app_engine, actor, f"SELECT grid_code FROM {table}")
        if len(seen) != expected:
            problems.append(f"{table} ({read}): saw {len(seen)} rows, expected {expected} of {total}")
        if read == "scope" and any(not any(str(c).startswith(p) for p in codes) for (c,) in seen):
            problems.append(f"{table}: a row outside the grants {codes}")
    assert not problems, f"{role} ({account}, grants {codes}, street-wide {wide}): {problems}"
    if role == "worker":
        assert 0 < in_scope < total  # the demo worker's scope is a real part of the street


# -- a worker against another grid's rows ---------------------------------------------------------------
QUERIES = [
    "SELECT * FROM households WHERE id = :household",
    "SELECT * FROM households WHERE grid_code = :code",
    "SELECT count(*) FROM households WHERE grid_code = :code HAVING count(*) > 0",
    "SELECT id FROM households WHERE grid_code LIKE left(:code, 6) || '%' AND id = :household",
    "WITH every AS (SELECT * FROM households) SELECT * FROM every WHERE id = :household",
    "SELECT (SELECT row_to_json(h) FROM households h WHERE h.id = :household) AS j WHERE "
    "(SELECT row_to_json(h) FROM households h WHERE h.id = :household) IS NOT NULL",
    "SELECT jsonb_agg(h) FROM households h WHERE h.id = :household HAVING count(*) > 0",
    "SELECT h.id FROM grids g JOIN households h ON ST_Intersects(g.geom, h.geom) WHERE g.code = :code",
    "SELECT h.id FROM households h WHERE ST_DWithin(h.geom, (SELECT geom FROM households WHERE id = :household), 1)",
    "SELECT * FROM ONLY households WHERE id = :household",
    "SELECT * FROM households TABLESAMPLE SYSTEM (100) WHERE id = :household",
    "SELECT * FROM households WHERE id IN (SELECT household_id FROM residents WHERE id = :resident)",
    "SELECT * FROM residents WHERE id = :resident",
    "SELECT r.* FROM residents r JOIN households h ON h.id = r.household_id WHERE h.grid_code = :code",
    "SELECT * FROM residents WHERE household_id = :household",
    "SELECT * FROM incidents WHERE id = :incident",
    "SELECT * FROM incident_events WHERE incident_id = :incident",
    "SELECT * FROM visits WHERE id = :visit",
    "SELECT * FROM visits WHERE household_id = :household",
    "SELECT tablename, attname FROM pg_stats WHERE tablename IN ('households', 'residents', 'incidents', 'visits')",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_a_worker_cannot_read_another_grids_rows(sql: str, app_engine: Engine, engine: Engine, worker, elsewhere) -> None:  # noqa: ANN001
    params = {k: elsewhere[k] for k in ("household", "code", "resident", "incident", "visit") if f":{k}" in sql}
    if "pg_stats" in sql:
        with engine.connect() as conn:  # statistics exist (the owner sees them); the worker must not
            conn.execute(text("ANALYZE households, residents"))
            conn.commit()
            assert conn.execute(text(sql)).all()
    assert _rows(app_engine, worker, sql, params) == [], sql


def test_a_worker_cannot_switch_security_off_or_become_someone_else(app_engine: Engine, engine: Engine, worker,  # noqa: ANN001
                                                                    elsewhere) -> None:
    other = {"id": elsewhere["household"]}
    assert "row-level security" in _refused(app_engine, worker, ["SET LOCAL row_security = off",
                                                                 "SELECT * FROM households"])
    for role in (engine.url.username, "postgres"):
        assert "permission denied" in _refused(app_engine, worker, f'SET LOCAL ROLE "{role}"')
    # the session setting is the only key; wiping or faking it inside the transaction leaves nobody
    for forged in ("", "forged-token"):
        assert _rows(app_engine, worker, [f"SELECT set_config('gridgov.session', '{forged}', true)",
                                          "SELECT count(*) FROM households"]) == [(0,)], forged
    assert _rows(app_engine, worker, "SELECT * FROM households WHERE id = :id", other) == []
    with acting_as(worker), app_engine.begin() as conn:  # writes to another grid's rows touch nothing
        assert conn.execute(text("UPDATE households SET address = address WHERE id = :id"), other).rowcount == 0
        assert conn.execute(text("DELETE FROM residents WHERE household_id = :id"), other).rowcount == 0
        assert conn.execute(text("DELETE FROM visits WHERE id = :v"), {"v": elsewhere["visit"]}).rowcount == 0
        conn.rollback()
    message = _refused(app_engine, worker, (  # an incident of another grid, copied from one of the worker's own
        "INSERT INTO incidents (grid_code, category, status, reported_at, geom) "
        f"SELECT '{elsewhere['code']}', category, status, reported_at, geom FROM incidents ORDER BY id LIMIT 1"))
    assert "row-level security" in message, message


# -- fail closed and pooled connections ------------------------------------------------------------------
def test_no_session_no_rows(app_engine: Engine, worker) -> None:  # noqa: ANN001
    for table in SCOPED:
        assert _rows(app_engine, None, f"SELECT count(*) FROM {table}") == [(0,)], table
    with app_engine.connect() as conn:  # a raw connection, no engine event: a session-level setting of a bogus token
        conn.exec_driver_sql("SET gridgov.session = 'not-a-session'")
        assert conn.execute(text("SELECT count(*) FROM households")).scalar_one() == 0
        conn.rollback()
        conn.exec_driver_sql("RESET gridgov.session")
    message = _refused(app_engine, None, "INSERT INTO incidents (grid_code, category, reported_at, geom) "
                                         "SELECT code, '环境卫生', now(), ST_PointOnSurface(geom) FROM grids LIMIT 1")
    assert "row-level security" in message, message
    assert _rows(app_engine, worker, "SELECT count(*) FROM households")[0][0] > 0  # the worker's own session does


def test_a_pooled_connection_never_carries_scope(database_url: str, throwaway_databases, login_as,  # noqa: ANN001
                                                 elsewhere) -> None:
    one = make_engine(throwaway_databases.app_url(database_url), pool_size=1, max_overflow=0)
    try:
        worker, head = login_as("worker-001"), login_as("head-006")
        pids, counts = set(), []
        sql = "SELECT pg_backend_pid(), count(*) FROM households"
        for actor in (worker, head, worker, None, head, None):
            (pid, n), = _rows(one, actor, sql)
            pids.add(pid)
            counts.append(n)
        assert len(pids) == 1, "the test must reuse one pooled connection"
        assert counts[0] == counts[2] == elsewhere["own_households"]
        assert counts[1] == counts[4] and counts[1] > 0 and counts[1] != counts[0]
        assert counts[3] == counts[5] == 0
        # a failed transaction of the worker, rolled back: the next one, for nobody, sees nothing
        with pytest.raises(DBAPIError):
            _rows(one, worker, "SELECT 1 / (count(*) - count(*)) FROM households")
        assert _rows(one, None, sql)[0][1] == 0
        # head-006's rows are not the worker's (another community), and the worker never sees them
        head_only = _rows(one, head, "SELECT id FROM households ORDER BY id LIMIT 5")
        assert _rows(one, worker, "SELECT id FROM households WHERE id = ANY(:ids)",
                     {"ids": [r[0] for r in head_only]}) == []
    finally:
        one.dispose()


# -- the audit log is append-only ------------------------------------------------------------------------
def test_the_audit_log_is_append_only(app_engine: Engine, engine: Engine, login_as) -> None:  # noqa: ANN001
    from store import audit

    admin = login_as("admin")
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*), max(id) FROM audit_log")).one()
    for sql in ("UPDATE audit_log SET action = 'nothing happened'", "DELETE FROM audit_log", "TRUNCATE audit_log",
                "SELECT * FROM audit_log LIMIT 1", "ALTER TABLE audit_log DISABLE TRIGGER append_only"):
        message = _refused(app_engine, admin, sql)
        assert "permission denied" in message or "must be owner" in message, (sql, message)
    # the application role may add its own account's entries, never another's (nor nobody's)
    with acting_as(admin), app_engine.begin() as conn:
        audit.record(conn, "test_append", object_type="audit_log")
    with engine.connect() as conn:
        other = conn.execute(text("SELECT id FROM accounts WHERE name = 'inspector'")).scalar_one()
    message = _refused(app_engine, admin, f"INSERT INTO audit_log (account_id, account_name, action) "
                                          f"VALUES ({other}, 'inspector', 'forged')")
    assert "row-level security" in message, message
    # even the owner cannot rewrite history (the trigger)
    for sql in ("UPDATE audit_log SET action = 'x' WHERE id = (SELECT max(id) FROM audit_log)",
                "DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log)", "TRUNCATE audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))
    with engine.connect() as conn:
        after = conn.execute(text("SELECT count(*), max(id) FROM audit_log")).one()
        last = conn.execute(text("SELECT account_name, action FROM audit_log ORDER BY id DESC LIMIT 1")).one()
    assert after[0] == before[0] + 1 and after[1] > before[1]
    assert tuple(last) == ("admin", "test_append")


def test_owner_url_is_not_the_app_url(database_url: str, throwaway_databases) -> None:  # noqa: ANN001
    """The tests' two engines really are two roles (a test of RLS through the owner would prove nothing)."""
    owner = create_engine(database_url)
    app = create_engine(throwaway_databases.app_url(database_url))
    try:
        with owner.connect() as a, app.connect() as b:
            assert a.execute(text("SELECT current_user")).scalar_one() != b.execute(text("SELECT current_user")).scalar_one()
    finally:
        owner.dispose()
        app.dispose()

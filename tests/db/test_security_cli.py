"""`gridgov db url --role owner|app` and the demo accounts `gridgov demo` prints (and the README lists)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from access.permissions import ROLES
from demo.generate import DEMO_PASSWORD
from testdb import database_env
from tests.db._cli import run

README = Path(__file__).resolve().parents[2] / "README.md"


def _user(url: str) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT current_user")).scalar_one()
    finally:
        engine.dispose()


def test_db_url_prints_the_owner_or_the_application_role(database_url: str, throwaway_databases) -> None:  # noqa: ANN001
    env = database_env(database_url, actor=None)
    urls = {}
    for role in ("owner", "app"):
        code, out, err = run(["db", "url", "--role", role], env=env)
        assert code == 0 and not err.strip(), err
        urls[role] = out.strip()
        code, out, _ = run(["db", "url", "--role", role, "--json"], env=env)
        assert code == 0 and json.loads(out) == {"database_url": urls[role], "role": role}
    assert run(["db", "url"], env=env)[1].strip() == urls["owner"]  # the owner by default
    assert make_url(urls["owner"]).database == make_url(urls["app"]).database == make_url(database_url).database
    # the URLs work (with their passwords) and are the two different roles
    assert _user(urls["owner"]) == make_url(database_url).username
    assert _user(urls["app"]) == make_url(throwaway_databases.app_url(database_url)).username != _user(urls["owner"])
    code, out, err = run(["db", "url", "--role", "root"], env=env)
    assert code == 2 and not out and err.strip() == "error: --role was 'root' but is expected to be 'owner' or 'app'"


def test_demo_prints_the_accounts_and_the_password(database_url: str) -> None:
    """On a database that already holds the demo, `demo --if-empty` changes nothing and still lists the logins."""
    env = database_env(database_url, actor=None)
    code, out, err = run(["demo", "--if-empty"], env=env)
    assert code == 0, err
    assert f"demo accounts (password {DEMO_PASSWORD}" in out
    assert "gridgov user passwd NAME --password-stdin" in out
    listed = dict(re.findall(r"^  (\w+) +([a-z0-9-]+)", out, flags=re.M))
    assert set(listed) == set(ROLES), listed
    assert listed["worker"] == "worker-001" and "(and 130 more)" in out  # 131 micro-grid workers
    code, out, _ = run(["demo", "--if-empty", "--json"], env=env)
    data = json.loads(out)
    assert code == 0 and data["demo_password"] == DEMO_PASSWORD
    assert [a["role"] for a in data["accounts"]] == list(ROLES)
    counts = {a["role"]: a["count"] for a in data["accounts"]}
    assert counts["worker"] == 131 and counts["grid_head"] == 6


def test_the_readme_lists_the_demo_accounts(database_url: str, app_engine) -> None:  # noqa: ANN001
    """Every role, an account `gridgov demo` makes for it, and the password that logs in — as the README says."""
    from services.auth import login

    readme = README.read_text(encoding="utf-8")
    section = readme.split("### Demo accounts", 1)[1].split("\n## ", 1)[0]
    assert f"**`{DEMO_PASSWORD}`**" in section
    assert "gridgov user passwd NAME --password-stdin" in section
    engine = create_engine(database_url)
    with engine.connect() as conn:
        names = dict(conn.execute(text("SELECT role, min(name) FROM accounts GROUP BY role")).all())
    engine.dispose()
    for role in ROLES:
        row = next((line for line in section.splitlines() if line.startswith(f"| `{role}`")), None)
        assert row is not None, f"README's demo accounts have no row for {role}"
        assert f"`{names[role]}`" in row, (role, names[role], row)
        assert login(app_engine, names[role], DEMO_PASSWORD).actor.role == role  # the real login (argon2id)

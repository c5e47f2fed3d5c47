"""DATABASE_URL replaces the local cluster; a database without PostGIS gives one clear error."""

from __future__ import annotations

from testdb import database_env

import os
import subprocess
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from store.engine import make_engine
from gis.errors import DatabaseUnavailableError, PostGISMissingError

from tests.db._cli import command


@pytest.fixture()
def database_without_postgis(throwaway_databases):
    """A database without the extension, reached by a role that may not create it."""
    throwaway_databases.create(migrate=False)
    admin_url = make_url(throwaway_databases.superuser_url)
    admin = create_engine(admin_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = f"gridgov_nopostgis_{uuid.uuid4().hex[:6]}"
    role = f"gridgov_plain_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN PASSWORD \'plain-role-password\''))
    url = admin_url.set(database=name, username=role, password="plain-role-password").render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    admin.dispose()


def test_missing_postgis_is_one_clear_error(database_without_postgis) -> None:
    with pytest.raises(PostGISMissingError, match="has no PostGIS"):
        make_engine(database_without_postgis)


def test_cli_with_database_url_without_postgis_exits_2(database_without_postgis) -> None:
    env = {**os.environ, **database_env(database_without_postgis)}
    proc = subprocess.run(command(["stats"]), capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 2
    assert "PostGIS" in proc.stderr and "Traceback" not in proc.stderr


def test_unreachable_server_is_one_clear_error() -> None:
    with pytest.raises(DatabaseUnavailableError, match="cannot connect"):
        make_engine("postgresql://nobody@127.0.0.1:1/none")


def test_database_url_replaces_the_local_cluster(database_url) -> None:
    env = {**os.environ, **database_env(database_url)}
    up = subprocess.run(command(["db", "up"]), capture_output=True, text=True, env=env,
                        timeout=120)
    assert up.returncode == 2 and "DATABASE_URL is set" in up.stderr
    url = subprocess.run(command(["db", "url"]), capture_output=True, text=True, env=env,
                         timeout=120)
    assert make_url(url.stdout.strip()).database == make_url(database_url).database
    stats = subprocess.run(command(["stats", "--json"]), capture_output=True, text=True,
                           env=env, timeout=120)
    assert stats.returncode == 0 and '"households": 6297' in stats.stdout

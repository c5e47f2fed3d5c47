"""The project-local PostGIS cluster under ``var/pg``.

PostgreSQL refuses to run as root, so when GridGov runs as root the cluster belongs to the
``postgres`` system user (``runuser -u postgres --``); as any other user it runs as that
user. The cluster listens on 127.0.0.1 only, on a port of its own (``GRIDGOV_PG_PORT``,
default 55432; if that port is taken when the cluster is first created, the next free one
is chosen and remembered in ``var/pg/port``). It has no Unix socket, so the path of the
checkout may be as long as it likes.

It is not open: every TCP connection authenticates with a password (``scram-sha-256``, no
``trust``). Three roles have random passwords, kept in ``var/pg/secrets.json`` (mode 0600,
readable only by the user who created the cluster — root on a server):

* ``postgres`` — the superuser: creates databases, roles and the PostGIS extension;
* ``gridgov_owner`` — owns every GridGov table, runs migrations and the owner commands
  (``gridgov db|init|user``, scripts with ``--as``); ``BYPASSRLS``;
* ``gridgov_app`` — what the app, the CLI and the API connect as: owns nothing, no
  ``BYPASSRLS``, not a superuser; row-level security applies to it.

The server log (``var/pg/postgresql.log``) is readable only by its owner (mode 0600). A
cluster made by an earlier GridGov with ``trust`` authentication is secured in place by
:meth:`LocalCluster.start`. Production deployments set ``DATABASE_URL`` (owner) and
``GRIDGOV_APP_DATABASE_URL`` (application role) instead.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from gis.errors import DatabaseUnavailableError, PostGISMissingError

__all__ = ["LocalCluster", "DATABASE_NAME", "OWNER_ROLE", "APP_ROLE", "SUPERUSER"]

logger = logging.getLogger(__name__)

#: Name of the application database in the local cluster.
DATABASE_NAME = "gridgov"
#: The cluster's roles (see the module docstring).
SUPERUSER = "postgres"
OWNER_ROLE = "gridgov_owner"
APP_ROLE = "gridgov_app"
_ROLES = (SUPERUSER, OWNER_ROLE, APP_ROLE)
_PG_ROOT = Path("/usr/lib/postgresql")


def _postgis_versions() -> list[int]:
    """PostgreSQL major versions that have both server binaries and the PostGIS extension."""
    found = []
    if _PG_ROOT.is_dir():
        for child in _PG_ROOT.iterdir():
            if child.name.isdigit() and (child / "bin" / "postgres").exists():
                control = Path("/usr/share/postgresql") / child.name / "extension" / "postgis.control"
                if control.exists():
                    found.append(int(child.name))
    return sorted(found)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass(frozen=True)
class LocalCluster:
    """A PostgreSQL + PostGIS cluster living in ``root`` (normally ``var/pg``)."""

    root: Path
    preferred_port: int = 55432

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "postgresql.log"

    @property
    def port_file(self) -> Path:
        return self.root / "port"

    @property
    def secrets_file(self) -> Path:
        """The roles' passwords (JSON, mode 0600)."""
        return self.root / "secrets.json"

    # -- facts -------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    @property
    def port(self) -> int:
        if self.port_file.exists():
            return int(self.port_file.read_text().strip())
        return self.preferred_port

    def _secrets(self) -> dict[str, str]:
        import json

        try:
            return json.loads(self.secrets_file.read_text())
        except FileNotFoundError:
            raise DatabaseUnavailableError(
                f"the local cluster's passwords ({self.secrets_file}) are missing; run `gridgov db up` (or `make run`)", code="db.cluster_secrets"
            ) from None
        except PermissionError:
            raise DatabaseUnavailableError(
                f"{self.secrets_file} is readable only by the user who created the cluster (root on a server); "
                "run the command as that user, or log in with `gridgov login`", code="db.cluster_secrets"
            ) from None

    def _write_secrets(self, secrets: dict[str, str]) -> None:
        import json

        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.secrets_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(secrets, handle)
        os.chmod(self.secrets_file, 0o600)

    def url(self, database: str = DATABASE_NAME, *, role: str = "owner") -> str:
        """SQLAlchemy URL of ``database`` in this cluster (psycopg 3 driver) for ``role``:
        ``owner`` (gridgov_owner), ``app`` (gridgov_app) or ``superuser`` (postgres)."""
        from urllib.parse import quote

        user = {"owner": OWNER_ROLE, "app": APP_ROLE, "superuser": SUPERUSER}.get(role)
        if user is None:
            raise ValueError(f"role was {role!r} but is expected to be 'owner', 'app' or 'superuser'")
        password = self._secrets()[user]
        return f"postgresql+psycopg://{user}:{quote(password, safe='')}@127.0.0.1:{self.port}/{database}"

    def bin_dir(self) -> Path:
        versions = _postgis_versions()
        if self.initialized:
            wanted = int((self.data_dir / "PG_VERSION").read_text().strip())
            if wanted not in versions:
                raise PostGISMissingError(
                    f"the cluster in {self.data_dir} is PostgreSQL {wanted}, but "
                    f"postgresql-{wanted}-postgis-3 is not installed (found PostGIS for {versions or 'none'}); "
                    "run `make setup`", code="db.postgis_missing"
                )
            return _PG_ROOT / str(wanted) / "bin"
        if not versions:
            raise PostGISMissingError(
                "no PostgreSQL server with PostGIS is installed "
                "(expected /usr/lib/postgresql/N/bin/postgres and postgis.control); run `make setup` "
                "or `apt-get install postgresql postgresql-15-postgis-3`", code="db.postgis_missing"
            )
        return _PG_ROOT / str(versions[-1]) / "bin"

    # -- running commands as the cluster owner ------------------------------------------
    def _owner(self) -> str | None:
        """System user that runs the server: ``postgres`` when we are root, else ourselves."""
        return "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        owner = self._owner()
        cmd = (["runuser", "-u", owner, "--"] if owner else []) + list(args)
        logger.debug("running %s", " ".join(cmd))
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/")
        if check and proc.returncode != 0:
            raise DatabaseUnavailableError(
                f"{Path(args[0]).name} failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-800:]}"
                f" — see {self.log_file}", code="db.cluster_failed"
            )
        return proc

    def _grant_traversal(self) -> None:
        """Let the ``postgres`` user reach ``root``: add search (x) permission where missing.

        A checkout in ``mktemp -d`` (mode 0700) is otherwise unreachable for the server.
        Only the execute bit for "others" is added, never read or write.
        """
        if self._owner() is None:
            return
        for parent in reversed(self.root.resolve().parents):
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:
                logger.info("granting o+x on %s so the postgres user can reach %s", parent, self.root)
                parent.chmod(mode | stat.S_IXOTH)

    # -- lifecycle ---------------------------------------------------------------------
    def init(self) -> None:
        """Create the cluster (initdb) if it does not exist yet."""
        if self.initialized:
            return
        bin_dir = self.bin_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        self._grant_traversal()
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(mode=0o700)
        owner = self._owner()
        if owner:
            pw = pwd.getpwnam(owner)
            for path in (self.root, self.data_dir):
                os.chown(path, pw.pw_uid, pw.pw_gid)
        port = self.preferred_port
        while not _port_free(port):
            port += 1
        import secrets as random_source

        passwords = {role: random_source.token_urlsafe(24) for role in _ROLES}
        self._write_secrets(passwords)
        pwfile = self.root / ".pwfile"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(passwords[SUPERUSER] + "\n")
        if owner:
            os.chown(pwfile, pw.pw_uid, pw.pw_gid)
        try:
            self._run(
                str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER,
                "--auth-host=scram-sha-256", "--auth-local=scram-sha-256", f"--pwfile={pwfile}",
                "-E", "UTF8", "--locale=C.UTF-8",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        self._write_hba()
        settings = (
            f"\n# GridGov local cluster\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            "max_connections = 100\nshared_buffers = 256MB\nwork_mem = 32MB\n"
            "password_encryption = 'scram-sha-256'\nlog_file_mode = 0600\n"
        )
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write(settings)
        self.port_file.write_text(f"{port}\n")
        if owner:
            pw = pwd.getpwnam(owner)
            os.chown(self.port_file, pw.pw_uid, pw.pw_gid)
        logger.info("initialized PostGIS cluster in %s on port %d", self.data_dir, port)

    def _write_hba(self) -> None:
        """Password (scram-sha-256) authentication for TCP on loopback only; nothing else."""
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "# GridGov local cluster: passwords (scram-sha-256) on 127.0.0.1 only; no trust, no socket\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        owner = self._owner()
        if owner:
            pw = pwd.getpwnam(owner)
            os.chown(hba, pw.pw_uid, pw.pw_gid)
        hba.chmod(0o600)

    def _secure_log(self) -> None:
        """The server log is readable only by the user running the server."""
        owner = self._owner()
        if not self.log_file.exists():
            self.log_file.touch()
        if owner:
            pw = pwd.getpwnam(owner)
            os.chown(self.log_file, pw.pw_uid, pw.pw_gid)
        self.log_file.chmod(0o600)

    def _trusting(self) -> bool:
        hba = self.data_dir / "pg_hba.conf"
        rules = [line.split() for line in hba.read_text().splitlines() if line.strip() and not line.lstrip().startswith("#")]
        return any(rule and rule[-1] == "trust" for rule in rules) or not self.secrets_file.exists()

    def _secure_existing(self) -> None:
        """Upgrade a cluster made with ``trust`` authentication: passwords, roles, then scram only."""
        import psycopg
        import secrets as random_source

        passwords = {role: random_source.token_urlsafe(24) for role in _ROLES}
        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as conn:
            from psycopg import sql

            conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(SUPERUSER),
                                                                    sql.Literal(passwords[SUPERUSER])))
        self._write_secrets(passwords)
        self._ensure_roles()
        self._write_hba()
        self._run(str(self.bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "reload")
        logger.warning("secured the local cluster in %s: password authentication, roles %s and %s",
                       self.data_dir, OWNER_ROLE, APP_ROLE)

    def _ensure_roles(self) -> None:
        """Create (or reset the passwords of) the owner and application roles."""
        from psycopg import sql

        passwords = self._secrets()
        attributes = {
            OWNER_ROLE: "LOGIN CREATEDB BYPASSRLS NOSUPERUSER NOCREATEROLE",
            APP_ROLE: "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT",
        }
        with self._admin_connect() as conn:
            for role, attrs in attributes.items():
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
                verb = "ALTER" if exists else "CREATE"
                conn.execute(sql.SQL(f"{verb} ROLE {{}} {attrs} PASSWORD {{}}").format(
                    sql.Identifier(role), sql.Literal(passwords[role])))

    def running(self) -> bool:
        if not self.initialized:
            return False
        proc = self._run(str(self.bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "status", check=False)
        return proc.returncode == 0

    def start(self) -> None:
        """Initialize if needed, start the server, create the roles, the database and PostGIS."""
        fresh = not self.initialized
        self.init()
        if not self.running():
            self._secure_log()
            if not _port_free(self.port):
                raise DatabaseUnavailableError(
                    f"port {self.port} of the local cluster is taken by another program; stop it, or remove "
                    f"{self.port_file} and set GRIDGOV_PG_PORT to a free port", code="db.port_taken"
                )
            self._run(
                str(self.bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
                "-w", "-t", "60", "start",
            )
        if not fresh and self._trusting():
            self._secure_existing()
        else:
            self._ensure_roles()
        self._secure_log()
        self.create_database(DATABASE_NAME)

    def stop(self) -> None:
        if self.running():
            self._run(str(self.bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")

    def status(self) -> dict[str, object]:
        return {
            "data_dir": str(self.data_dir),
            "initialized": self.initialized,
            "running": self.running(),
            "port": self.port,
            "url": self.url().split("://", 1)[0] + "://" + OWNER_ROLE + ":***@127.0.0.1:" + str(self.port) + "/"
            + DATABASE_NAME,
        }

    # -- databases ---------------------------------------------------------------------
    def _admin_connect(self):  # noqa: ANN202 - psycopg connection
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                return psycopg.connect(
                    host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True,
                    password=self._secrets()[SUPERUSER],
                )
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise DatabaseUnavailableError(
                        f"cannot connect to the local cluster on 127.0.0.1:{self.port}: {exc}", code="db.unavailable"
                    ) from exc
                time.sleep(0.3)

    def create_database(self, name: str) -> None:
        """Create database ``name`` (owned by the owner role) with PostGIS if it does not exist.

        A database made by an earlier GridGov (owned by the superuser) is handed to the owner role,
        with every table, sequence and view in its ``public`` schema.
        """
        import psycopg
        from psycopg import sql

        with self._admin_connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(OWNER_ROLE)))
        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=name, autocommit=True,
                             password=self._secrets()[SUPERUSER]) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(name), sql.Identifier(OWNER_ROLE)))
            conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(OWNER_ROLE)))
            foreign = conn.execute(
                """
                SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S', 'v', 'm', 'p')
                  AND pg_get_userbyid(c.relowner) <> %s
                  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('e', 'a'))
                """,
                (OWNER_ROLE,),
            ).fetchall()
            for relname, relkind in foreign:
                kind = {"S": "SEQUENCE", "v": "VIEW", "m": "MATERIALIZED VIEW"}.get(relkind, "TABLE")
                conn.execute(sql.SQL(f"ALTER {kind} {{}} OWNER TO {{}}").format(sql.Identifier(relname), sql.Identifier(OWNER_ROLE)))

    def drop_database(self, name: str) -> None:
        from psycopg import sql

        with self._admin_connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

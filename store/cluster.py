"""The project-local PostGIS cluster under ``var/pg``.

PostgreSQL refuses to run as root, so when GridGov runs as root the cluster belongs to the
``postgres`` system user (``runuser -u postgres --``); as any other user it runs as that
user. The cluster listens on 127.0.0.1 only, on a port of its own (``GRIDGOV_PG_PORT``,
default 55432; if that port is taken when the cluster is first created, the next free one
is chosen and remembered in ``var/pg/port``). It has no Unix socket, so the path of the
checkout may be as long as it likes. Authentication is ``trust`` on loopback: this is a
developer/demo cluster; production deployments set ``DATABASE_URL``.
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

__all__ = ["LocalCluster", "DATABASE_NAME"]

logger = logging.getLogger(__name__)

#: Name of the application database in the local cluster.
DATABASE_NAME = "gridgov"
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

    # -- facts -------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    @property
    def port(self) -> int:
        if self.port_file.exists():
            return int(self.port_file.read_text().strip())
        return self.preferred_port

    def url(self, database: str = DATABASE_NAME) -> str:
        """SQLAlchemy URL of ``database`` in this cluster (psycopg 3 driver)."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def bin_dir(self) -> Path:
        versions = _postgis_versions()
        if self.initialized:
            wanted = int((self.data_dir / "PG_VERSION").read_text().strip())
            if wanted not in versions:
                raise PostGISMissingError(
                    f"the cluster in {self.data_dir} is PostgreSQL {wanted}, but "
                    f"postgresql-{wanted}-postgis-3 is not installed (found PostGIS for {versions or 'none'}); "
                    "run `make setup`"
                )
            return _PG_ROOT / str(wanted) / "bin"
        if not versions:
            raise PostGISMissingError(
                "no PostgreSQL server with PostGIS is installed "
                "(expected /usr/lib/postgresql/N/bin/postgres and postgis.control); run `make setup` "
                "or `apt-get install postgresql postgresql-15-postgis-3`"
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
                f" — see {self.log_file}"
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
        self._run(
            str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8",
        )
        settings = (
            f"\n# GridGov local cluster\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
            "unix_socket_directories = ''\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            "max_connections = 100\nshared_buffers = 256MB\nwork_mem = 32MB\n"
        )
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write(settings)
        self.port_file.write_text(f"{port}\n")
        if owner:
            pw = pwd.getpwnam(owner)
            os.chown(self.port_file, pw.pw_uid, pw.pw_gid)
        logger.info("initialized PostGIS cluster in %s on port %d", self.data_dir, port)

    def running(self) -> bool:
        if not self.initialized:
            return False
        proc = self._run(str(self.bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "status", check=False)
        return proc.returncode == 0

    def start(self) -> None:
        """Initialize if needed, start the server, create the database and PostGIS."""
        self.init()
        if not self.running():
            owner = self._owner()
            if owner and not self.log_file.exists():
                self.log_file.touch()
                pw = pwd.getpwnam(owner)
                os.chown(self.log_file, pw.pw_uid, pw.pw_gid)
            if not _port_free(self.port):
                raise DatabaseUnavailableError(
                    f"port {self.port} of the local cluster is taken by another program; stop it, or remove "
                    f"{self.port_file} and set GRIDGOV_PG_PORT to a free port"
                )
            self._run(
                str(self.bin_dir() / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file),
                "-w", "-t", "60", "start",
            )
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
            "url": self.url(),
        }

    # -- databases ---------------------------------------------------------------------
    def _admin_connect(self):  # noqa: ANN202 - psycopg connection
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                return psycopg.connect(
                    host="127.0.0.1", port=self.port, user="postgres", dbname="postgres", autocommit=True
                )
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise DatabaseUnavailableError(
                        f"cannot connect to the local cluster on 127.0.0.1:{self.port}: {exc}"
                    ) from exc
                time.sleep(0.3)

    def create_database(self, name: str) -> None:
        """Create database ``name`` with PostGIS if it does not exist."""
        from psycopg import sql

        with self._admin_connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=name, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def drop_database(self, name: str) -> None:
        from psycopg import sql

        with self._admin_connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

"""A real PostgreSQL server for the tests, the docs' examples and the database benchmark.

Debian's PostgreSQL (installed by ``dev.py`` with apt-get when missing): ``initdb --no-sync``
in a temporary directory owned by the ``postgres`` user (``initdb`` refuses root), then
``pg_ctl start -w`` on a free port of 127.0.0.1, with its socket in that directory. It makes
a login role and a database for the caller, and ``stop()`` (or the ``with`` block's end)
stops the server and removes the directory. About 3 s in all.

    with PostgresServer.start() as pg:
        pg.url            # 'postgresql://glacier@127.0.0.1:54321/glacier'
        pg.libpq_env()    # PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD

A missing PostgreSQL is a failure with the fix in its message, never a skip.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

#: The role and database the server is made with, and the role's password.
USER = "glacier"
DATABASE = "glacier"
PASSWORD = "glacier-test-password"
#: The operating-system user PostgreSQL runs as (initdb refuses root).
OS_USER = "postgres"


def _binary(name: str) -> str:
    """``initdb``/``pg_ctl``/``psql``: on PATH, else Debian's versioned directory."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if candidates:
        return candidates[-1]
    raise RuntimeError(
        f"PostgreSQL's {name} was not found on PATH or under /usr/lib/postgresql/*/bin. "
        "The database tests start a real server: install it with `python3 dev.py setup` "
        "(apt-get install postgresql) and run again."
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(*command: str, env: dict[str, str] | None = None) -> None:
    prefix: list[str] = []
    if os.geteuid() == 0:
        prefix = ["runuser", "-u", OS_USER, "--"]
    done = subprocess.run([*prefix, *command], capture_output=True, text=True, env=env, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:2])} failed (exit {done.returncode}):\n{done.stdout}\n"
            f"{done.stderr}"
        )


@dataclass
class PostgresServer:
    """A running PostgreSQL server in ``directory`` on ``127.0.0.1:port``."""

    directory: Path
    port: int
    host: str = "127.0.0.1"
    user: str = USER
    database: str = DATABASE
    password: str = PASSWORD

    @classmethod
    def start(cls) -> PostgresServer:
        """initdb, start, make the role and database; stops again if a step fails."""
        initdb, pg_ctl, psql = _binary("initdb"), _binary("pg_ctl"), _binary("psql")
        directory = Path(tempfile.mkdtemp(prefix="glacier-pg-"))
        if os.geteuid() == 0:
            shutil.chown(directory, user=OS_USER, group=OS_USER)
        server = cls(directory=directory, port=_free_port())
        data = directory / "data"
        try:
            # Over TCP a password is needed (what the tests of password settings rely on).
            _as_postgres(
                initdb, "--no-sync", "--auth-local=trust", "--auth-host=scram-sha-256",
                "-U", OS_USER, "-E", "UTF8", "-D", str(data),
            )  # fmt: skip
            # Local connections only; fsync off: the data is thrown away after the session.
            # No autovacuum: a vacuum started by one test's (or timing's) writes would run
            # during the next one.
            options = (
                f"-k {directory} -h {server.host} -p {server.port} -F -c fsync=off "
                "-c autovacuum=off"
            )
            _as_postgres(
                pg_ctl, "start", "-w", "-t", "60", "-D", str(data),
                "-l", str(directory / "server.log"), "-o", options,
            )  # fmt: skip
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        try:
            for sql in (
                f"CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'",
                f"CREATE DATABASE {DATABASE} OWNER {USER}",  # not in a transaction block
            ):
                _as_postgres(
                    psql, "-h", str(directory), "-p", str(server.port), "-U", OS_USER,
                    "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-q", "-c", sql,
                )  # fmt: skip
        except BaseException:
            server.stop()
            raise
        return server

    @property
    def url(self) -> str:
        """A libpq URL without the password (it comes from ``PGPASSWORD``)."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def url_with_password(self) -> str:
        """For drivers called directly (the benchmark's baseline, connectorx)."""
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def libpq_env(self) -> dict[str, str]:
        """libpq's own variables naming this server, its user, database and password."""
        return {
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGDATABASE": self.database,
            "PGPASSWORD": self.password,
        }

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its directory."""
        try:
            _as_postgres(
                _binary("pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.directory / "data")
            )
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

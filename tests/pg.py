"""A real PostgreSQL server for the tests and the benchmarks, started and stopped by them.

``initdb`` makes a cluster in a fresh temporary folder and ``pg_ctl`` starts it listening on
127.0.0.1 only (no Unix socket, no other address), on a free port, with trust authentication for
127.0.0.1 alone (the folder and the server live as long as the test session). Debian keeps the server
programs outside ``PATH`` (``/usr/lib/postgresql/<version>/bin``): :func:`find_bindir` looks there,
in ``$FEEDBOT_PG_BINDIR`` and on ``PATH``. ``tests/system-deps.sh`` installs Debian's ``postgresql``.

``initdb`` refuses to run as root, so as root the cluster belongs to an unprivileged account
(Debian's ``postgres``, or ``nobody``) and every server program runs as that account through
``runuser``; as anyone else it runs as the current user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

SERVER_PROGRAMS = ("initdb", "pg_ctl", "postgres")


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server programs cannot be found or started here (the message says why)."""


def find_bindir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None."""
    candidates: list[Path] = []
    if os.environ.get("FEEDBOT_PG_BINDIR"):
        candidates.append(Path(os.environ["FEEDBOT_PG_BINDIR"]))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: [int(x) for x in re.findall(r"\d+", p.parent.name)] or [0],
        reverse=True,
    )
    candidates.extend(versions)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).parent)
    for folder in candidates:
        if all((folder / name).is_file() for name in SERVER_PROGRAMS):
            return folder
    return None


def unavailable_reason() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    if find_bindir() is None:
        return (
            "PostgreSQL server programs (initdb, pg_ctl, postgres) not found in $FEEDBOT_PG_BINDIR, "
            "/usr/lib/postgresql/*/bin or PATH; `bash tests/system-deps.sh` installs Debian's "
            "postgresql package"
        )
    if os.geteuid() == 0 and _service_account() is None:
        return (
            "running as root and no unprivileged account (postgres or nobody) to run PostgreSQL as"
        )
    return None


def _service_account() -> pwd.struct_passwd | None:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One cluster in a temporary folder. ``durable=False`` (the tests) turns off fsync and
    synchronous commit, which only matter when the machine crashes; the benchmarks keep them on."""

    def __init__(
        self,
        *,
        durable: bool = False,
        max_connections: int = 200,
        settings: dict[str, str] | None = None,
    ) -> None:
        reason = unavailable_reason()
        if reason:
            raise PostgresUnavailable(reason)
        bindir = find_bindir()
        assert bindir is not None
        self.bindir = bindir
        self.durable = durable
        self.max_connections = max_connections
        self.extra_settings = dict(settings or {})  # more postgresql.conf lines (the benchmarks)
        self.port = 0
        self.user = "feedbot"
        self.folder = Path(tempfile.mkdtemp(prefix="feedbot-pg-"))
        self.data = self.folder / "data"
        self.logfile = self.folder / "server.log"
        self._account = _service_account() if os.geteuid() == 0 else None
        self._started = False

    # --- life cycle ----------------------------------------------------------------------------
    def start(self) -> PostgresServer:
        if self._account is not None:
            os.chown(self.folder, self._account.pw_uid, self._account.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        # trust for 127.0.0.1 only; nothing else may connect (listen_addresses is 127.0.0.1 too)
        (self.data / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "''",
            "max_connections": str(self.max_connections),
            "shared_buffers": "'128MB'",
            "fsync": "on" if self.durable else "off",
            "synchronous_commit": "on" if self.durable else "off",
            "full_page_writes": "on" if self.durable else "off",
            "log_min_messages": "warning",
            "logging_collector": "off",
            **self.extra_settings,
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n# feedbot tests\n")
            for key, value in settings.items():
                conf.write(f"{key} = {value}\n")
        for attempt in range(5):  # the free port can be taken between our check and the bind
            self.port = free_port()
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.logfile),
                    "-o",
                    f"-p {self.port}",
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
                self._started = True
                return self
            except PostgresUnavailable:
                if attempt == 4:
                    raise
                time.sleep(0.2)
        return self

    def stop(self) -> None:
        if self._started:
            with contextlib.suppress(PostgresUnavailable):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            self._started = False
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- databases -----------------------------------------------------------------------------
    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new, empty database; returns its URL."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --- helpers ---------------------------------------------------------------------------------
    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self._account is not None:
            command = ["runuser", "-u", self._account.pw_name, "--", *command]
        done = subprocess.run(
            command,
            cwd=self.folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise PostgresUnavailable(
                f"{program} failed (exit {done.returncode}): {done.stderr.strip() or done.stdout.strip()}"
                + (f"\n{self.log_tail()}" if program == "pg_ctl" else "")
            )


@contextlib.contextmanager
def postgres_server(
    *, durable: bool = False, max_connections: int = 200, settings: dict[str, str] | None = None
) -> Iterator[PostgresServer]:
    server = PostgresServer(durable=durable, max_connections=max_connections, settings=settings)
    try:
        server.start()
        yield server
    finally:
        server.stop()

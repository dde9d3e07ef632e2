"""An embedded PostgreSQL for development and tests, run from the system's server binaries.

The cluster lives in an ignored folder of the repository and listens on 127.0.0.1 only.
initdb refuses to run as root, so as root the server runs as the ``postgres`` user.
Each service gets its own login role and owns its own schema in one shared database.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg

SERVICE_SCHEMAS = ("profiles", "matcher", "gateway")


def find_pg_bin() -> Path:
    configured = os.environ.get("CONVENE_PG_BIN")
    if configured:
        return Path(configured)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name)
    )
    if not candidates:
        found = shutil.which("pg_ctl")
        if found:
            return Path(found).parent
        raise RuntimeError(
            "PostgreSQL server binaries not found: install them (apt-get install -y postgresql-15)"
        )
    return Path(candidates[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run_as_server_user() -> str | None:
    """The account that runs the server: ``postgres`` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise RuntimeError("running as root needs a 'postgres' system user") from exc
    return "postgres"


def _make_traversable(path: Path) -> None:
    """The server user must reach the data folder: add the search bit on root-owned parents."""
    for parent in [path, *path.parents]:
        try:
            mode = parent.stat().st_mode
        except FileNotFoundError:
            continue
        if parent.stat().st_uid == os.geteuid() and not mode & 0o001:
            parent.chmod(mode | 0o001)


@dataclass
class ServiceRole:
    schema: str
    role: str
    password: str


class EmbeddedPostgres:
    def __init__(self, base_dir: Path, *, port: int | None = None) -> None:
        self.base_dir = base_dir.resolve()
        self.data_dir = self.base_dir / "data"
        self.secrets_file = self.base_dir / "secrets.json"
        self.port = port or free_port()
        self.bin = find_pg_bin()
        self.user = _run_as_server_user()
        self.superuser = "postgres"

    # -- process control --------------------------------------------------------------
    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user is None:
            return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)
        # user= alone keeps root's group and supplementary groups: in a root-owned folder with
        # no group permissions (mktemp's 0700 plus the search bit) that group would be denied.
        return subprocess.run(
            command,
            check=check,
            capture_output=True,
            text=True,
            timeout=120,
            user=self.user,
            group=self.user,
            extra_groups=[],
        )

    def _secrets(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.secrets_file.read_text())
        return loaded

    @property
    def superuser_password(self) -> str:
        return str(self._secrets()["superuser_password"])

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists() and self.secrets_file.exists()

    def init(self) -> None:
        if self.initialised():
            return
        self.base_dir.mkdir(parents=True, exist_ok=True)
        _make_traversable(self.base_dir)
        if self.data_dir.exists():
            shutil.rmtree(self.data_dir)
        self.data_dir.mkdir(mode=0o700)
        password = secrets.token_urlsafe(24)
        pwfile = self.base_dir / "pwfile"
        pwfile.write_text(password)
        if self.user:
            shutil.chown(self.data_dir, self.user, self.user)
            shutil.chown(pwfile, self.user, self.user)
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                self.superuser,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        self.secrets_file.write_text(json.dumps({"superuser_password": password, "roles": {}}))
        self.secrets_file.chmod(0o600)

    def running(self) -> bool:
        result = self._run("pg_ctl", "status", "-D", str(self.data_dir), check=False)
        return result.returncode == 0

    def start(self, *, wait_seconds: float = 30) -> None:
        self.init()
        if self.running():
            self.stop()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories='{self.data_dir}' -c fsync=on "
            "-c max_connections=200 -c shared_buffers=128MB"
        )
        log_file = self.data_dir / "server.log"
        result = self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-o",
            options,
            "-l",
            str(log_file),
            "-w",
            "-t",
            str(int(wait_seconds)),
            check=False,
        )
        if result.returncode != 0:
            tail = log_file.read_text()[-2000:] if log_file.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{tail}")
        deadline = time.monotonic() + wait_seconds
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("PostgreSQL started but does not accept connections")

    def stop(self, *, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w", check=False)

    def kill(self) -> None:
        """Stops the server at once, as a crash would (no checkpoint)."""
        self.stop(mode="immediate")

    # -- connection strings -----------------------------------------------------------
    def dsn(self, database: str = "postgres", *, role: str | None = None) -> str:
        if role is None or role == self.superuser:
            user, password = self.superuser, self.superuser_password
        else:
            user, password = role, self.role_password(role)
        return (
            f"postgresql://{quote(user)}:{quote(password)}@127.0.0.1:{self.port}/{quote(database)}"
        )

    def role_password(self, role: str) -> str:
        data = self._secrets()
        roles: dict[str, str] = data.setdefault("roles", {})
        if role not in roles:
            roles[role] = secrets.token_urlsafe(18)
            self.secrets_file.write_text(json.dumps(data))
        return roles[role]

    # -- provisioning -----------------------------------------------------------------
    def service_role(self, schema: str) -> ServiceRole:
        role = f"convene_{schema}"
        return ServiceRole(schema=schema, role=role, password=self.role_password(role))

    async def provision(self, database: str, schemas: tuple[str, ...] = SERVICE_SCHEMAS) -> None:
        """Creates the database, one login role per service and a schema each role owns."""
        admin = await asyncpg.connect(self.dsn("postgres"))
        try:
            exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
            if not exists:
                await admin.execute(f'CREATE DATABASE "{database}"')
            for schema in schemas:
                service = self.service_role(schema)
                has_role = await admin.fetchval(
                    "SELECT 1 FROM pg_roles WHERE rolname = $1", service.role
                )
                verb = "ALTER" if has_role else "CREATE"
                await admin.execute(
                    f"{verb} ROLE \"{service.role}\" LOGIN PASSWORD '{service.password}'"
                )
        finally:
            await admin.close()
        connection = await asyncpg.connect(self.dsn(database))
        try:
            for schema in schemas:
                service = self.service_role(schema)
                await connection.execute(
                    f'CREATE SCHEMA IF NOT EXISTS "{schema}" AUTHORIZATION "{service.role}"'
                )
                await connection.execute(f'REVOKE ALL ON SCHEMA "{schema}" FROM PUBLIC')
                await connection.execute(
                    f'GRANT CONNECT ON DATABASE "{database}" TO "{service.role}"'
                )
        finally:
            await connection.close()

    async def create_database_from_template(self, database: str, template: str) -> None:
        admin = await asyncpg.connect(self.dsn("postgres"))
        try:
            await admin.execute(f'CREATE DATABASE "{database}" TEMPLATE "{template}"')
        finally:
            await admin.close()

    async def drop_database(self, database: str) -> None:
        admin = await asyncpg.connect(self.dsn("postgres"))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        finally:
            await admin.close()


def run_async(coroutine: Any) -> Any:
    return asyncio.run(coroutine)

"""Starts Convene's services as real processes on loopback: used by `make run` and e2e tests.

Not part of any service: it launches them by module name, exactly as a deployment would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from convene_common.embedded_pg import SERVICE_SCHEMAS, EmbeddedPostgres
from convene_common.migrations import migrate

REPO_ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("profiles", "matcher", "gateway")


def migrations_dir(schema: str) -> Path:
    return REPO_ROOT / "services" / schema / "migrations"


async def prepare_database(cluster: EmbeddedPostgres, database: str) -> None:
    """Creates the database, roles and schemas, then applies every service's migrations."""
    await cluster.provision(database)
    for schema in SERVICE_SCHEMAS:
        await migrate(
            cluster.dsn(database, role=f"convene_{schema}"),
            schema=schema,
            directory=migrations_dir(schema),
        )


@dataclass
class ServiceProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float = field(default_factory=time.monotonic)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Suite:
    """The three services as processes, sharing one database and one internal token."""

    cluster: EmbeddedPostgres
    database: str
    ports: Mapping[str, int]
    run_dir: Path
    internal_token: str
    jwt_secret: str
    environment: str = "development"
    extra_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    # How to start each managed process again (the supervisor's restarts).
    launchers: dict[str, Callable[[], ServiceProcess]] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def service_env(self, name: str) -> dict[str, str]:
        prefix = f"CONVENE_{name.upper()}_"
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            prefix + "ENVIRONMENT": self.environment,
            prefix + "HOST": "127.0.0.1",
            prefix + "PORT": str(self.ports[name]),
            prefix + "DATABASE_URL": self.cluster.dsn(self.database, role=f"convene_{name}"),
            prefix + "DATABASE_SCHEMA": name,
            prefix + "INTERNAL_TOKEN": self.internal_token,
        }
        if name == "matcher":
            env[prefix + "PROFILES_URL"] = self.url("profiles")
            env[prefix + "INDEX_DIR"] = str(self.run_dir / "matcher-index")
            # One ONNX export for every run and test session (made by the first that needs it).
            env.setdefault(prefix + "ONNX_DIR", str(REPO_ROOT / ".run" / "onnx"))
        if name == "gateway":
            env[prefix + "PROFILES_URL"] = self.url("profiles")
            env[prefix + "MATCHER_URL"] = self.url("matcher")
            env[prefix + "JWT_SECRET"] = self.jwt_secret
        env.update(self.extra_env.get(name, {}))
        return env

    def start(self, name: str) -> ServiceProcess:
        log_path = self.run_dir / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "uvicorn", "--factory", f"convene_{name}.main:app_from_env",
            "--host", "127.0.0.1", "--port", str(self.ports[name]),
            "--no-access-log", "--timeout-graceful-shutdown", "5",
        ]  # fmt: skip
        # The child keeps its own descriptor; ours is closed as soon as it has started.
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(
                command,
                env=self.service_env(name),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                start_new_session=True,
            )
        service = ServiceProcess(
            name=name, port=self.ports[name], process=process, log_path=log_path
        )
        self.processes[name] = service
        self.launchers[name] = lambda: self.start(name)
        return service

    def start_process(
        self, name: str, command: list[str], *, env: Mapping[str, str], port: int = 0
    ) -> ServiceProcess:
        """Any other managed process (the notification worker, a mail sink), logged alike."""
        log_path = self.run_dir / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log_file:
            process = subprocess.Popen(
                command,
                env=dict(env),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                start_new_session=True,
            )
        service = ServiceProcess(name=name, port=port, process=process, log_path=log_path)
        self.processes[name] = service
        self.launchers[name] = lambda: self.start_process(name, command, env=env, port=port)
        return service

    def restart(self, name: str) -> ServiceProcess:
        """Starts ``name`` again as it was first started (same command, port and env)."""
        return self.launchers[name]()

    def start_notification_worker(self, *, smtp_port: int) -> ServiceProcess:
        """The 4th (optional) process: sends the matcher's notification outbox."""
        env = {**self.service_env("matcher"), "CONVENE_MATCHER_SMTP_PORT": str(smtp_port)}
        command = [sys.executable, "-m", "convene_matcher.notifications.worker"]
        return self.start_process("notifications", command, env=env)

    def start_web(self, *, port: int) -> ServiceProcess:
        """The web pages (services/web): a client of the gateway's public API only."""
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "CONVENE_WEB_ENVIRONMENT": self.environment,
            "CONVENE_WEB_HOST": "127.0.0.1",
            "CONVENE_WEB_PORT": str(port),
            "CONVENE_WEB_GATEWAY_URL": self.url("gateway"),
            **self.extra_env.get("web", {}),
        }
        command = [
            sys.executable, "-m", "uvicorn", "--factory", "convene_web.main:app_from_env",
            "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--timeout-graceful-shutdown", "5",
        ]  # fmt: skip
        return self.start_process("web", command, env=env, port=port)

    def start_all(self) -> None:
        for name in SERVICES:
            self.start(name)

    def wait_ready(self, name: str, *, timeout: float = 120) -> None:
        service = self.processes[name]
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if service.process.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {service.process.returncode}; see {service.log_path}:\n"
                    + service.log_path.read_text()[-3000:]
                )
            try:
                response = httpx.get(f"{service.url}/readyz", timeout=2)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = type(exc).__name__
            time.sleep(0.25)
        raise TimeoutError(f"{name} not ready after {timeout}s: {last}")

    def wait_all_ready(self, *, timeout: float = 180) -> None:
        for name in SERVICES:
            self.wait_ready(name, timeout=timeout)

    def stop(self, name: str, *, kill: bool = False, timeout: float = 15) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds (a matcher of 100,000 citizens
        needs about 30 s to save its snapshot on the way out)."""
        service = self.processes.pop(name, None)
        if service is None or service.process.poll() is not None:
            return
        service.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            service.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait(timeout=5)

    def stop_all(self) -> None:
        for extra in [name for name in self.processes if name not in SERVICES]:
            self.stop(extra)
        for name in reversed(SERVICES):
            self.stop(name)


@dataclass
class _Restarts:
    consecutive: int = 0
    due_at: float | None = None


@dataclass
class Supervisor:
    """Restarts any managed process that exits, with exponential backoff, while the others
    keep serving; `make run` polls ``check()`` until Ctrl-C. A process that stayed up for
    ``stable_seconds`` starts again from the shortest delay."""

    suite: Suite
    log: Callable[[str], None]
    initial_backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0
    stable_seconds: float = 60.0
    clock: Callable[[], float] = time.monotonic
    restarts: dict[str, _Restarts] = field(default_factory=dict)
    restart_counts: dict[str, int] = field(default_factory=dict)

    def check(self) -> None:
        now = self.clock()
        for name, service in list(self.suite.processes.items()):
            state = self.restarts.setdefault(name, _Restarts())
            code = service.process.poll()
            if code is None:
                if state.consecutive and now - service.started_at >= self.stable_seconds:
                    state.consecutive = 0
                continue
            if state.due_at is None:
                if now - service.started_at >= self.stable_seconds:
                    state.consecutive = 0
                delay = min(
                    self.max_backoff_seconds,
                    self.initial_backoff_seconds * 2**state.consecutive,
                )
                state.due_at = now + delay
                self.log(
                    f"{name} exited ({_describe_exit(code)}); restarting in {delay:.1f}s "
                    f"(restart {state.consecutive + 1} in a row; log {service.log_path})"
                )
            if now >= state.due_at:
                state.due_at = None
                state.consecutive += 1
                self.restart_counts[name] = self.restart_counts.get(name, 0) + 1
                restarted = self.suite.restart(name)
                self.log(f"{name} restarted (pid {restarted.process.pid})")

    def run(self, should_stop: Callable[[], bool], *, interval: float = 0.5) -> None:
        while not should_stop():
            self.check()
            time.sleep(interval)


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def run_module(module: str, *args: str, env: Mapping[str, str] | None = None) -> str:
    """Runs `python -m module args` and returns its standard output; fails loudly."""
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, **(env or {})},
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{module} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(data, indent=2) + "\n")
    temporary.chmod(0o600)
    temporary.replace(path)

"""`make run`: embedded PostgreSQL, migrations, demo data, the services, the web pages at
http://127.0.0.1:8080, demo credentials.

Supervised: a service (or the worker, or the mail sink) that crashes is restarted with
backoff, and logged, while the others keep serving. Only Ctrl-C (or SIGTERM) stops
everything, cleanly. Ports: web 8080, gateway 8000, profiles 8001, matcher 8002 and
PostgreSQL 54329, all on 127.0.0.1; override with CONVENE_WEB_PORT, CONVENE_GATEWAY_PORT,
CONVENE_PROFILES_PORT, CONVENE_MATCHER_PORT, CONVENE_PG_PORT. Demo size: CONVENE_DEMO_CITIZENS
(default 2000).
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import hashlib
import hmac
import json
import os
import re
import secrets
import signal
import struct
import sys
import time
from pathlib import Path
from types import FrameType

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from convene_common.embedded_pg import EmbeddedPostgres
from scripts.suite import REPO_ROOT, Suite, Supervisor, prepare_database, run_module, write_json

RUN_DIR = REPO_ROOT / ".run"
DATABASE = "convene"
DEMO_ADMIN_EMAIL = "admin@demo.convene.example"
DEMO_ORGANISATION = "Demo City Council"
DEMO_CITIZEN_EMAIL = "demo.citizen@demo.convene.example"
DEMO_MANAGER_EMAIL = "manager@demo-council.convene.example"
DEMO_OFFICER_EMAIL = "officer@demo-council.convene.example"


def _port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _persistent_secret(name: str) -> str:
    """Dev secrets live in .run/ so tokens survive a restart of `make run`."""
    path = RUN_DIR / "secrets" / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _base32_secret(name: str) -> str:
    """A persistent TOTP secret (base32, 160 bits) for the demo admin."""
    raw = hashlib.sha256(_persistent_secret(name).encode()).digest()[:20]
    return base64.b32encode(raw).decode()


def totp_now(secret: str) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits), what an authenticator app shows now."""
    counter = struct.pack(">Q", int(time.time()) // 30)
    digest = hmac.new(base64.b32decode(secret), counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def verify_from_mail(client: httpx.Client, mail_dir: Path, address: str) -> bool:
    """Follows the verification link of the newest email to `address` in the sink (waits
    for the worker to send it), as the citizen would."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for path in sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if str(message["To"]).lower() != address.lower():
                continue
            body = message.get_body(preferencelist=("plain",))
            found = re.search(
                r"/verify-email\?token=([A-Za-z0-9_\-%]+)", body.get_content() if body else ""
            )
            if found:
                verified = client.post("/v1/auth/verify-email", json={"token": found.group(1)})
                return verified.status_code == 204
        time.sleep(0.5)
    return False


def _log(message: str) -> None:
    print(f"[make run] {message}", flush=True)  # noqa: T201


# The demo citizen is the bike-lane call's expert (README: Invitations): a cyclist in central
# Manchester who designs cycle infrastructure and audits junction safety.
DEMO_CITIZEN_SKILLS = (
    {"label": "cycling infrastructure design", "level": "can_do"},
    {"label": "traffic engineering", "level": "can_do"},
    {"label": "urban planning", "level": "can_explain"},
    {"label": "road safety audits", "level": "can_explain"},
)


def ensure_demo_citizen(gateway_url: str, password: str, mail_dir: Path) -> None:
    """Registers the demo citizen through the public API (once), follows the emailed
    verification link and fills in their profile; skills added to DEMO_CITIZEN_SKILLS since
    an earlier `make run` are added too."""
    with httpx.Client(base_url=gateway_url, timeout=30) as client:
        login = client.post(
            "/v1/auth/token", data={"username": DEMO_CITIZEN_EMAIL, "password": password}
        )
        if login.status_code != 200:
            created = client.post(
                "/v1/citizens",
                json={"email": DEMO_CITIZEN_EMAIL, "password": password, "display_name": "Dee Mo"},
            )
            created.raise_for_status()
            if not verify_from_mail(client, mail_dir, DEMO_CITIZEN_EMAIL):
                _log("the demo citizen's verification email did not arrive; not verified")
            login = client.post(
                "/v1/auth/token", data={"username": DEMO_CITIZEN_EMAIL, "password": password}
            )
            login.raise_for_status()
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            client.patch(
                "/v1/me",
                headers=headers,
                json={
                    "place": {"authority_code": "E08000003", "lat": 53.4794, "lon": -2.2453},
                    "languages": ["en"],
                    "consent": {"matching": True, "contact": True},
                    "availability": {"max_invitations_per_month": 4, "hours_per_month": 6},
                },
            ).raise_for_status()
            client.post(
                "/v1/me/roles", headers=headers, json={"role": "cyclist"}
            ).raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        listed = client.get("/v1/me/skills", headers=headers, params={"limit": 100})
        listed.raise_for_status()
        held = {str(item["label"]).casefold() for item in listed.json()["items"]}
        for skill in DEMO_CITIZEN_SKILLS:
            if skill["label"].casefold() not in held:
                client.post("/v1/me/skills", headers=headers, json=skill).raise_for_status()


def main() -> int:
    started = time.monotonic()
    RUN_DIR.mkdir(exist_ok=True)
    ports = {
        "gateway": _port("CONVENE_GATEWAY_PORT", 8000),
        "profiles": _port("CONVENE_PROFILES_PORT", 8001),
        "matcher": _port("CONVENE_MATCHER_PORT", 8002),
    }
    web_port = _port("CONVENE_WEB_PORT", 8080)
    web_url = f"http://127.0.0.1:{web_port}"
    _log(f"Convene will be at {web_url} (start there) once everything below is ready")
    cluster = EmbeddedPostgres(RUN_DIR / "pg", port=_port("CONVENE_PG_PORT", 54329))
    _log(f"starting PostgreSQL on 127.0.0.1:{cluster.port} (data in {cluster.data_dir})")
    cluster.start()
    suite = Suite(
        cluster=cluster,
        database=DATABASE,
        ports=ports,
        run_dir=RUN_DIR,
        internal_token=_persistent_secret("internal-token"),
        jwt_secret=_persistent_secret("jwt-secret"),
        # Emails link to the pages: accounts' (/verify-email, /reset-password) from the
        # gateway, invitations' (/invitations/{id}) from the notification worker.
        extra_env={
            "gateway": {"CONVENE_GATEWAY_WEB_BASE_URL": web_url},
            "matcher": {"CONVENE_MATCHER_PUBLIC_URL": web_url},
        },
    )
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        asyncio.run(prepare_database(cluster, DATABASE))
        _log("migrations applied")
        demo_count = os.environ.get("CONVENE_DEMO_CITIZENS", "2000")
        output = run_module(
            "scripts.demo.citizens",
            "--dsn", cluster.dsn(DATABASE, role="convene_profiles"),
            "--count", demo_count, "--seed", "7", "--if-empty",
        )  # fmt: skip
        _log(output.strip() or "demo data present")
        admin_password = _persistent_secret("admin-password")
        admin_totp_secret = _base32_secret("admin-totp")
        manager_password = _persistent_secret("manager-password")
        officer_password = _persistent_secret("officer-password")
        bootstrap = json.loads(
            run_module(
                "convene_gateway.bootstrap",
                "--dsn", cluster.dsn(DATABASE, role="convene_gateway"),
                "--admin-email", DEMO_ADMIN_EMAIL, "--admin-password", admin_password,
                "--admin-totp-secret", admin_totp_secret,
                "--organisation", DEMO_ORGANISATION, "--print-api-key",
                "--member", f"{DEMO_MANAGER_EMAIL}:{manager_password}:manager",
                "--member", f"{DEMO_OFFICER_EMAIL}:{officer_password}:officer",
            )
        )  # fmt: skip
        smtp_port = _port("CONVENE_SMTP_PORT", 1025)
        mail_dir = RUN_DIR / "mail"
        suite.start_process(
            "mail-sink",
            [
                sys.executable,
                "scripts/mail_sink.py",
                "--port",
                str(smtp_port),
                "--dir",
                str(mail_dir),
            ],
            env=os.environ,
            port=smtp_port,
        )
        suite.start_all()
        suite.start_web(port=web_port)
        suite.wait_all_ready(timeout=180)
        suite.wait_ready("web", timeout=60)
        suite.start_notification_worker(smtp_port=smtp_port)
        citizen_password = _persistent_secret("citizen-password")
        ensure_demo_citizen(suite.url("gateway"), citizen_password, mail_dir)
        # Simulated invitation answers and ratings (once) so admins can evaluate matching
        # configurations against history out of the box; waits until the demo is indexed.
        history = run_module(
            "scripts.demo.history",
            "--dsn", cluster.dsn(DATABASE, role="convene_matcher"),
            "--matcher-url", suite.url("matcher"), "--profiles-url", suite.url("profiles"),
            "--seed", "11", "--if-empty",
            env={"CONVENE_MATCHER_INTERNAL_TOKEN": suite.internal_token},
        )  # fmt: skip
        _log(f"demo history: {history.strip()}")
        with httpx.Client(base_url=suite.url("gateway"), timeout=30) as client:
            admin_token = client.post(
                "/v1/auth/token",
                data={
                    "username": DEMO_ADMIN_EMAIL,
                    "password": admin_password,
                    "totp": totp_now(admin_totp_secret),
                },
            )
            admin_token.raise_for_status()
        credentials = {
            "web_url": web_url,
            "gateway_url": suite.url("gateway"),
            "api_key": bootstrap["api_key"],
            "organisation_id": bootstrap["organisation_id"],
            "admin_email": DEMO_ADMIN_EMAIL,
            "admin_password": admin_password,
            "admin_token": admin_token.json()["access_token"],
            "admin_totp_secret": admin_totp_secret,
            "manager_email": DEMO_MANAGER_EMAIL,
            "manager_password": manager_password,
            "officer_email": DEMO_OFFICER_EMAIL,
            "officer_password": officer_password,
            "citizen_email": DEMO_CITIZEN_EMAIL,
            "citizen_password": citizen_password,
        }
        write_json(RUN_DIR / "demo-credentials.json", credentials)
        elapsed = time.monotonic() - started
        _log(f"ready in {elapsed:.1f}s")
        print(  # noqa: T201
            f"""
  Convene   {web_url}   <- start here: the pages for citizens, staff and admins
  gateway   {suite.url("gateway")}   (OpenAPI: {suite.url("gateway")}/docs)
  profiles  {suite.url("profiles")}   (internal)
  matcher   {suite.url("matcher")}   (internal)
  logs      {RUN_DIR / "logs"}/
  mail      {RUN_DIR / "mail"}/*.eml   (local SMTP sink on 127.0.0.1:{smtp_port})
  demo credentials (also in .run/demo-credentials.json):
    public body API key   {credentials["api_key"]}
    admin                 {DEMO_ADMIN_EMAIL} / {admin_password} (TOTP secret {admin_totp_secret})
    council manager       {DEMO_MANAGER_EMAIL} / {manager_password}
    council officer       {DEMO_OFFICER_EMAIL} / {officer_password}
    citizen               {DEMO_CITIZEN_EMAIL} / {citizen_password}
  metrics   {suite.url("matcher")}/metrics (and /metrics on each service)
  A crashed process is restarted (with backoff; logged here). Ctrl-C stops everything.
""",
            flush=True,
        )
        Supervisor(suite, log=_log).run(lambda: stopping)
    finally:
        _log("stopping services")
        suite.stop_all()
        cluster.stop()
        (RUN_DIR / "demo-credentials.json").unlink(missing_ok=True)
        _log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The deploy files are validated by `make test` too: deploy/lint.sh plus a few static rules.

Everything here is offline and needs no Docker engine or cluster.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
# Services with a database (and a one-shot migration job) and their ports.
SERVICES = {"gateway": 8000, "profiles": 8001, "matcher": 8002}
# Every HTTP service built from the one Dockerfile, with its port.
HTTP_SERVICES = {**SERVICES, "web": 8080}
WORKER = "notification-worker"
ONE_SHOT_PREFIX = "migrate-"
# What publishes a port, and on which address: the API and the pages on CONVENE_BIND
# (loopback by default), the development mail catcher's UI on loopback only.
PUBLISHED = {
    "gateway": ["${CONVENE_BIND:-127.0.0.1}:8000-8001:8000"],  # one port per replica
    "web": ["${CONVENE_BIND:-127.0.0.1}:8080:8080"],
    "mailpit": ["127.0.0.1:8025:8025"],
}
NETWORKS = {
    "gateway": ["backend", "edge"],
    WORKER: ["backend", "edge"],  # SMTP relays and webhook receivers are outside
    "web": ["edge"],  # reaches the gateway only, never the database or internal services
    "mailpit": ["edge"],
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    return loaded


def test_deploy_lint_passes() -> None:
    result = subprocess.run(
        ["bash", str(REPO_ROOT / "deploy" / "lint.sh")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"deploy/lint.sh failed:\n{result.stdout}\n{result.stderr}"
    assert "deploy lint: ok" in result.stdout


def test_only_the_api_the_pages_and_the_mail_ui_publish_ports(compose: dict[str, Any]) -> None:
    published = {
        name: service["ports"]
        for name, service in compose["services"].items()
        if "ports" in service
    }
    assert published == PUBLISHED


def test_every_process_of_the_suite_runs(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {*HTTP_SERVICES, WORKER, "mailpit", "postgres"} <= set(services)
    worker = services[WORKER]
    assert worker["command"] == ["python", "-m", "convene_matcher.notifications.worker"]
    assert worker["image"] == services["matcher"]["image"]
    environment = worker["environment"]
    assert environment["CONVENE_MATCHER_SMTP_HOST"] == "${CONVENE_SMTP_HOST:-mailpit}"
    assert environment["CONVENE_MATCHER_SMTP_PORT"] == "${CONVENE_SMTP_PORT:-1025}"
    assert environment["CONVENE_MATCHER_PROFILES_URL"] == "http://profiles:8001"
    assert worker["depends_on"]["mailpit"] == {"condition": "service_healthy"}
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")
    web = services["web"]["environment"]
    assert web["CONVENE_WEB_GATEWAY_URL"] == "http://gateway:8000"
    assert web["CONVENE_WEB_PORT"] == "8080"


def test_two_matchers_and_two_gateways_and_the_gateway_knows_both_matchers(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert compose["name"] == "convene"  # container names below: convene-<service>-<n>
    matchers = services["matcher"]["deploy"]["replicas"]
    assert matchers == 2
    assert services["gateway"]["deploy"]["replicas"] == 2
    urls = services["gateway"]["environment"]["CONVENE_GATEWAY_MATCHER_URL"].split(",")
    assert urls == [f"http://convene-matcher-{n}:8002" for n in range(1, matchers + 1)]
    matcher = services["matcher"]
    # Each replica its own index copy: an anonymous volume (a named one would be shared).
    index_dir = matcher["environment"]["CONVENE_MATCHER_INDEX_DIR"]
    assert matcher["volumes"] == [index_dir]
    assert int(matcher["environment"]["CONVENE_MATCHER_READY_MAX_FEED_LAG"]) >= 0
    # The web is one process (its sessions are in memory).
    assert "deploy" not in services["web"]


def test_the_worker_mails_the_compose_mail_catcher_with_links_to_the_pages(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    worker = services[WORKER]["environment"]

    def default(value: str) -> str:
        match = re.fullmatch(r"\$\{[A-Z0-9_]+:-(.*)\}", value)
        assert match, value
        return match.group(1)

    # SMTP: Mailpit's service name on a network both share, at Mailpit's SMTP port, plain.
    host, port = (
        default(worker["CONVENE_MATCHER_SMTP_HOST"]),
        default(worker["CONVENE_MATCHER_SMTP_PORT"]),
    )
    assert host in services
    assert services[host]["image"].startswith("axllent/mailpit:")
    assert set(services[host]["networks"]) & set(services[WORKER]["networks"])
    assert port == "1025"  # Mailpit's SMTP port (its UI is 8025)
    assert default(worker["CONVENE_MATCHER_SMTP_START_TLS"]) == "false"
    # Links in emails: the web pages' published address and port (the worker's links are
    # /invitations/{id}, a page of services/web).
    public_url = default(worker["CONVENE_MATCHER_PUBLIC_URL"])
    [published] = services["web"]["ports"]
    bind, host_port, container_port = published.rsplit(":", 2)
    assert container_port == services["web"]["environment"]["CONVENE_WEB_PORT"]
    assert public_url == f"http://{default(bind)}:{host_port}"
    # The gateway's account emails link to the same pages.
    gateway = services["gateway"]["environment"]
    assert default(gateway["CONVENE_GATEWAY_WEB_BASE_URL"]) == public_url
    assert gateway["CONVENE_GATEWAY_WEB_BASE_URL"] == worker["CONVENE_MATCHER_PUBLIC_URL"]


def test_every_image_is_built_from_the_one_dockerfile(compose: dict[str, Any]) -> None:
    assert not list((REPO_ROOT / "services").glob("*/Dockerfile")), "per-service Dockerfile"
    built = {}
    for name, service in compose["services"].items():
        if "build" in service:
            build = service["build"]
            assert build["context"] == ".", name
            assert build["dockerfile"] == "Dockerfile", name
            built[name] = build["args"]
    for name, port in HTTP_SERVICES.items():
        assert built[name] == {"SERVICE": name, "PORT": str(port)}, name
        assert compose["services"][name]["image"] == f"convene/{name}:${{CONVENE_TAG:-dev}}"
    for name in SERVICES:
        assert built[f"{ONE_SHOT_PREFIX}{name}"] == built[name]
    # Every service folder that has a package is built (web included once it lands).
    for folder in sorted((REPO_ROOT / "services").iterdir()):
        if (folder / "pyproject.toml").is_file():
            assert folder.name in built, f"services/{folder.name} is not built by compose"


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        healthcheck = service.get("healthcheck")
        assert healthcheck, f"{name} has no healthcheck"
        if name.startswith(ONE_SHOT_PREFIX):
            # One-shot jobs exit; depends_on waits for service_completed_successfully.
            assert healthcheck == {"disable": True}, name
            assert service.get("restart") == "no", name
        else:
            assert healthcheck.get("test"), f"{name} healthcheck has no test"
    for name, port in HTTP_SERVICES.items():
        test = " ".join(compose["services"][name]["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/readyz" in test, name


def test_depends_on_uses_conditions(compose: dict[str, Any]) -> None:
    allowed = {"service_healthy", "service_completed_successfully"}
    for name, service in compose["services"].items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on is a bare list"
        for dependency, rule in depends_on.items():
            assert rule.get("condition") in allowed, f"{name} -> {dependency}"
            expected = (
                "service_completed_successfully"
                if dependency.startswith(ONE_SHOT_PREFIX)
                else "service_healthy"
            )
            assert rule["condition"] == expected, f"{name} -> {dependency}"
    for name in SERVICES:
        depends_on = compose["services"][name]["depends_on"]
        assert depends_on[f"{ONE_SHOT_PREFIX}{name}"]["condition"] == (
            "service_completed_successfully"
        )
        assert depends_on["postgres"]["condition"] == "service_healthy"


def test_the_web_waits_for_the_gateway_only(compose: dict[str, Any]) -> None:
    assert compose["services"]["web"]["depends_on"] == {"gateway": {"condition": "service_healthy"}}


def test_no_secret_values_in_compose(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|TOKEN|SALT|DATABASE_URL", variable):
                assert re.search(r"\$\{[A-Z0-9_]+:\?", str(value)), (
                    f"{name}.{variable} must come from a required environment variable"
                )


def test_services_share_only_an_internal_network(compose: dict[str, Any]) -> None:
    assert compose["networks"]["backend"].get("internal") is True
    for name, service in compose["services"].items():
        assert service["networks"] == NETWORKS.get(name, ["backend"]), name


def test_the_dockerfile_runs_one_worker_as_non_root() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)
    final_stage = stages[-1]
    assert re.search(r"^ARG SERVICE$", final_stage, flags=re.MULTILINE)
    assert re.search(r"^ARG PORT$", final_stage, flags=re.MULTILINE)
    users = re.findall(r"^USER\s+(\S+)", final_stage, flags=re.MULTILINE)
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user.isdigit(), f"USER {user} is not numeric"
    assert user != "0", "runs as root"
    assert re.search(r"^EXPOSE \$\{PORT\}$", final_stage, flags=re.MULTILINE)
    assert "CONVENE_SERVICE=${SERVICE}" in final_stage
    assert "CONVENE_PORT=${PORT}" in final_stage
    assert re.search(
        r"HEALTHCHECK .*\n?.*'http://127\.0\.0\.1:' \+ os\.environ\['CONVENE_PORT'\] \+ '/livez'",
        final_stage,
    )
    assert "convene_${CONVENE_SERVICE}.main:app_from_env" in final_stage
    assert "--workers 1" in final_stage
    # Every service and port the compose file builds is one the Dockerfile accepts.
    for name, port in HTTP_SERVICES.items():
        assert f"{name}:{port}" in dockerfile, name
    # torch only from the CPU index, exactly pinned.
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in dockerfile


def _check_k8s() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("check_k8s", REPO_ROOT / "deploy/check_k8s.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_k8s_replica_rules_hold_and_catch_each_mistake() -> None:
    check_k8s = _check_k8s()
    for overlay in ("staging", "production"):
        docs = check_k8s.render(REPO_ROOT / "deploy/k8s/overlays" / overlay)
        assert check_k8s.check_rules(docs, overlay=True) == [], overlay

    def problems_after(change: Any) -> list[str]:
        docs = check_k8s.render(REPO_ROOT / "deploy/k8s/overlays/staging")
        for doc in docs:
            change(doc)
        found: list[str] = check_k8s.check_rules(docs, overlay=True)
        return found

    def one_matcher(doc: dict[str, Any]) -> None:
        if doc["kind"] == "HorizontalPodAutoscaler" and doc["metadata"]["name"] == "matcher":
            doc["spec"]["minReplicas"] = 1

    def config(key: str, value: str | None) -> Any:
        def change(doc: dict[str, Any]) -> None:
            if doc["kind"] == "ConfigMap":
                if value is None:
                    doc["data"].pop(key)
                else:
                    doc["data"][key] = value

        return change

    assert problems_after(one_matcher) == ["HorizontalPodAutoscaler/matcher: minReplicas under 2"]
    [wrong_url] = problems_after(config("MATCHER_URL", "http://matcher-0.matcher:8002"))
    assert "CONVENE_GATEWAY_MATCHER_URL" in wrong_url
    assert problems_after(config("MATCHER_READY_MAX_FEED_LAG", None)) == [
        "Deployment/matcher: CONVENE_MATCHER_READY_MAX_FEED_LAG is not set"
    ]
    assert problems_after(config("SMTP_HOST", None)) == [
        "Deployment/notification-worker: CONVENE_MATCHER_SMTP_HOST is empty"
    ]
    wrong_links = problems_after(config("PUBLIC_URL", "https://convene.example.org"))
    assert [problem.split(":")[0] for problem in wrong_links] == [
        "Deployment/notification-worker",
        "Deployment/gateway",
    ]
    assert all("email links go to 'https://convene.example.org'" in p for p in wrong_links)

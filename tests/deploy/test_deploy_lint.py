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
SERVICES = {"gateway": 8000, "profiles": 8001, "matcher": 8002}
ONE_SHOT_PREFIX = "migrate-"


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


def test_only_the_gateway_publishes_a_port(compose: dict[str, Any]) -> None:
    publishing = {name for name, service in compose["services"].items() if service.get("ports")}
    assert publishing == {"gateway"}
    assert [str(port).rsplit(":", 2)[-2:] for port in compose["services"]["gateway"]["ports"]] == [
        ["8000", "8000"]
    ]


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
    for name, port in SERVICES.items():
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
        expected = ["backend", "edge"] if name == "gateway" else ["backend"]
        assert service["networks"] == expected, name


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_dockerfile_runs_as_non_root(service: str) -> None:
    dockerfile = (REPO_ROOT / "services" / service / "Dockerfile").read_text()
    stages = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)
    final_stage = stages[-1]
    users = re.findall(r"^USER\s+(\S+)", final_stage, flags=re.MULTILINE)
    assert users, f"{service}: the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user.isdigit(), f"{service}: USER {user} is not numeric"
    assert user != "0", f"{service}: runs as root"
    port = SERVICES[service]
    assert re.search(rf"^EXPOSE {port}$", final_stage, flags=re.MULTILINE)
    assert re.search(rf"HEALTHCHECK .*\n?.*127\.0\.0\.1:{port}/livez", final_stage)
    assert f"convene_{service}.main:app_from_env" in final_stage
    assert '"--workers", "1"' in final_stage

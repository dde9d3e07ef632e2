"""Contract fuzzing: schemathesis against the gateway's own OpenAPI document, every phase.

Runs the schemathesis CLI as a separate process against the live suite, with real
credentials for each role (OpenAPI-aware auth: the citizen's bearer token by default, the
admin's on /v1/admin, a public body's API key wherever the document asks for one, and a
staff manager's and an officer's bearer tokens alone on the staff routes). The
document is fetched from the running app, so routes added later are fuzzed without a change
here; POST /v1/calls reaches its GET and match through the links the gateway declares.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.security.harness import Suite

MAX_EXAMPLES = 20
MIN_CASES = 1000
SEED = 20240611
# Erasing the fuzzing citizen would turn every later case into a 401; erasure is exercised
# by the journey and matrix tests instead.
# Signing out ends the bearer token the rest of the run uses (sessions have their own tests).
NOT_FUZZED = ("DELETE /v1/me", "POST /v1/auth/logout", "POST /v1/auth/logout-everywhere")


def _config(*, bearer: str, api_key: str | None) -> str:
    disabled = "\n".join(
        f'[[operations]]\ninclude-name = "{name}"\nenabled = false\n' for name in NOT_FUZZED
    )
    key_section = f'[auth.openapi.ApiKey]\napi_key = "{api_key}"' if api_key else ""
    # A routing batch routes every call it names (a body's open calls by default, up to
    # 500) and then solves for up to its time_limit_seconds (at most 60, documented): it is
    # judged against that bound, not the 10 s every other operation is held to. (By the
    # staff runs, fuzzing has opened many calls and activated unusual configurations: in
    # a trial limited to a body's 25 oldest open calls, routing them took 19.9 s.)
    slow = "\n".join(
        f'[[operations]]\ninclude-name = "{name}"\nchecks.max_response_time = 110\n'
        for name in ("POST /v1/calls/routing-batches", "POST /v1/admin/routing-batches")
    )
    return f"""
seed = {SEED}
workers = 1

[generation]
max-examples = {MAX_EXAMPLES}
database = "none"

[checks.negative_data_rejection]
# 413: schemathesis' oversized strings and arrays can exceed the body-size limit first.
expected-statuses = [400, 401, 403, 404, 406, 409, 413, 422, 428, 429]

[auth.openapi.BearerToken]
bearer = "{bearer}"

{key_section}

{disabled}
{slow}
"""


def _run(suite: Suite, config: Path, report: Path, *filters: str) -> tuple[int, str]:
    command = [
        str(Path(sys.executable).with_name("st")),
        "--config-file",
        str(config),
        "run",
        f"{suite.url}/openapi.json",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--checks",
        "all",
        # Valid-looking data may still be refused for good reasons (a random id is not
        # found, a slug is taken, text holds U+0000): such answers are checked against the
        # documented statuses and schemas instead.
        "--exclude-checks",
        "positive_data_acceptance",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
        # POST /v1/calls/routing-batches with no body routes every open call of the body
        # (up to 500) and solves for up to time_limit_seconds (at most 60, documented): by
        # the time the staff runs come, fuzzing has opened many calls, and a 30 s limit cut
        # such answers off as network errors although they came within the contract.
        "--request-timeout",
        "120",
        "--max-time",
        "60",
        *filters,
    ]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=200, check=False)
    return completed.returncode, completed.stdout + completed.stderr


# Four runs of up to --max-time each (citizen+body, admin, manager, officer) and their setup.
@pytest.mark.timeout(900)
def test_the_gateway_keeps_its_contract_under_fuzzing(
    suite: Suite, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    citizen, citizen_headers = suite.citizen(name="Fuzzing Citizen")
    suite.client.patch(
        "/v1/me",
        json={"place": {"authority_code": "E08000003", "postcode_area": "M1"}},
        headers=citizen_headers,
    )
    _, body_headers = suite.organisation("Fuzzing Council")
    api_key = body_headers["X-API-Key"]
    organisation = suite.client.get("/v1/admin/organisations", headers=suite.admin_headers)
    fuzzing_council = next(
        item for item in organisation.json()["items"] if item["name"] == "Fuzzing Council"
    )
    _, manager_headers = suite.staff(fuzzing_council, "manager")
    _, officer_headers = suite.staff(fuzzing_council, "officer")
    staff_paths = ("--include-path-regex", "^/v1/(calls|organisation|roles|auth)")

    def as_staff(headers: dict[str, str]) -> tuple[str, ...]:
        # The public-body routes document the API key scheme only (listing the bearer
        # scheme too made schemathesis fail a generation health check on
        # GET /v1/organisation/stats), so a staff token is sent on every request here and
        # the checks that a request missing the documented X-API-Key is refused are off for
        # these runs: with a staff token it is rightly accepted.
        return (
            *staff_paths,
            "-H",
            f"Authorization: {headers['Authorization']}",
            "--exclude-checks",
            "positive_data_acceptance,negative_data_rejection,missing_required_header",
        )

    runs: dict[str, tuple[dict[str, str], str | None, tuple[str, ...]]] = {
        # Citizens' and public bodies' routes, and anonymous ones (registration, login).
        "citizen+body": (citizen_headers, api_key, ("--exclude-path-regex", "^/v1/admin")),
        "admin": (suite.admin_headers, api_key, ("--include-path-regex", "^/v1/admin")),
        # Staff bearer tokens alone (no API key): calls, members, keys, audit, roles.
        "manager": (manager_headers, None, as_staff(manager_headers)),
        "officer": (officer_headers, None, as_staff(officer_headers)),
    }
    total = 0
    problems: list[str] = []
    for name, (headers, key, filters) in runs.items():
        config = tmp_path / f"{name}.toml"
        bearer = headers["Authorization"].removeprefix("Bearer ")
        config.write_text(_config(bearer=bearer, api_key=key))
        report = tmp_path / f"{name}.ndjson"
        returncode, output = _run(suite, config, report, *filters)
        (tmp_path / f"{name}.log").write_text(output)
        cases, failures = _tally(report)
        with capsys.disabled():
            sys.stdout.write(f"\nschemathesis {name}: {cases} generated cases, exit {returncode}")
        total += cases
        if failures or returncode != 0:
            problems.append(f"--- {name} (exit {returncode})\n" + "\n".join(failures[:20]))
            problems.append(output[-5000:])
    with capsys.disabled():
        sys.stdout.write(f"\nschemathesis total: {total} generated cases\n")
    assert not problems, "\n".join(problems)
    assert total >= MIN_CASES, f"only {total} cases were generated"
    assert citizen["id"]


def _tally(report: Path) -> tuple[int, list[str]]:
    """Counts generated cases and collects failed checks from the ndjson event stream."""
    cases = 0
    failures: list[str] = []
    if not report.exists():
        return 0, ["schemathesis wrote no report"]
    for line in report.read_text().splitlines():
        event: dict[str, Any] = json.loads(line)
        for kind, payload in event.items():
            if kind != "ScenarioFinished" or not isinstance(payload, dict):
                continue
            recorder = payload.get("recorder", {})
            cases += len(recorder.get("cases", {}))
            for case_id, checks in recorder.get("checks", {}).items():
                for check in checks:
                    if check.get("status") == "FAILURE":
                        failure = check.get("failure_info") or {}
                        label = recorder.get("label", "?")
                        failures.append(f"{label} [{case_id}] {check.get('name')}: {failure}")
    return cases, failures

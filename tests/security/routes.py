"""The gateway's route table, classified by the principal each route requires."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from convene_common.problems import flat_routes
from convene_gateway.auth.dependencies import (
    require_admin,
    require_admin_or_manager,
    require_citizen,
    require_manager,
    require_member,
    require_session,
)

# public_body: an API key or any staff member's bearer token; manager / member: staff
# bearer tokens only (a manager's, any member's); account: any signed-in account.
Kind = Literal[
    "citizen", "admin", "admin_or_manager", "public_body", "manager", "member", "account",
    "anonymous",
]  # fmt: skip
PARAMETER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    kind: Kind
    parameters: tuple[str, ...]
    has_body: bool

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    def url(self, values: dict[str, str]) -> str:
        return PARAMETER.sub(lambda match: values[match.group(1)], self.path)


def _calls(dependant: Dependant) -> Iterator[Any]:
    yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _kind(route: APIRoute) -> Kind:
    calls = list(_calls(route.dependant))
    if require_manager in calls:
        return "manager"
    for call in calls:
        if call is require_citizen:
            return "citizen"
        if call is require_admin:
            return "admin"
        if call is require_admin_or_manager:
            return "admin_or_manager"
        if getattr(call, "__qualname__", "").startswith("require_public_body."):
            return "public_body"
        if call is require_member:
            return "member"
        if call is require_session:
            return "account"
    return "anonymous"


def routes(app: FastAPI) -> list[Route]:
    found = []
    for effective in flat_routes(app.router.routes):
        original = getattr(effective, "original_route", effective)
        # path_format drops convertors: /x/{config_id:int} is requested as /x/{config_id}.
        path: str = getattr(effective, "path_format", effective.path)
        if not isinstance(original, APIRoute) or not path.startswith("/v1/"):
            continue
        for method in sorted(effective.methods or ()):
            found.append(
                Route(
                    method=method,
                    path=path,
                    kind=_kind(original),
                    parameters=tuple(PARAMETER.findall(path)),
                    has_body=original.body_field is not None,
                )
            )
    return found

"""Contract tests: the gateway's mirrored schemas against each downstream's OpenAPI document.

For every answer the gateway parses (clients/profiles_schemas.py, clients/matcher_schemas.py
and the other response models its clients validate), every field it reads must exist in the
downstream's response schema with a type it accepts. For every request body it forwards (its
own request models, dumped to JSON), every field must be accepted downstream, within the
downstream's bounds, and every field the downstream requires must be sent. The documents are
``create_app(settings).openapi()`` of the real profiles and matcher apps: no server, no
database, so these run in a second.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import pytest
from pydantic import BaseModel, TypeAdapter

from convene_gateway.admin import schemas as admin
from convene_gateway.admin_matching import schemas as admin_matching
from convene_gateway.affinity import schemas as affinity
from convene_gateway.batch import schemas as batch
from convene_gateway.calls import schemas as calls
from convene_gateway.citizens import schemas as citizens
from convene_gateway.clients import matcher_evidence as evidence
from convene_gateway.clients import matcher_schemas as m
from convene_gateway.clients import profiles_schemas as p
from convene_gateway.contributions import schemas as contributions
from convene_gateway.imports import schemas as imports
from convene_gateway.invitations import schemas as invitations
from convene_matcher.config import MatcherSettings
from convene_matcher.main import create_app as create_matcher_app
from convene_profiles.config import ProfilesSettings
from convene_profiles.main import create_app as create_profiles_app
from tests.contracts.schema_compat import Document, Report, Side, check, without_nulls

Service = Literal["profiles", "matcher"]


@cache
def openapi(service: Service) -> dict[str, Any]:
    if service == "profiles":
        return create_profiles_app(
            ProfilesSettings(environment="test", erasure_salt="contract-tests")
        ).openapi()
    return create_matcher_app(MatcherSettings(environment="test")).openapi()


def operation(service: Service, method: str, path: str) -> dict[str, Any]:
    paths = openapi(service)["paths"]
    assert path in paths, f"{service} has no {path}"
    assert method in paths[path], f"{service} has no {method.upper()} {path}"
    op: dict[str, Any] = paths[path][method]
    return op


def json_schema(content: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = content["content"]["application/json"]["schema"]
    return schema


def gateway_side(model: Any, *, mode: Literal["validation", "serialization"]) -> Side:
    schema = TypeAdapter(model).json_schema(mode=mode)
    return Side(schema, Document(schema))


def downstream_side(service: Service, schema: dict[str, Any]) -> Side:
    return Side(schema, Document(openapi(service)))


@dataclass(frozen=True)
class Read:
    """An answer the gateway parses: ``model`` validates ``method path``'s ``status`` body."""

    service: Service
    method: str
    path: str
    status: str
    model: Any

    def check(self) -> Report:
        op = operation(self.service, self.method, self.path)
        assert self.status in op["responses"], f"{self.path} never answers {self.status}"
        downstream = downstream_side(self.service, json_schema(op["responses"][self.status]))
        return check(downstream, gateway_side(self.model, mode="validation"), direction="read")


@dataclass(frozen=True)
class Forward:
    """A body the gateway sends: ``model`` dumped to JSON (``exclude_none`` when the gateway
    dumps it so), plus the fields it ``added``."""

    service: Service
    method: str
    path: str
    model: type[BaseModel]
    added: tuple[str, ...] = ()
    exclude_none: bool = False
    # Problems the schemas cannot see through, each with its reason where it is listed. The
    # test holds they still occur, so an allowance never outlives its cause.
    known: tuple[str, ...] = ()

    def check(self) -> Report:
        op = operation(self.service, self.method, self.path)
        assert "requestBody" in op, f"{self.path} takes no body"
        downstream = downstream_side(self.service, json_schema(op["requestBody"]))
        sent = gateway_side(self.model, mode="serialization")
        return check(
            without_nulls(sent) if self.exclude_none else sent,
            downstream,
            direction="forward",
            added=self.added,
        )


CITIZEN = "/v1/citizens/{citizen_id}"
CALL = "/v1/calls/{call_id}"
CITIZEN_INVITATION = "/v1/citizens/{citizen_id}/invitations/{invitation_id}"

READS = [
    # profiles (clients/profiles.py)
    Read("profiles", "post", "/v1/citizens", "201", p.CitizenRead),
    Read("profiles", "get", CITIZEN, "200", p.CitizenRead),
    Read("profiles", "patch", CITIZEN, "200", p.CitizenRead),
    Read("profiles", "post", f"{CITIZEN}/skills", "201", p.SkillRead),
    Read("profiles", "get", f"{CITIZEN}/skills", "200", p.ItemList[p.SkillRead]),
    Read("profiles", "post", f"{CITIZEN}/roles", "201", p.RoleRead),
    Read("profiles", "get", f"{CITIZEN}/roles", "200", p.ItemList[p.RoleRead]),
    Read("profiles", "post", f"{CITIZEN}/experience", "201", p.ExperienceRead),
    Read("profiles", "get", f"{CITIZEN}/experience", "200", p.ItemList[p.ExperienceRead]),
    Read("profiles", "patch", f"{CITIZEN}/experience/{{entry_id}}", "200", p.ExperienceRead),
    Read("profiles", "post", f"{CITIZEN}/affiliations", "201", p.AffiliationRead),
    Read("profiles", "get", f"{CITIZEN}/affiliations", "200", p.ItemList[p.AffiliationRead]),
    Read("profiles", "post", f"{CITIZEN}/badges", "201", p.BadgeRead),
    Read("profiles", "get", f"{CITIZEN}/badges", "200", p.ItemList[p.BadgeRead]),
    Read("profiles", "get", "/v1/roles", "200", p.ItemList[p.CuratedRoleRead]),
    Read("profiles", "post", "/v1/roles", "201", p.CuratedRoleRead),
    Read("profiles", "get", "/v1/badge-issuers", "200", p.ItemList[p.BadgeIssuerRead]),
    Read("profiles", "post", "/v1/badge-issuers", "201", p.BadgeIssuerRead),
    Read("profiles", "get", "/v1/changes", "200", p.ChangePage),
    # profiles: imports and uploaded answers (clients/profiles.py, issue 12)
    Read("profiles", "post", "/v1/imports", "202", p.ImportAccepted),
    Read("profiles", "get", "/v1/imports/{import_id}", "200", p.ImportRead),
    Read("profiles", "get", f"{CITIZEN}/imports", "200", p.CitizenImportsRead),
    Read("profiles", "post", f"{CITIZEN}/imports/confirm", "200", p.ImportDecisionRead),
    Read("profiles", "post", f"{CITIZEN}/imports/decline", "200", p.ImportDecisionRead),
    Read("profiles", "post", "/v1/answers-imports", "201", p.AnswersImportedRead),
    Read("profiles", "get", f"{CITIZEN}/answers", "200", p.ItemList[p.AnswerRead]),
    # matcher: calls, routing, affinity, index (clients/matcher.py)
    Read("matcher", "post", "/v1/calls", "201", m.CallRead),
    Read("matcher", "get", CALL, "200", m.CallRead),
    Read("matcher", "get", "/v1/calls", "200", m.CallPage),
    Read("matcher", "post", f"{CALL}/match", "200", m.MatchResult),
    Read("matcher", "post", "/v1/affinity", "200", m.AffinityResult),
    Read("matcher", "get", "/v1/index/status", "200", m.IndexStatus),
    Read("matcher", "post", "/v1/index/rebuild", "200", m.RebuildResult),
    # matcher: configurations and evaluations (clients/matcher_admin.py)
    Read("matcher", "get", "/v1/matching-configs", "200", admin_matching.ConfigList),
    Read("matcher", "post", "/v1/matching-configs", "201", admin_matching.ConfigRead),
    Read("matcher", "get", "/v1/matching-configs/active", "200", admin_matching.ConfigRead),
    Read(
        "matcher", "get", "/v1/matching-configs/activations", "200", admin_matching.ActivationList
    ),
    Read(
        "matcher",
        "post",
        "/v1/matching-configs/{config_id}/preview",
        "200",
        admin_matching.PreviewResult,
    ),
    Read("matcher", "post", "/v1/evaluations", "202", admin_matching.EvaluationRead),
    Read("matcher", "get", "/v1/evaluations/{job_id}", "200", admin_matching.EvaluationRead),
    # matcher: batches (clients/matcher_batch.py)
    Read("matcher", "post", "/v1/routing-batches", "201", batch.BatchRead),
    Read("matcher", "get", "/v1/routing-batches/{batch_id}", "200", batch.BatchRead),
    # matcher: invitations (clients/matcher_invitations.py)
    Read("matcher", "post", f"{CALL}/invitations", "201", invitations.MatcherInvitationBatch),
    Read("matcher", "get", f"{CALL}/invitations", "200", invitations.MatcherInvitationList),
    Read(
        "matcher",
        "post",
        f"{CALL}/invitations/{{invitation_id}}/withdraw",
        "200",
        invitations.MatcherInvitation,
    ),
    Read("matcher", "post", f"{CALL}/contributions/{{ref}}/rating", "201", invitations.RatingRead),
    Read("matcher", "post", f"{CALL}/close", "200", invitations.CloseResult),
    Read(
        "matcher",
        "get",
        "/v1/organisations/{public_body_id}/invitation-stats",
        "200",
        invitations.BodyStats,
    ),
    Read(
        "matcher",
        "put",
        "/v1/organisations/{public_body_id}/webhook",
        "200",
        invitations.WebhookEndpointRead,
    ),
    Read(
        "matcher",
        "get",
        "/v1/citizens/{citizen_id}/invitations",
        "200",
        invitations.CitizenInvitationPage,
    ),
    Read("matcher", "get", CITIZEN_INVITATION, "200", invitations.CitizenInvitationDetail),
    Read(
        "matcher",
        "post",
        f"{CITIZEN_INVITATION}/accept",
        "200",
        invitations.CitizenInvitationDetail,
    ),
    Read(
        "matcher",
        "post",
        f"{CITIZEN_INVITATION}/follow-outcome",
        "200",
        invitations.CitizenInvitationDetail,
    ),
    Read(
        "matcher",
        "post",
        f"{CITIZEN_INVITATION}/contribution",
        "200",
        contributions.ContributionRead,
    ),
    Read(
        "matcher",
        "get",
        f"{CITIZEN_INVITATION}/contribution",
        "200",
        contributions.ContributionRead,
    ),
    Read(
        "matcher",
        "get",
        f"{CALL}/contributions",
        "200",
        contributions.MatcherBodyContributionList,
    ),
    Read("matcher", "get", "/v1/exposure", "200", invitations.ExposureFigures),
    # matcher: the citizen's evidence as held (clients/matcher_evidence.py)
    Read("matcher", "get", "/v1/citizens/{citizen_id}/evidence", "200", evidence.HeldEvidence),
    Read("matcher", "get", "/v1/notifications/dead", "200", invitations.DeadLetterPage),
    Read("matcher", "post", f"{CALL}/cancel", "200", m.CallCancelledRead),
    Read("matcher", "post", "/v1/notifications/emails", "202", m.EmailQueued),
]

FORWARDS = [
    # profiles (citizens/service.py, admin/service.py)
    Forward("profiles", "patch", CITIZEN, citizens.CitizenUpdate),
    Forward("profiles", "post", f"{CITIZEN}/skills", citizens.SkillCreate, exclude_none=True),
    Forward("profiles", "post", f"{CITIZEN}/roles", citizens.RoleCreate),
    Forward(
        "profiles", "post", f"{CITIZEN}/experience", citizens.ExperienceCreate, exclude_none=True
    ),
    Forward("profiles", "patch", f"{CITIZEN}/experience/{{entry_id}}", citizens.ExperienceUpdate),
    Forward("profiles", "post", f"{CITIZEN}/affiliations", citizens.AffiliationCreate),
    Forward("profiles", "post", f"{CITIZEN}/badges", citizens.BadgeCreate, exclude_none=True),
    Forward("profiles", "post", "/v1/roles", admin.CuratedRoleCreate, exclude_none=True),
    Forward("profiles", "post", "/v1/badge-issuers", admin.BadgeIssuerCreate, exclude_none=True),
    Forward("profiles", "post", f"{CITIZEN}/imports/confirm", imports.ImportDecision),
    Forward("profiles", "post", f"{CITIZEN}/imports/decline", imports.ImportDecision),
    # matcher (calls/, affinity/, batch/, admin_matching/, invitations/)
    Forward(
        "matcher",
        "post",
        "/v1/calls",
        calls.CallCreate,
        added=("public_body_id", "public_body_name"),
        # The gateway's Language lower-cases (to_lower) after checking [A-Za-z]{2}: what it
        # sends is lower case, which JSON Schema cannot say.
        known=(".languages[]: pattern '^[A-Za-z]{2}$' sent, '^[a-z]{2}$' accepted",),
    ),
    Forward("matcher", "post", f"{CALL}/match", calls.MatchRequest),
    Forward("matcher", "post", "/v1/affinity", affinity.AffinityRequest, exclude_none=True),
    Forward(
        "matcher",
        "post",
        "/v1/routing-batches",
        batch.AdminBatchCreate,
        added=("requested_by",),
        exclude_none=True,
    ),
    Forward(
        "matcher",
        "post",
        "/v1/matching-configs",
        admin_matching.MatchingConfigCreate,
        added=("created_by",),
    ),
    Forward(
        "matcher",
        "post",
        "/v1/matching-configs/{config_id}/preview",
        admin_matching.PreviewRequest,
    ),
    Forward(
        "matcher",
        "post",
        "/v1/evaluations",
        admin_matching.EvaluationCreate,
        added=("created_by",),
        exclude_none=True,
    ),
    Forward("matcher", "post", f"{CALL}/invitations", invitations.InvitationCreate),
    Forward("matcher", "post", f"{CALL}/contributions/{{ref}}/rating", invitations.RatingCreate),
    Forward("matcher", "post", f"{CALL}/close", invitations.CloseRequest),
    Forward(
        "matcher",
        "put",
        "/v1/organisations/{public_body_id}/webhook",
        invitations.WebhookEndpointUpdate,
    ),
    Forward("matcher", "post", f"{CITIZEN_INVITATION}/accept", invitations.AcceptRequest),
    Forward("matcher", "post", f"{CITIZEN_INVITATION}/decline", invitations.DeclineRequest),
    Forward(
        "matcher",
        "post",
        f"{CITIZEN_INVITATION}/contribution",
        contributions.ContributionWrite,
        exclude_none=True,
    ),
    Forward("matcher", "post", "/v1/notifications/emails", m.AccountEmail),
]


def _id(contract: Read | Forward) -> str:
    name = getattr(contract.model, "__name__", str(contract.model))
    return f"{contract.service} {contract.method.upper()} {contract.path} {name}"


@pytest.mark.parametrize("contract", READS, ids=_id)
def test_every_field_the_gateway_reads_exists_downstream_with_a_compatible_type(
    contract: Read,
) -> None:
    assert contract.check().problems == []


@pytest.mark.parametrize("contract", FORWARDS, ids=_id)
def test_every_field_the_gateway_forwards_is_accepted_downstream(contract: Forward) -> None:
    assert contract.check().problems == list(contract.known)


def test_the_tables_cover_every_model_the_gateway_mirrors() -> None:
    """A model added to the mirrored schemas must be added to READS too."""
    read = {getattr(c.model, "__name__", "") for c in READS}
    read |= {c.model.__name__ for c in FORWARDS}  # bodies built in the clients (AccountEmail)
    read |= {
        arg.__name__
        for c in READS
        for arg in getattr(c.model, "__pydantic_generic_metadata__", {}).get("args", ())
    }
    mirrored = {
        name
        for module in (p, m, evidence)
        for name, value in vars(module).items()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
    }
    # Nested parts (checked through their parents) and bases.
    nested = {
        "ProfilesModel",
        "MatcherModel",
        "ItemList",
        "PlaceRead",
        "ConsentRead",
        "UnavailablePeriod",
        "AvailabilityRead",
        "RatingAggregate",
        "ChangeRead",
        "SkillWantedRead",
        "PerspectiveRead",
        "CallPlaceRead",
        "EvidenceRead",
        "AdjustmentsRead",
        "CandidateRead",
        "PanelMemberRead",
        "UnmetRead",
        "PanelNeedRead",
        "MatchStatsRead",
        "HeldItem",
        "RejectedRowRead",
        "SourceCount",
        "PastResponseRead",
    }
    assert mirrored - nested - read == set()


# -- the checker itself fails on a broken field ---------------------------------------------
class _Downstream(BaseModel):
    id: int
    label: str
    tags: list[str]


class _ReadsAMissingField(BaseModel):
    id: int
    labels: str


class _ReadsAWrongType(BaseModel):
    id: int
    label: int
    tags: list[str]


class _SendsTooLong(BaseModel):
    id: int
    label: str
    tags: list[str]
    extra: str = "x"


def _pair(sender: type[BaseModel], receiver: type[BaseModel], direction: Any) -> list[str]:
    return check(
        gateway_side(sender, mode="serialization"),
        gateway_side(receiver, mode="validation"),
        direction=direction,
    ).problems


def test_the_checker_names_a_missing_field_a_wrong_type_and_an_unaccepted_one() -> None:
    assert _pair(_Downstream, _ReadsAMissingField, "read") == [
        ".labels: read by the receiver, absent from the sender"
    ]
    assert _pair(_Downstream, _ReadsAWrongType, "read") == [
        ".label: string sent, receiver takes integer"
    ]
    assert _pair(_SendsTooLong, _Downstream, "forward") == [
        ".extra: sent, not accepted by the receiver"
    ]
    assert _pair(_Downstream, _Downstream, "read") == []

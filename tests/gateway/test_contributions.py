"""Contributions through the gateway over the REAL matcher and profiles apps in-process:
an accepted invitee writes answers, the body reads and rates them, and what they wrote
becomes evidence for later calls (weighted by the rating, only with their consent); a
confidential call's title and answers never reach another body; "you said, we did"."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.gateway.conftest import CallsGateway

PROBLEM = "application/problem+json"
BUS_QUESTION = "How does the bus route affect your daily journey?"
COMPOSTING = (
    "For ten years I have run the community composting scheme on our estate. Every week "
    "three hundred households bring their food waste and vegetable peelings to our compost "
    "bays, and we turn it into compost for the allotments and the school garden. I keep the "
    "rota of volunteers, check the heaps' temperature and teach neighbours what can go in."
)


def problem(response: httpx.Response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"].endswith("/" + slug)


def bus_call(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Bus priority on Wilmslow Road",
        "description": "New bus lanes and stops on Wilmslow Road: tell us how you travel.",
        "questions": [BUS_QUESTION, "What would make the stops easier to use?"],
        "skills": [{"label": "using buses every day"}],
        "hours": 2,
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 3,
        **overrides,
    }


def composting_call() -> dict[str, Any]:
    return {
        "title": "Food waste and community composting",
        "description": "We plan food waste collection and neighbourhood compost bays: who "
        "knows how to run a community composting scheme?",
        "skills": [{"label": "community composting"}],
        "hours": 2,
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "panel_size": 2,
    }


async def bus_rider(gw: CallsGateway, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    created, headers = await gw.citizen(name=name)
    patched = await gw.client.patch(
        "/v1/me", headers=headers, json={"consent": {"matching": True, "contact": True}}
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["consent"]["contributions_as_evidence"] is True  # default on
    added = await gw.client.post(
        "/v1/me/skills", headers=headers, json={"label": "using buses every day", "level": "can_do"}
    )
    assert added.status_code == 201, added.text
    return created, headers


async def ref_of(gw: CallsGateway, call_id: str, citizen_id: str) -> str:
    async with gw.matcher_app.state.pool.acquire() as connection:
        ref: str = await connection.fetchval(
            "SELECT ref FROM call_match WHERE call_id = $1 AND citizen_id = $2 LIMIT 1",
            uuid.UUID(call_id),
            uuid.UUID(citizen_id),
        )
    return ref


async def standing(
    gw: CallsGateway, headers: dict[str, str], call_id: str, citizen_id: str
) -> dict[str, Any] | None:
    """The citizen's candidate entry in a fresh match of the call, with its rank (or None)."""
    matched = await gw.client.post(f"/v1/calls/{call_id}/match", headers=headers)
    assert matched.status_code == 200, matched.text
    ref = await ref_of(gw, call_id, citizen_id)
    for rank, candidate in enumerate(matched.json()["candidates"], start=1):
        if candidate["ref"] == ref:
            return {**candidate, "rank": rank}
    return None


async def invite_and_accept(
    gw: CallsGateway,
    body_headers: dict[str, str],
    call_id: str,
    citizens: list[tuple[dict[str, Any], dict[str, str]]],
) -> dict[str, str]:
    """Invites the citizens by ref; each accepts. Returns their invitation ids by citizen id."""
    matched = await gw.client.post(f"/v1/calls/{call_id}/match", headers=body_headers)
    assert matched.status_code == 200, matched.text
    refs = [await ref_of(gw, call_id, created["id"]) for created, _ in citizens]
    assert all(refs), "every invitee is a candidate of the call"
    invited = await gw.client.post(
        f"/v1/calls/{call_id}/invitations", headers=body_headers, json={"refs": refs}
    )
    assert invited.status_code == 201, invited.text
    ids: dict[str, str] = {}
    for created, headers in citizens:
        mine = (await gw.client.get("/v1/me/invitations", headers=headers)).json()["items"]
        (item,) = [i for i in mine if i["call_id"] == call_id]
        accepted = await gw.client.post(f"/v1/me/invitations/{item['id']}/accept", headers=headers)
        assert accepted.status_code == 200, accepted.text
        ids[created["id"]] = item["id"]
    return ids


async def test_rated_contribution_text_is_evidence_with_consent_weighted_by_rating(
    calls_gateway: CallsGateway,
) -> None:
    gw = calls_gateway
    writer = await bus_rider(gw, "Wren Writer")
    withdrawer = await bus_rider(gw, "Otto Optout")
    poorly = await bus_rider(gw, "Lowe Rated")
    gardener, gardener_headers = await gw.citizen(name="Gar Dener")
    await gw.client.patch(
        "/v1/me", headers=gardener_headers, json={"consent": {"matching": True, "contact": True}}
    )
    await gw.client.post(
        "/v1/me/skills",
        headers=gardener_headers,
        json={"label": "growing vegetables on an allotment", "level": "can_do"},
    )
    await gw.sync()
    _, body = await gw.public_body()
    _, later_body = await gw.public_body()
    bus = (await gw.client.post("/v1/calls", headers=body, json=bus_call())).json()
    compost = (await gw.client.post("/v1/calls", headers=later_body, json=composting_call())).json()
    invitations = await invite_and_accept(gw, body, bus["id"], [writer, withdrawer, poorly])

    # Rating needs a submitted contribution.
    refs = {cid: await ref_of(gw, bus["id"], cid) for cid in invitations}
    rating_url = f"/v1/calls/{bus['id']}/contributions/{{ref}}/rating"
    problem(
        await gw.client.post(
            rating_url.format(ref=refs[writer[0]["id"]]), headers=body, json={"rating": 5}
        ),
        409,
        "contribution-not-submitted",
    )

    # Validation: the call's own questions only, each answer at most 10,000 characters.
    url = f"/v1/me/invitations/{invitations[writer[0]['id']]}/contribution"
    problem(
        await gw.client.post(
            url, headers=writer[1], json={"answers": [{"question": "Not asked?", "text": "x"}]}
        ),
        422,
        "validation-error",
    )
    problem(
        await gw.client.post(
            url,
            headers=writer[1],
            json={"answers": [{"question": BUS_QUESTION, "text": "y" * 10_001}]},
        ),
        422,
        "validation-error",
    )
    problem(await gw.client.get(url, headers=writer[1]), 404, "not-found")
    # Nobody else reads or writes it.
    problem(await gw.client.get(url, headers=poorly[1]), 404, "not-found")

    before = {
        cid: await standing(gw, later_body, compost["id"], cid)
        for cid in (writer[0]["id"], withdrawer[0]["id"], poorly[0]["id"], gardener["id"])
    }

    for created, headers in (writer, withdrawer, poorly):
        own = f"/v1/me/invitations/{invitations[created['id']]}/contribution"
        first = await gw.client.post(
            own,
            headers=headers,
            json={"answers": [{"question": BUS_QUESTION, "text": "Draft."}]},
        )
        assert first.status_code == 200, first.text
        replaced = await gw.client.post(
            own,
            headers=headers,
            json={
                "answers": [{"question": BUS_QUESTION, "text": COMPOSTING}],
                "comment": "Happy to help.",
            },
        )
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["answers"] == [{"question": BUS_QUESTION, "text": COMPOSTING}]
        assert replaced.json()["updated_at"] is not None
        assert replaced.json()["editable"] is True

    listed = await gw.client.get(f"/v1/calls/{bus['id']}/contributions", headers=body)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert {i["ref"] for i in items} == set(refs.values())
    assert all(i["answers"][0]["text"] == COMPOSTING for i in items)
    assert all(i["contact"]["email"] for i in items)  # accepted and consented to contact
    assert "citizen_id" not in listed.text
    problem(
        await gw.client.get(f"/v1/calls/{bus['id']}/contributions", headers=later_body),
        404,
        "not-found",
    )

    for citizen_id, stars in (
        (writer[0]["id"], 5),
        (withdrawer[0]["id"], 5),
        (poorly[0]["id"], 1),
    ):
        rated = await gw.client.post(
            rating_url.format(ref=refs[citizen_id]), headers=body, json={"rating": stars}
        )
        assert rated.status_code == 201, rated.text
    # Rated: the contribution no longer changes.
    problem(
        await gw.client.post(url, headers=writer[1], json={"comment": "changed"}),
        409,
        "contribution-rated",
    )
    problem(await gw.client.delete(url, headers=writer[1]), 409, "contribution-rated")
    listed = (await gw.client.get(f"/v1/calls/{bus['id']}/contributions", headers=body)).json()
    assert sorted(i["rating"] for i in listed["items"]) == [1, 5, 5]

    await gw.sync()
    after = {
        cid: await standing(gw, later_body, compost["id"], cid)
        for cid in (writer[0]["id"], withdrawer[0]["id"], poorly[0]["id"], gardener["id"])
    }
    written = after[writer[0]["id"]]
    assert written is not None
    # What they wrote (not the bus call's title) is the evidence, and it lifts them.
    assert any(
        e["kind"] == "contribution" and "compost" in e["text"] for e in written["evidence"]
    ), written
    assert not any("Wilmslow" in e["text"] for e in written["evidence"])
    old = before[writer[0]["id"]]
    assert old is None or (
        written["adjustments"]["similarity"] > old["adjustments"]["similarity"] + 0.05
        and written["rank"] < old["rank"]
    )
    rival = after[gardener["id"]]
    assert rival is None or written["rank"] < rival["rank"]  # above the gardener now
    # A 1-star contribution adds nothing.
    low_before, low_after = before[poorly[0]["id"]], after[poorly[0]["id"]]
    if low_before is None:
        assert low_after is None
    else:
        assert low_after is not None
        assert (
            abs(low_after["adjustments"]["similarity"] - low_before["adjustments"]["similarity"])
            < 1e-6
        )
        assert not any(e["kind"] == "contribution" for e in low_after["evidence"])
    lifted = after[withdrawer[0]["id"]]
    assert lifted is not None
    assert lifted["adjustments"]["similarity"] > 0.3

    # Consent off: that evidence goes; the citizen ranks as before they wrote.
    off = await gw.client.patch(
        "/v1/me", headers=withdrawer[1], json={"consent": {"contributions_as_evidence": False}}
    )
    assert off.status_code == 200, off.text
    assert off.json()["consent"] == {
        "matching": True,
        "contact": True,
        "contributions_as_evidence": False,
    }
    await gw.sync()
    record = gw.matcher_app.state.evidence.store.get(withdrawer[0]["id"])
    assert record is not None
    assert not [
        i
        for i in gw.matcher_app.state.evidence.store.items_of(withdrawer[0]["id"])
        if i.kind == "contribution"
    ]
    assert record.snapshot.rating.count == 1  # the rating itself is kept
    opted_out = await standing(gw, later_body, compost["id"], withdrawer[0]["id"])
    prior = before[withdrawer[0]["id"]]
    if prior is None:
        assert opted_out is None
    else:
        assert opted_out is not None
        assert (
            abs(opted_out["adjustments"]["similarity"] - prior["adjustments"]["similarity"]) < 1e-6
        )

    # The export holds the contribution; erasure removes it all.
    exported = (await gw.client.get("/v1/me/export", headers=writer[1])).json()
    (held,) = [i for i in exported["matcher"]["invitations"] if i["call_id"] == bus["id"]]
    assert held["contribution"]["answers"] == [{"question": BUS_QUESTION, "text": COMPOSTING}]
    assert COMPOSTING in json.dumps(exported["profile"]) or COMPOSTING in json.dumps(exported)
    erased = await gw.client.delete("/v1/me", headers=writer[1])
    assert erased.status_code in (202, 204), erased.text
    await gw.sync()
    assert gw.matcher_app.state.evidence.store.get(writer[0]["id"]) is None
    async with gw.matcher_app.state.pool.acquire() as connection:
        left = await connection.fetchval(
            "SELECT count(*) FROM contribution WHERE answers::text LIKE '%compost bays%'"
        )
    assert left == 2  # the other two contributors' own


async def test_you_said_we_did_outcome_cites_answers_and_declined_may_follow(
    calls_gateway: CallsGateway,
) -> None:
    gw = calls_gateway
    contributor = await bus_rider(gw, "Cita Tion")
    quiet = await bus_rider(gw, "Quinn Quiet")
    decliner = await bus_rider(gw, "Dee Cline")
    await gw.sync()
    _, body = await gw.public_body()
    call = (await gw.client.post("/v1/calls", headers=body, json=bus_call())).json()
    ids = await invite_and_accept(gw, body, call["id"], [contributor, quiet])
    ref = await ref_of(gw, call["id"], decliner[0]["id"])
    invited = await gw.client.post(
        f"/v1/calls/{call['id']}/invitations", headers=body, json={"refs": [ref]}
    )
    assert invited.status_code == 201, invited.text
    (declined,) = [
        i
        for i in (await gw.client.get("/v1/me/invitations", headers=decliner[1])).json()["items"]
        if i["call_id"] == call["id"]
    ]
    follow = f"/v1/me/invitations/{declined['id']}/follow-outcome"
    problem(await gw.client.post(follow, headers=decliner[1]), 409, "invitation-not-declined")
    answered = await gw.client.post(
        f"/v1/me/invitations/{declined['id']}/decline",
        headers=decliner[1],
        json={"reason": "no_time"},
    )
    assert answered.status_code == 200, answered.text
    followed = await gw.client.post(follow, headers=decliner[1])
    assert followed.status_code == 200, followed.text
    assert followed.json()["follow_outcome"] is True
    problem(
        await gw.client.post(
            f"/v1/me/invitations/{ids[contributor[0]['id']]}/follow-outcome",
            headers=contributor[1],
        ),
        409,
        "invitation-not-declined",
    )

    mine = f"/v1/me/invitations/{ids[contributor[0]['id']]}/contribution"
    submitted = await gw.client.post(
        mine,
        headers=contributor[1],
        json={
            "answers": [
                {"question": BUS_QUESTION, "text": "The 42 is late every morning."},
                {"question": "What would make the stops easier to use?", "text": "Shelters."},
            ]
        },
    )
    assert submitted.status_code == 200, submitted.text
    quiet_url = f"/v1/me/invitations/{ids[quiet[0]['id']]}/contribution"
    assert (
        await gw.client.post(quiet_url, headers=quiet[1], json={"comment": "Nothing to add."})
    ).status_code == 200
    # Withdrawing: DELETE, then it is gone (the body no longer lists it).
    assert (await gw.client.delete(quiet_url, headers=quiet[1])).status_code == 204
    problem(await gw.client.get(quiet_url, headers=quiet[1]), 404, "not-found")
    contributor_ref = await ref_of(gw, call["id"], contributor[0]["id"])
    quiet_ref = await ref_of(gw, call["id"], quiet[0]["id"])
    listed = (await gw.client.get(f"/v1/calls/{call['id']}/contributions", headers=body)).json()
    assert [i["ref"] for i in listed["items"]] == [contributor_ref]

    close = f"/v1/calls/{call['id']}/close"
    problem(
        await gw.client.post(
            close, headers=body, json={"outcome": "x", "cited": [{"ref": quiet_ref}]}
        ),
        422,
        "validation-error",
    )
    problem(
        await gw.client.post(
            close,
            headers=body,
            json={"outcome": "x", "cited": [{"ref": contributor_ref, "question": "Other?"}]},
        ),
        422,
        "validation-error",
    )
    closed = await gw.client.post(
        close,
        headers=body,
        json={
            "outcome": "We will add a bus gate at the junction.",
            "cited": [{"ref": contributor_ref, "question": BUS_QUESTION}],
        },
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["notified"] == 3  # two contributors (accepted) and one follower

    seen = (
        await gw.client.get(
            f"/v1/me/invitations/{ids[contributor[0]['id']]}", headers=contributor[1]
        )
    ).json()
    assert seen["outcome"] == "We will add a bus gate at the junction."
    assert seen["cited"] == [{"question": BUS_QUESTION, "text": "The 42 is late every morning."}]
    assert seen["has_contribution"] is True
    assert seen["can_contribute"] is False
    told = (await gw.client.get(f"/v1/me/invitations/{declined['id']}", headers=decliner[1])).json()
    assert told["outcome"] == "We will add a bus gate at the junction."
    assert told["cited"] == []
    # After closing, contributions no longer change.
    problem(
        await gw.client.post(mine, headers=contributor[1], json={"comment": "late"}),
        409,
        "contribution-deadline-passed",
    )
    async with gw.matcher_app.state.pool.acquire() as connection:
        kinds = await connection.fetch(
            "SELECT recipient_id::text AS who FROM notification WHERE kind = 'outcome'"
        )
    assert {row["who"] for row in kinds} == {
        contributor[0]["id"],
        quiet[0]["id"],
        decliner[0]["id"],
    }


SECRET_TITLE = "Confidential: relocating the Hulme bus depot to Birley Fields"
SECRET_ANSWER = (
    "Our estate composts the food waste of three hundred households in bays behind the "
    "Hulme bus depot; moving the depot to Birley Fields would close the bays we built."
)


def strings(value: Any) -> list[str]:
    """Every string anywhere in a JSON value (keys included), lower-cased."""
    if isinstance(value, str):
        return [value.lower()]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (k.lower(), *strings(v))]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


async def test_a_confidential_calls_title_and_answers_never_reach_another_body(
    calls_gateway: CallsGateway,
) -> None:
    """Body X's confidential call: a citizen's rated answer becomes their (private) evidence.
    Every body-facing JSON response body Y gets -- match, last match, invitations,
    contributions of Y's own call, a routing batch, and the admin's preview of a config on
    Y's call -- is walked for X's call title and the answer: neither appears."""
    from convene_matcher.evidence.passages import split_passages

    gw = calls_gateway
    citizen, headers = await bus_rider(gw, "Sam Secret")
    await gw.sync()
    _, body_x = await gw.public_body()
    _, body_y = await gw.public_body()
    secret = (
        await gw.client.post(
            "/v1/calls",
            headers=body_x,
            json=bus_call(title=SECRET_TITLE, confidentiality="confidential", panel_size=1),
        )
    ).json()
    ids = await invite_and_accept(gw, body_x, secret["id"], [(citizen, headers)])
    submitted = await gw.client.post(
        f"/v1/me/invitations/{ids[citizen['id']]}/contribution",
        headers=headers,
        json={"answers": [{"question": BUS_QUESTION, "text": SECRET_ANSWER}]},
    )
    assert submitted.status_code == 200, submitted.text
    ref = await ref_of(gw, secret["id"], citizen["id"])
    rated = await gw.client.post(
        f"/v1/calls/{secret['id']}/contributions/{ref}/rating", headers=body_x, json={"rating": 5}
    )
    assert rated.status_code == 201, rated.text
    await gw.sync()

    # Body Y's composting call: the citizen is routed to it by what they wrote in secret.
    theirs = (await gw.client.post("/v1/calls", headers=body_y, json=composting_call())).json()
    y_ids = await invite_and_accept(gw, body_y, theirs["id"], [(citizen, headers)])
    answered = await gw.client.post(
        f"/v1/me/invitations/{y_ids[citizen['id']]}/contribution",
        headers=headers,
        json={"comment": "I can show you our compost bays."},
    )
    assert answered.status_code == 200, answered.text
    config = await gw.client.post(
        "/v1/admin/matching-configs",
        headers=gw.admin,
        json={
            "settings": {
                "contribution_rating_weights": {"1": 0, "2": 0, "3": 0.4, "4": 0.7, "5": 1}
            },
            "note": "contributions weigh a little less",
        },
    )
    assert config.status_code == 201, config.text

    responses: dict[str, Any] = {}
    y_call = f"/v1/calls/{theirs['id']}"
    for label, method, url, payload, who in (
        ("match", "POST", f"{y_call}/match", None, body_y),
        ("last match", "GET", f"{y_call}/match", None, body_y),
        ("invitations", "GET", f"{y_call}/invitations", None, body_y),
        ("contributions", "GET", f"{y_call}/contributions", None, body_y),
        ("call", "GET", y_call, None, body_y),
        ("calls", "GET", "/v1/calls", None, body_y),
        ("batch", "POST", "/v1/calls/routing-batches", None, body_y),
        (
            "preview",
            "POST",
            f"/v1/admin/matching-configs/{config.json()['id']}/preview",
            {"call_id": theirs["id"]},
            gw.admin,
        ),
    ):
        response = await gw.client.request(method, url, headers=who, json=payload)
        assert response.status_code in (200, 201), (label, response.text)
        responses[label] = response.json()
    batch = responses["batch"]
    read = await gw.client.get(f"/v1/calls/routing-batches/{batch['id']}", headers=body_y)
    assert read.status_code == 200, read.text
    responses["batch read"] = read.json()
    # X's own call is not Y's to read.
    problem(
        await gw.client.get(f"/v1/calls/{secret['id']}/contributions", headers=body_y),
        404,
        "not-found",
    )

    needles = [
        SECRET_TITLE.lower(),
        "birley fields",
        *(p.lower() for p in split_passages(SECRET_ANSWER)),
    ]
    for label, answer in responses.items():
        found = [(n, s) for s in strings(answer) for n in needles if n in s]
        assert not found, (label, found[:3])
    # The walk is not empty: the citizen is Y's candidate, by private evidence.
    y_ref = await ref_of(gw, theirs["id"], citizen["id"])
    (candidate,) = [c for c in responses["match"]["candidates"] if c["ref"] == y_ref]
    assert any(
        e["kind"] == "contribution" and e["text"] == "private evidence"
        for e in candidate["evidence"]
    ), candidate["evidence"]
    # The citizen's own export holds their answer (it is theirs).
    exported = await gw.client.get("/v1/me/export", headers=headers)
    assert SECRET_ANSWER in exported.text

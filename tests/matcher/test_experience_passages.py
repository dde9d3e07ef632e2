"""Experience in the citizen's own words: long texts become passages, each an evidence item,
and the passage that matched (not the whole entry) is what routing explains."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from convene_matcher.citizens.schemas import MatchSnapshot
from convene_matcher.config import MatcherSettings
from convene_matcher.embedding.text import normalise_text
from convene_matcher.evidence.items import drafts_from_snapshot
from convene_matcher.evidence.passages import MAX_CHARACTERS, MAX_WORDS, split_passages
from convene_matcher.feed.consumer import FeedConsumer
from tests.matcher.conftest import CountingModel, create_citizen

BODY = "00000000-0000-4000-8000-00000000c0de"

# Eight sentences about a life in Manchester; one of them is about buses on Oxford Road.
LONG_ENTRY = " ".join(
    [
        "I have lived in Longsight for twenty years and raised three children here.",
        "For most of that time I worked nights as a hospital porter at the Royal Infirmary.",
        "I sing in a community choir that rehearses in the church hall on Stockport Road.",
        "My allotment keeps me busy on weekends and I grow far too many courgettes.",
        "Every working day I took the 43 and the 142 buses along Oxford Road, and I have "
        "written to the council about bus stops, bus lane enforcement and late buses.",
        "I also help run a homework club at the library for children whose parents work shifts.",
        "In winter I volunteer with a warm-space scheme for older neighbours.",
        "I enjoy cooking for large family gatherings and teaching my grandchildren to bake.",
    ]
)


def _non_space(text: str) -> int:
    return sum(1 for character in text if not character.isspace())


def test_passages_group_sentences_within_both_bounds() -> None:
    passages = split_passages(LONG_ENTRY)
    assert len(passages) >= 3
    # Nothing lost, nothing reordered: the passages are the text's words in order.
    assert " ".join(passages).split() == LONG_ENTRY.split()
    for passage in passages:
        assert len(passage.split()) <= MAX_WORDS
        assert _non_space(passage) <= MAX_CHARACTERS
    # Sentences are grouped, never cut, when they fit.
    assert any(passage.count(". ") >= 1 for passage in passages)
    assert split_passages("One short sentence.") == ["One short sentence."]
    assert split_passages("   ") == []
    # A repeated passage counts once (two 30-word sentences do not fit one passage).
    sentence = " ".join(["buses"] * 29) + " late."
    assert split_passages(f"{sentence} {sentence}") == [sentence]


def test_no_passage_exceeds_the_models_window() -> None:
    from transformers import AutoTokenizer

    # The tokenizer sentence-transformers loads from the folder (untruncated here); the ONNX
    # backend's gives the same ids (tests/matcher/embedding/test_backends.py).
    tokenizer: Any = AutoTokenizer.from_pretrained(str(MatcherSettings().model_path))
    adversarial = [
        LONG_ENTRY * 5,
        "!" * 5000,
        "a" * 3000,
        " ".join(["Antidisestablishmentarianism's"] * 400),
        "é,ü;ß:ç " * 700,
        "一二三四五六七八九十" * 300,
        "\ufb01" * 3000,  # the fi ligature: NFKC makes it two letters
        "İ" * 3000,  # lower-casing makes it two characters
    ]
    for text in adversarial:
        passages = split_passages(text)
        assert passages
        for passage in passages:
            pieces = len(tokenizer(passage)["input_ids"])
            assert pieces <= 256, (pieces, passage[:60])


def test_drafts_one_item_per_passage_for_entries_and_the_bio() -> None:
    entry_id = str(uuid.uuid4())
    snapshot = MatchSnapshot.model_validate(
        {
            "citizen_id": str(uuid.uuid4()),
            "bio": "Carer and bus user. I chair my tenants' association.",
            "experience": [
                {"id": entry_id, "kind": "lived_experience", "title": "Life in Longsight",
                 "description": LONG_ENTRY},
            ],
        }
    )  # fmt: skip
    drafts = [d for d in drafts_from_snapshot(snapshot) if d.kind == "experience"]
    entry_drafts = [d for d in drafts if d.source_id == entry_id]
    assert [d.text for d in entry_drafts] == split_passages(f"Life in Longsight. {LONG_ENTRY}")
    assert all(d.attributes == {"entry_kind": "lived_experience", "title": "Life in Longsight"}
               for d in entry_drafts)  # fmt: skip
    bio = [d for d in drafts if d.source_id == "bio"]
    assert [d.text for d in bio] == ["Carer and bus user. I chair my tenants' association."]


async def test_a_long_entry_is_matched_by_one_passage_and_explained_by_it(
    matcher_app: FastAPI,
    matcher: httpx.AsyncClient,
    profiles: httpx.AsyncClient,
    counting_model: CountingModel,
) -> None:
    resident = await create_citizen(profiles)
    entry = await profiles.post(
        f"/v1/citizens/{resident}/experience",
        json={"kind": "lived_experience", "title": "Life in Longsight", "description": LONG_ENTRY},
    )
    assert entry.status_code == 201, entry.text
    await profiles.post(
        f"/v1/citizens/{resident}/experience",
        json={"kind": "work", "title": "Hospital porter", "description": "Nights, 1998-2018."},
    )
    await create_citizen(profiles, skills=[("pastry baking", "can_do")])
    await create_citizen(profiles, skills=[("tax law", "can_do")])
    feed: FeedConsumer = matcher_app.state.feed
    await feed.catch_up()

    passages = split_passages(f"Life in Longsight. {LONG_ENTRY}")
    bus_passage = next(p for p in passages if "Oxford Road" in p)
    # Each passage reached the model exactly once.
    for passage in passages:
        assert counting_model.texts.count(normalise_text(passage)) == 1, passage

    call = await matcher.post(
        "/v1/calls",
        json={
            "public_body_id": BODY,
            "public_body_name": "Manchester City Council",
            "title": "Views on the new bus lane on Oxford Road",
            "description": "We are consulting on bus lane hours and bus stop changes on "
            "Oxford Road.",
            "questions": ["Would longer bus lane hours help your journeys?"],
            "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            "panel_size": 2,
        },
    )
    assert call.status_code == 201, call.text
    result = await matcher.post(
        f"/v1/calls/{call.json()['id']}/match", params={"public_body_id": BODY}, json=None
    )
    assert result.status_code == 200, result.text
    candidates = result.json()["candidates"]
    assert candidates, result.text
    top = candidates[0]
    assert top["evidence"][0]["kind"] == "experience"
    assert top["evidence"][0]["text"] == bus_passage
    shown = " ".join(e["text"] for e in top["evidence"])
    # The explanation quotes passages, never the whole entry.
    assert LONG_ENTRY not in shown
    assert all(len(e["text"].split()) <= MAX_WORDS for e in top["evidence"])

    # Editing the other entry re-embeds nothing of this one.
    before = len(counting_model.texts)
    await profiles.patch(
        f"/v1/citizens/{resident}/experience/{entry.json()['id']}",
        json={"organisation": "Longsight Residents"},
    )
    await feed.catch_up()
    assert len(counting_model.texts) == before


async def test_a_private_entry_still_counts_but_bodies_see_private_evidence(
    matcher_app: FastAPI, matcher: httpx.AsyncClient, profiles: httpx.AsyncClient
) -> None:
    resident = await create_citizen(profiles)
    entry = await profiles.post(
        f"/v1/citizens/{resident}/experience",
        json={
            "kind": "lived_experience",
            "title": "Life in Longsight",
            "description": LONG_ENTRY,
            "visible_to_bodies": False,
        },
    )
    assert entry.status_code == 201, entry.text
    await create_citizen(profiles, skills=[("pastry baking", "can_do")])
    feed: FeedConsumer = matcher_app.state.feed
    await feed.catch_up()
    call = await matcher.post(
        "/v1/calls",
        json={
            "public_body_id": BODY,
            "public_body_name": "Manchester City Council",
            "title": "Views on the new bus lane on Oxford Road",
            "description": "We are consulting on bus lane hours and bus stop changes on "
            "Oxford Road.",
            "questions": ["Would longer bus lane hours help your journeys?"],
            "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
            "panel_size": 2,
        },
    )
    assert call.status_code == 201, call.text
    result = await matcher.post(
        f"/v1/calls/{call.json()['id']}/match", params={"public_body_id": BODY}, json=None
    )
    assert result.status_code == 200, result.text
    top = result.json()["candidates"][0]
    assert top["evidence"][0] == {
        "kind": "experience",
        "text": "private evidence",
        "similarity": top["evidence"][0]["similarity"],
        "verified": None,
        "level": None,
        "source": None,
    }
    assert top["evidence"][0]["similarity"] > 0.3
    # Nothing of the private entry reaches the body.
    for fragment in ("Oxford Road, and", "Longsight", "hospital porter", "courgettes"):
        assert fragment not in result.text

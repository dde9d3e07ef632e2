"""The store's distinct texts, kept as one raw text per id (normalised when read) and told
apart by a digest of their normalised form: lookups by raw or normalised text, the texts
read back, through upserts, replacements, erasures and a snapshot round trip, including
Unicode whose normalisation is not idempotent."""

from __future__ import annotations

import json

from convene_matcher.citizens.store import CitizenStore, normalised_texts
from convene_matcher.embedding.text import normalise_text
from tests.matcher.routing.citizens import snapshot

# NFKC then lower case is not idempotent here: 'Ϊ́' (U+03AA U+0301) normalises to U+03CA
# U+0301, which a second pass turns into U+0390, the normalised form of 'ΐ' (U+0390).
DECOMPOSED = "\u03aa\u0301 Greek"
PRECOMPOSED = "\u0390 Greek"
# Fullwidth "HOUSING", an ideographic space and a space: NFKC and collapsing give "housing law".
FULLWIDTH = "\uff28\uff2f\uff35\uff33\uff29\uff2e\uff27\u3000 Law"


def _live(store: CitizenStore) -> dict[int, str]:
    return dict(store.texts())


def _assert_consistent(store: CitizenStore) -> None:
    """Every live text's id is found by its normalised text and by its items' raw texts, and
    reads back as the normalisation of any of them; its count is its items'."""
    live = _live(store)
    assert normalised_texts(store.raw_texts()) == live
    assert store.text_count == len(live)
    assert store.text_ids().tolist() == sorted(live)
    refs: dict[int, int] = {}
    for item in store.items():
        refs[item.text_id] = refs.get(item.text_id, 0) + 1
        assert store.text_id(item.text) == item.text_id
        assert store.text(item.text_id) == normalise_text(item.text)
    assert refs == {text_id: store.text_refs(text_id) for text_id in live}
    for text_id, normalised in live.items():
        assert store.normalised_text_id(normalised) == text_id
        assert store.text(text_id) == normalised


def test_texts_read_back_as_normalised_and_unicode_variants_stay_apart() -> None:
    store = CitizenStore()
    first = snapshot(skills=[(DECOMPOSED, "can_do"), (FULLWIDTH, "can_do")])
    second = snapshot(skills=[(PRECOMPOSED, "can_do"), ("housing   LAW", "can_do")])
    new_texts = store.upsert(first).new_texts + store.upsert(second).new_texts
    assert [text for _, text in new_texts] == [
        normalise_text(DECOMPOSED), "housing law", normalise_text(PRECOMPOSED)
    ]  # fmt: skip
    decomposed, housing, precomposed = (text_id for text_id, _ in new_texts)
    assert decomposed != precomposed  # two texts, as before: never normalised twice
    assert store.text(decomposed) == "\u03ca\u0301 greek"
    assert store.text(precomposed) == "\u0390 greek"
    assert store.normalised_text_id("\u03ca\u0301 greek") == decomposed
    assert store.normalised_text_id("\u0390 greek") == precomposed
    assert store.text_id(FULLWIDTH) == store.text_id("Housing Law") == housing
    assert store.text_refs(housing) == 2
    _assert_consistent(store)


def test_a_text_outlives_the_raw_text_it_was_first_met_as() -> None:
    store = CitizenStore()
    first = snapshot(skills=[(FULLWIDTH, "can_do"), ("Tenant organising", "can_do")])
    second = snapshot(skills=[("housing law", "can_explain")])
    store.upsert(first)
    store.upsert(second)
    housing = store.text_id("housing law")
    assert housing is not None
    # The citizen who brought the fullwidth spelling changes their skills, then leaves: the
    # text stays (the other citizen holds it) and still reads as its normalised form.
    replaced = store.upsert(
        snapshot(skills=[("Tenant organising", "can_do")]).model_copy(
            update={"citizen_id": first.citizen_id}
        )
    )
    assert replaced.dropped_texts == []
    assert store.text(housing) == "housing law"
    assert store.text_refs(housing) == 1
    _assert_consistent(store)
    tenant = store.text_id("tenant organising")
    erased = store.erase(first.citizen_id)
    assert erased.dropped_texts == [tenant]
    assert store.text(tenant) is None
    assert store.text_refs(tenant) == 0
    assert store.text_id("Tenant organising") is None
    _assert_consistent(store)
    # Saved and loaded, it is the same text under the same id.
    meta, arrays = store.columns()
    loaded = CitizenStore.from_columns(json.loads(json.dumps(meta)), arrays)
    assert _live(loaded) == _live(store) == {housing: "housing law"}
    _assert_consistent(loaded)
    # A text met again after it was dropped gets a new id (ids are never reused).
    again = loaded.upsert(snapshot(skills=[("tenant organising", "can_do")])).new_texts
    assert again == [(loaded.next_text_id - 1, "tenant organising")]
    assert again[0][0] != tenant
    _assert_consistent(loaded)


def test_a_loaded_store_keeps_unicode_variants_apart() -> None:
    store = CitizenStore()
    store.upsert(snapshot(skills=[(DECOMPOSED, "can_do"), (PRECOMPOSED, "can_do")]))
    meta, arrays = store.columns()
    loaded = CitizenStore.from_columns(json.loads(json.dumps(meta)), arrays)
    assert _live(loaded) == _live(store)
    assert len(_live(loaded)) == 2
    _assert_consistent(loaded)


def test_retrieval_takes_texts_until_their_items_cover_the_depth() -> None:
    """retrieval.retrieve (vectorised) against the rule written as a loop: texts best first,
    skipping texts no item holds, until the items taken cover ``depth``."""
    import random

    import numpy as np

    from convene_matcher.routing.retrieval import retrieve

    rng = random.Random(5)
    store = CitizenStore()
    labels = [f"skill number {n}" for n in range(40)]
    for _ in range(60):
        store.upsert(snapshot(skills=[(label, "can_do") for label in rng.sample(labels, 4)]))
    ids = [store.text_id(label) for label in labels]
    known = [text_id for text_id in ids if text_id is not None]
    for depth in (1, 5, 13, 50, 239, 240, 10_000):
        ordered = [*known, store.next_text_id + 3, -1]  # never allocated: no items
        rng.shuffle(ordered)
        chosen, covered = [], 0
        for text_id in ordered:
            if covered >= depth:
                break
            if store.text_refs(text_id):
                chosen.append(text_id)
                covered += store.text_refs(text_id)
        assert retrieve(store, np.array(ordered, dtype=np.int64), depth) == (chosen, covered)
    assert retrieve(store, np.empty(0, dtype=np.int64), 10) == ([], 0)

"""The feed vectorises the texts it adds for routing's lexical postings, so the first calls
to meet them do not (at 100,000 citizens that was 17% of routing's CPU after a bulk feed)."""

from __future__ import annotations

from fastapi import FastAPI

from convene_matcher.routing.relevance import lexical_postings
from convene_matcher.scoring import MatchingConfig
from tests.matcher.routing.citizens import load, snapshot


async def test_texts_the_feed_adds_are_in_the_lexical_postings_before_any_call(
    matcher_app: FastAPI,
) -> None:
    texts = ["Zymurgy for community brewing co-operatives", "Restoring canal towpaths"]
    await load(matcher_app, snapshot(skills=[(texts[0], "can_do")]), snapshot(roles=[texts[1]]))
    store = matcher_app.state.evidence.store
    postings = lexical_postings(store, config=MatchingConfig())
    for text in texts:
        text_id = store.text_id(text)
        assert text_id is not None, text
        assert postings.knows(text_id), text
    # A text no item holds was never vectorised: the check can fail.
    assert not postings.knows(store.next_text_id + 5)

"""The realistic citizen generator (bench/realistic): variety and reproducibility."""

from __future__ import annotations

from bench.realistic.generator import MAX_WORDS, MIN_WORDS, call_text, citizen, generate_citizens
from convene_matcher.embedding.text import normalise_text
from convene_matcher.evidence.items import _join


def test_small_population_has_about_ten_distinct_texts_per_citizen() -> None:
    people = list(generate_citizens(count=2_000, seed=3))
    texts = [normalise_text(t) for person in people for t in person.evidence_texts()]
    distinct = set(texts)
    # 100,000 citizens must hold >= 1,000,000 distinct texts: 10 per citizen, with room for
    # the skill labels that repeat more as the population grows.
    assert len(distinct) >= 12 * len(people)
    assert len(distinct) / len(texts) > 0.8  # skill labels repeat; descriptions never
    descriptions = [e.description for person in people for e in person.experiences]
    assert len(set(descriptions)) == len(descriptions)


def test_experience_descriptions_are_20_to_150_words() -> None:
    lengths = [
        len(e.description.split())
        for person in generate_citizens(count=500, seed=5)
        for e in person.experiences
    ]
    assert min(lengths) >= MIN_WORDS
    assert max(lengths) <= MAX_WORDS
    assert 50 <= sum(lengths) / len(lengths) <= 110  # mostly short, some long


def test_same_seed_same_citizens_and_any_slice_alone() -> None:
    first = list(generate_citizens(count=50, seed=11))
    again = list(generate_citizens(count=50, seed=11))
    assert first == again
    assert next(generate_citizens(count=1, seed=11, start=37)) == first[37]
    other = list(generate_citizens(count=50, seed=12))
    assert {p.id for p in first}.isdisjoint({p.id for p in other})
    assert first[0].evidence_texts() != other[0].evidence_texts()


def test_texts_are_what_the_matcher_embeds() -> None:
    person = citizen(4, seed=2)
    experiences = [t for kind, t in person.evidence() if kind == "experience"]
    assert experiences == [_join(e.title, e.description) for e in person.experiences]
    assert all(len(label) <= 200 for label, _ in person.skills)  # the profiles API's limits
    assert all(len(role) <= 200 for role in person.roles)


def test_calls_are_fresh() -> None:
    calls = [call_text(n, seed=1) for n in range(300)]
    assert len({description for _, description, _ in calls}) == 300

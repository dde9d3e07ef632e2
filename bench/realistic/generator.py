"""Seeded, reproducible realistic citizens: varied free-text evidence.

Each citizen has one or two domains (transport, care, housing, ...) and, drawn from
``vocabulary``:

- 3-6 skills: ESCO-like phrases with an optional prefix, context and years
  ("specialist junction design in rural areas (6 years)"), with a level;
- 1-3 lived-experience roles in their own words ("council tenant in Salford for five years");
- 8-11 experience descriptions of 20-150 words, composed from an opening and further
  sentences with many slots (occupation, organisation, place, topic, audience, outcome...),
  so two citizens almost never write the same text.

Citizen ``i`` of seed ``s`` depends only on (s, i): any slice can be generated alone, in any
order, and the same seed always gives the same texts.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from bench.realistic import vocabulary as v

DOMAINS = list(v.SKILLS)
LEVELS = ("want_to_learn", "can_explain", "can_connect", "can_do")
MIN_WORDS, MAX_WORDS = 20, 150


@dataclass(frozen=True, slots=True)
class Experience:
    title: str
    description: str


@dataclass(frozen=True, slots=True)
class RealisticCitizen:
    number: int
    id: uuid.UUID
    domains: tuple[str, ...]
    place: str
    skills: list[tuple[str, str]] = field(default_factory=list)  # (label, level)
    roles: list[str] = field(default_factory=list)
    experiences: list[Experience] = field(default_factory=list)

    def evidence(self) -> list[tuple[str, str]]:
        """(kind, text) the matcher embeds for this citizen: skill labels, role labels, and
        each experience as its title and description, joined as the matcher joins a badge's
        name and description (convene_matcher.evidence.items: parts without a final dot)."""
        return [
            *(("skill", label) for label, _ in self.skills),
            *(("role", role) for role in self.roles),
            *(("experience", f"{e.title}. {e.description.rstrip('.')}") for e in self.experiences),
        ]

    def evidence_texts(self) -> list[str]:
        return [text for _, text in self.evidence()]


def _pick(rng: random.Random, domain: str, lists: dict[str, list[str]]) -> str:
    # Mostly the citizen's domain, sometimes any other: people's lives cross domains.
    if rng.random() < 0.15:
        domain = rng.choice(DOMAINS)
    return rng.choice(lists[domain])


def _skill(rng: random.Random, domain: str) -> str:
    phrase = _pick(rng, domain, v.SKILLS)
    label = f"{rng.choice(v.SKILL_PREFIXES)}{phrase}"
    if rng.random() < 0.55:
        label = f"{label} {rng.choice(v.SKILL_CONTEXTS)}"
    if rng.random() < 0.35:
        years = rng.randint(1, 30)
        label = f"{label} ({years} year{'s' if years > 1 else ''})"
    return label[0].upper() + label[1:]


def _role(rng: random.Random, domain: str, place: str) -> str:
    role = _pick(rng, domain, v.LIVED_ROLES)
    shape = rng.random()
    if shape < 0.35:
        text = f"{role} in {place}"
    elif shape < 0.6:
        text = f"{role} {rng.choice(v.DURATIONS)}"
    elif shape < 0.75:
        text = f"{role} near {rng.choice(v.PLACE_FEATURES)} in {place}"
    else:
        text = role
    return text[0].upper() + text[1:]


class _Slots(dict[str, str]):
    """Template slots drawn lazily, so only the slots a template uses cost anything."""

    def __init__(self, rng: random.Random, domain: str, place: str) -> None:
        super().__init__()
        self.rng, self.domain, self.place = rng, domain, place

    def __missing__(self, key: str) -> str:
        rng, domain = self.rng, self.domain
        value: str
        if key in ("topic", "topic2", "skill", "skill2"):
            lists = v.TOPICS if key.startswith("topic") else v.SKILLS
            value = _pick(rng, domain, lists)
            for _ in range(3):  # "X and X" reads badly: the second differs from the first
                if not key.endswith("2") or value != self.get(key[:-1]):
                    break
                value = _pick(rng, domain, lists)
        elif key == "occupation":
            value = _pick(rng, domain, v.OCCUPATIONS)
        elif key == "lived":
            value = _pick(rng, domain, v.LIVED_ROLES)
        elif key == "place":
            value = self.place if rng.random() < 0.7 else rng.choice(v.PLACES)
        elif key == "place2":
            value = rng.choice(v.PLACES)
        elif key == "level":
            value = rng.choice(v.LEVEL_PHRASES).format_map(self)
        elif key == "activity":
            value = rng.choice(v.ACTIVITIES)
        elif key == "activity_past":
            value = rng.choice(v.ACTIVITIES)
        elif key == "project":
            value = rng.choice(v.PROJECTS).format(topic=self["topic"])
            del self["topic"]  # the next sentence may name another topic
        elif key == "duration":
            value = rng.choice(v.DURATIONS)
        elif key == "duration_cap":
            duration = rng.choice(v.DURATIONS)
            value = duration[0].upper() + duration[1:] + ","
        elif key == "insight":
            value = rng.choice(v.INSIGHTS).format_map(self)
        else:
            lists = {
                "organisation": v.ORGANISATIONS,
                "audience": v.AUDIENCES,
                "outcome": v.OUTCOMES,
                "feeling": v.FEELINGS,
                "feature": v.PLACE_FEATURES,
            }
            value = rng.choice(lists[key])
        self[key] = value
        return value


def _sentence(template: str, slots: _Slots) -> str:
    text = template.format_map(slots)
    for key in ("activity", "audience", "organisation", "outcome", "duration", "place2"):
        slots.pop(key, None)  # redrawn per sentence: variety inside one description
    return text[0].upper() + text[1:]


def _experience(rng: random.Random, domain: str, place: str) -> Experience:
    slots = _Slots(rng, domain, place)
    target = round(rng.triangular(MIN_WORDS, MAX_WORDS, 55))
    sentences = [_sentence(rng.choice(v.OPENINGS), slots)]
    words = len(sentences[0].split())
    pool = list(v.SENTENCES)
    rng.shuffle(pool)
    while words < target:
        if not pool:
            pool = list(v.SENTENCES)
            rng.shuffle(pool)
        sentence = _sentence(pool.pop(), slots)
        length = len(sentence.split())
        if words + length > MAX_WORDS:
            break
        sentences.append(sentence)
        words += length
    while words < MIN_WORDS:  # a rare short draw: add short sentences until long enough
        sentence = _sentence("{feeling} {insight}.", slots)
        sentences.append(sentence)
        words += len(sentence.split())
    title = f"{slots['occupation'] if 'occupation' in slots else _pick(rng, domain, v.OCCUPATIONS)}"
    topic = slots.get("topic") or _pick(rng, domain, v.TOPICS)
    return Experience(
        title=f"{title[0].upper()}{title[1:]}: {topic}", description=" ".join(sentences)
    )


def citizen(number: int, *, seed: int) -> RealisticCitizen:
    """Citizen ``number`` (0-based) of the population of ``seed``."""
    rng = random.Random(f"convene-realistic:{seed}:{number}")
    domains = [rng.choice(DOMAINS)]
    if rng.random() < 0.35:
        domains.append(rng.choice(DOMAINS))
    place = rng.choice(v.PLACES)
    skills: dict[str, str] = {}
    for _ in range(rng.randint(3, 6)):
        label = _skill(rng, rng.choice(domains))
        skills.setdefault(label, rng.choices(LEVELS, weights=[2, 4, 2, 5])[0])
    roles = list(
        dict.fromkeys(_role(rng, rng.choice(domains), place) for _ in range(rng.randint(1, 3)))
    )
    experiences = [_experience(rng, rng.choice(domains), place) for _ in range(rng.randint(8, 11))]
    return RealisticCitizen(
        number=number,
        id=uuid.UUID(int=rng.getrandbits(128), version=4),
        domains=tuple(domains),
        place=place,
        skills=list(skills.items()),
        roles=roles,
        experiences=experiences,
    )


def generate_citizens(*, count: int, seed: int, start: int = 0) -> Iterator[RealisticCitizen]:
    for number in range(start, start + count):
        yield citizen(number, seed=seed)


def call_text(number: int, *, seed: int) -> tuple[str, str, list[str]]:
    """A fresh call for public input: (title, description, skill labels), never repeated
    for distinct numbers (the description names several slots)."""
    rng = random.Random(f"convene-realistic-call:{seed}:{number}")
    domain = rng.choice(DOMAINS)
    slots = _Slots(rng, domain, rng.choice(v.PLACES))
    topic = slots["topic"]
    title = f"{topic[0].upper()}{topic[1:]} in {slots['place']}"
    description = (
        f"We are reviewing {topic} and {slots['topic2']} in {slots['place']} "
        f"and want to hear from {slots['audience']} and from people with experience of "
        f"{slots['skill']}. Call {number}: {rng.choice(v.INSIGHTS).format_map(slots)}."
    )
    skills = list(dict.fromkeys(_pick(rng, domain, v.SKILLS) for _ in range(rng.randint(1, 3))))
    return title, description, [s[0].upper() + s[1:] for s in skills]

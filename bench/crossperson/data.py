"""A Stack Exchange site as a cross-person routing task, split in time.

People are answerers. Answers created before the cut-off are a person's evidence (question
title + answer text); questions created at or after it are the calls; a call's targets are
its answerers among the people: the *best answerer* (the accepted answer's author when they
are one of the people, else the author of the best-scored answer among the people; ties to
the earlier answer) and the *relevant set* (every answerer among the people). Only answerers
with at least ``min_answers`` earlier answers are people (nobody can route to someone with no
record), and a call counts only when at least one of its answerers is a person.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def plain_text(body_html: str) -> str:
    """Posts' bodies are HTML: tags dropped, entities decoded, white space collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", body_html))).strip()


@dataclass(frozen=True, slots=True)
class Question:
    id: int
    title: str
    body: str
    created: datetime
    accepted_answer_id: int | None


@dataclass(frozen=True, slots=True)
class Answer:
    id: int
    question_id: int
    author: str
    body: str
    score: int
    created: datetime


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    questions: dict[int, Question]
    answers: list[Answer]


def parse_posts(xml: bytes | str, *, name: str = "site") -> Site:
    """Questions and answers (with an author) of a Posts.xml; other post types are skipped."""
    root = ET.fromstring(xml)
    questions: dict[int, Question] = {}
    answers: list[Answer] = []
    for row in root.iter("row"):
        kind = row.get("PostTypeId")
        created = datetime.fromisoformat(row.get("CreationDate", "1970-01-01T00:00:00"))
        if kind == "1":
            accepted = row.get("AcceptedAnswerId")
            questions[int(row.get("Id", "0"))] = Question(
                id=int(row.get("Id", "0")),
                title=html.unescape(row.get("Title", "")).strip(),
                body=plain_text(row.get("Body", "")),
                created=created,
                accepted_answer_id=int(accepted) if accepted else None,
            )
        elif kind == "2" and row.get("OwnerUserId") and row.get("ParentId"):
            answers.append(
                Answer(
                    id=int(row.get("Id", "0")),
                    question_id=int(row.get("ParentId", "0")),
                    author=row.get("OwnerUserId", ""),
                    body=plain_text(row.get("Body", "")),
                    score=int(row.get("Score", "0")),
                    created=created,
                )
            )
    answers = [a for a in answers if a.question_id in questions]
    answers.sort(key=lambda a: (a.created, a.id))
    return Site(name=name, questions=questions, answers=answers)


def load_site(folder: Path) -> Site:
    return parse_posts((folder / "Posts.xml").read_bytes(), name=folder.name)


@dataclass(frozen=True, slots=True)
class Evidence:
    """One earlier answer as a person's experience entry."""

    answer_id: int
    title: str  # the question's title
    text: str  # the answer
    created: datetime
    score: int


@dataclass(frozen=True, slots=True)
class Call:
    question_id: int
    title: str
    body: str
    created: datetime
    best: str  # the best answerer (a person)
    relevant: frozenset[str]  # every answerer who is a person


@dataclass(slots=True)
class Split:
    site: str
    cutoff: datetime
    min_answers: int
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)  # person -> answers
    calls: list[Call] = field(default_factory=list)

    @property
    def people(self) -> list[str]:
        return sorted(self.evidence)


def cut(text: str, limit: int | None) -> str:
    """``text``'s first ``limit`` characters, cut back to a word boundary."""
    if limit is None or len(text) <= limit:
        return text
    head = text[:limit]
    return head.rsplit(" ", 1)[0] if " " in head else head


def cutoff_at(site: Site, *, fraction: float) -> datetime:
    """The creation time before which ``fraction`` of the site's answers were written."""
    times = [a.created for a in site.answers]
    return times[min(len(times) - 1, int(fraction * len(times)))]


def split_site(
    site: Site,
    *,
    cutoff: datetime,
    min_answers: int,
    max_answers_per_person: int | None = None,
    answer_chars: int | None = None,
) -> Split:
    """Evidence before ``cutoff`` for answerers with at least ``min_answers`` earlier answers
    (their latest ``max_answers_per_person`` when bounded; each answer's first
    ``answer_chars`` characters, cut at a word, when bounded), and the later questions they
    answered as calls."""
    earlier = [
        a
        for a in site.answers
        if a.created < cutoff and site.questions[a.question_id].created < cutoff
    ]
    counts = Counter(a.author for a in earlier)
    people = {author for author, n in counts.items() if n >= min_answers}
    split = Split(site=site.name, cutoff=cutoff, min_answers=min_answers)
    for answer in earlier:
        if answer.author in people:
            split.evidence.setdefault(answer.author, []).append(
                Evidence(
                    answer_id=answer.id,
                    title=site.questions[answer.question_id].title,
                    text=cut(answer.body, answer_chars),
                    created=answer.created,
                    score=answer.score,
                )
            )
    if max_answers_per_person is not None:
        for person, items in split.evidence.items():
            split.evidence[person] = items[-max_answers_per_person:]
    by_question: dict[int, list[Answer]] = {}
    for answer in site.answers:
        by_question.setdefault(answer.question_id, []).append(answer)
    for question in sorted(site.questions.values(), key=lambda q: (q.created, q.id)):
        if question.created < cutoff:
            continue
        answered = [a for a in by_question.get(question.id, []) if a.author in people]
        if not answered:
            continue
        accepted = [a for a in answered if a.id == question.accepted_answer_id]
        best = accepted[0] if accepted else max(answered, key=lambda a: (a.score, -a.id))
        split.calls.append(
            Call(
                question_id=question.id,
                title=question.title,
                body=question.body,
                created=question.created,
                best=best.author,
                relevant=frozenset(a.author for a in answered),
            )
        )
    return split

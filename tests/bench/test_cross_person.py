"""The cross-person benchmark's split and metrics (bench/crossperson) on a tiny Posts.xml."""

from __future__ import annotations

from datetime import datetime

import pytest

from bench.crossperson.baselines import BM25, popularity
from bench.crossperson.data import cut, cutoff_at, parse_posts, plain_text, split_site
from bench.crossperson.metrics import figures, rank_of, relative_margin
from scripts.xbench.fetch_stackexchange import EXCLUDED_SITES, SOURCES, licences

# Users 7 and 8 answer twice before 2020-02-01, user 9 once; question 5 comes after.
POSTS = """<?xml version="1.0" encoding="utf-8"?>
<posts>
  <row Id="1" PostTypeId="1" CreationDate="2020-01-01T10:00:00.000" Score="3"
       Title="How do I true a bicycle wheel?" Body="&lt;p&gt;My wheel wobbles.&lt;/p&gt;"
       AcceptedAnswerId="2" OwnerUserId="1" />
  <row Id="2" PostTypeId="2" ParentId="1" CreationDate="2020-01-01T11:00:00.000" Score="1"
       Body="&lt;p&gt;Tighten the &lt;b&gt;spokes&lt;/b&gt; on the side it rubs.&lt;/p&gt;"
       OwnerUserId="7" />
  <row Id="3" PostTypeId="2" ParentId="1" CreationDate="2020-01-01T12:00:00.000" Score="5"
       Body="&lt;p&gt;Use a truing stand and a spoke key.&lt;/p&gt;" OwnerUserId="8" />
  <row Id="4" PostTypeId="1" CreationDate="2020-01-05T10:00:00.000" Score="1"
       Title="Which chain lube for winter?" Body="&lt;p&gt;Salt everywhere.&lt;/p&gt;"
       OwnerUserId="2" />
  <row Id="6" PostTypeId="2" ParentId="4" CreationDate="2020-01-05T11:00:00.000" Score="2"
       Body="&lt;p&gt;A wet lube for winter chains.&lt;/p&gt;" OwnerUserId="7" />
  <row Id="10" PostTypeId="2" ParentId="4" CreationDate="2020-01-06T11:00:00.000" Score="0"
       Body="&lt;p&gt;Wax the chain.&lt;/p&gt;" OwnerUserId="8" />
  <row Id="11" PostTypeId="2" ParentId="4" CreationDate="2020-01-07T11:00:00.000" Score="0"
       Body="&lt;p&gt;Ceramic lube.&lt;/p&gt;" OwnerUserId="9" />
  <row Id="5" PostTypeId="1" CreationDate="2020-02-02T10:00:00.000" Score="1"
       Title="Spoke tension for a wobbly wheel" Body="&lt;p&gt;How tight?&lt;/p&gt;"
       AcceptedAnswerId="12" OwnerUserId="3" />
  <row Id="12" PostTypeId="2" ParentId="5" CreationDate="2020-02-02T11:00:00.000" Score="1"
       Body="&lt;p&gt;Even tension.&lt;/p&gt;" OwnerUserId="7" />
  <row Id="13" PostTypeId="2" ParentId="5" CreationDate="2020-02-02T12:00:00.000" Score="4"
       Body="&lt;p&gt;Pluck them.&lt;/p&gt;" OwnerUserId="8" />
  <row Id="14" PostTypeId="2" ParentId="5" CreationDate="2020-02-03T12:00:00.000" Score="9"
       Body="&lt;p&gt;Tensiometer.&lt;/p&gt;" OwnerUserId="9" />
  <row Id="15" PostTypeId="1" CreationDate="2020-02-04T10:00:00.000" Score="1"
       Title="Unanswered by anyone we know" Body="" OwnerUserId="3" />
  <row Id="16" PostTypeId="2" ParentId="15" CreationDate="2020-02-04T11:00:00.000" Score="1"
       Body="&lt;p&gt;A newcomer.&lt;/p&gt;" OwnerUserId="42" />
  <row Id="18" PostTypeId="1" CreationDate="2020-02-05T10:00:00.000" Score="1"
       Title="Winter chain wax" Body="" OwnerUserId="3" />
  <row Id="19" PostTypeId="2" ParentId="18" CreationDate="2020-02-05T11:00:00.000" Score="0"
       Body="&lt;p&gt;Hot wax.&lt;/p&gt;" OwnerUserId="7" />
  <row Id="20" PostTypeId="2" ParentId="18" CreationDate="2020-02-05T12:00:00.000" Score="3"
       Body="&lt;p&gt;Drip wax.&lt;/p&gt;" OwnerUserId="8" />
  <row Id="21" PostTypeId="2" ParentId="18" CreationDate="2020-02-05T13:00:00.000" Score="7"
       Body="&lt;p&gt;Paraffin.&lt;/p&gt;" OwnerUserId="9" />
  <row Id="17" PostTypeId="5" CreationDate="2020-01-01T10:00:00.000" Body="tag wiki" />
</posts>
"""
CUTOFF = datetime(2020, 2, 1)


def test_posts_parse_to_plain_text_questions_and_authored_answers() -> None:
    site = parse_posts(POSTS)
    assert sorted(site.questions) == [1, 4, 5, 15, 18]
    assert [a.id for a in site.answers] == [2, 3, 6, 10, 11, 12, 13, 14, 16, 19, 20, 21]
    assert site.answers[0].body == "Tighten the spokes on the side it rubs."
    assert site.questions[1].accepted_answer_id == 2
    assert plain_text("<p>a &amp; b</p>\n<p>c</p>") == "a & b c"


def test_split_keeps_people_with_enough_earlier_answers_and_later_questions_as_calls() -> None:
    split = split_site(parse_posts(POSTS), cutoff=CUTOFF, min_answers=2)
    assert split.people == ["7", "8"]  # 9 answered once before the cut-off, 42 never
    assert [e.answer_id for e in split.evidence["7"]] == [2, 6]
    assert split.evidence["7"][0].title == "How do I true a bicycle wheel?"
    assert all(e.created < CUTOFF for entries in split.evidence.values() for e in entries)
    # Question 15's only answerer is nobody we know: not a call.
    assert [c.question_id for c in split.calls] == [5, 18]
    assert split.calls[0].relevant == frozenset({"7", "8"})


def test_the_best_answerer_is_the_accepted_one_else_the_best_scored_person() -> None:
    five, eighteen = split_site(parse_posts(POSTS), cutoff=CUTOFF, min_answers=2).calls
    assert five.best == "7"  # accepted, although 8's and 9's answers scored higher
    # No accepted answer: 9 scored best but is not a person, so the best-scored person.
    assert eighteen.best == "8"


def test_the_cutoff_splits_answers_by_their_share_and_caps_evidence() -> None:
    site = parse_posts(POSTS)
    assert cutoff_at(site, fraction=0.5) == site.answers[6].created  # 6 of 12 before it
    split = split_site(site, cutoff=CUTOFF, min_answers=2, max_answers_per_person=1)
    assert [e.answer_id for e in split.evidence["8"]] == [10]  # the latest one kept
    assert cut("Tighten the spokes", 12) == "Tighten the"
    assert cut("short", 12) == "short"
    bounded = split_site(site, cutoff=CUTOFF, min_answers=2, answer_chars=12)
    assert bounded.evidence["7"][0].text == "Tighten the"


def test_recall_and_mrr_of_the_best_answerer() -> None:
    rankings = [["a", "b", "c"], ["c", "b"], ["x"] * 10 + ["a"]]
    result = figures(
        rankings, ["a", "b", "a"], [frozenset({"a"}), frozenset({"b", "c"}), frozenset({"a"})]
    )
    assert result.calls == 3
    assert result.recall_at_10 == pytest.approx(2 / 3)
    assert result.recall_at_50 == 1.0
    assert result.mrr == pytest.approx((1 + 1 / 2 + 1 / 11) / 3)
    assert result.any_relevant_at_10 == pytest.approx(2 / 3)
    assert rank_of("z", ["a"]) is None
    assert figures([["a"]], ["z"], [frozenset({"z"})]).mrr == 0.0
    assert relative_margin(0.55, 0.5) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="one ranking"):
        figures([["a"]], [], [])


def test_baselines_rank_by_words_and_by_activity() -> None:
    split = split_site(parse_posts(POSTS), cutoff=CUTOFF, min_answers=1)
    assert popularity(split.evidence)[:2] == ["7", "8"]  # two answers each, then 9
    bm25 = BM25({"wheel": "spoke wheel truing stand", "chain": "chain lube wax winter"})
    assert bm25.rank("winter chain") == ["chain", "wheel"]
    assert bm25.rank("spoke") == ["wheel", "chain"]


def test_sources_skip_the_sites_kept_for_the_outside_check_and_licences_follow_dates() -> None:
    assert not {s.site for s in SOURCES} & EXCLUDED_SITES
    rows = (
        b'<posts><row Id="1" CreationDate="2018-05-01T00:00:00" />'
        b'<row Id="2" CreationDate="2018-05-02T00:00:00" />'
        b'<row Id="3" CreationDate="2010-01-01T00:00:00" ContentLicense="CC BY-SA 2.5" /></posts>'
    )
    assert licences(rows) == {"CC BY-SA 2.5": 1, "CC BY-SA 3.0": 1, "CC BY-SA 4.0": 1}

"""The matcher's mirror of citizens' matchable state (from the profiles change feed)."""

from convene_matcher.citizens.schemas import Change, ChangePage, MatchSnapshot
from convene_matcher.citizens.store import CitizenRecord, CitizenStore, UpsertResult

__all__ = ["Change", "ChangePage", "CitizenRecord", "CitizenStore", "MatchSnapshot", "UpsertResult"]

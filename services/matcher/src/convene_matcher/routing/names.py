"""Normalised names: how call roles, citizens' roles and organisations are compared.

- Roles: case-folded, ``-``/``_`` read as spaces, whitespace collapsed, so the call's
  "Cab driver" matches a citizen's curated slug ``cab-driver`` or label "Cab driver".
- Organisations: the same, plus punctuation dropped and one trailing legal form removed
  ("Metro Cabs Ltd" = "metro cabs limited" = "METRO CABS").
"""

from __future__ import annotations

import re

# A perspective with this role admits the posting body's own staff (employer affiliation
# matching the body's name); its max bounds how many may join. Without it they are excluded.
BODY_STAFF_ROLE = "body staff"

_SEPARATORS = re.compile(r"[-_\s]+")
_PUNCTUATION = re.compile(r"[^\w\s]+")
_LEGAL_FORMS = ("ltd", "limited", "plc", "llp", "inc", "co", "cic", "llc", "gmbh")


def role_key(name: str) -> str:
    return _SEPARATORS.sub(" ", name.casefold()).strip()


def organisation_key(name: str) -> str:
    words = _SEPARATORS.sub(" ", _PUNCTUATION.sub(" ", name.casefold())).split()
    if len(words) > 1 and words[-1] in _LEGAL_FORMS:
        words = words[:-1]
    return " ".join(words)

"""Contributions: what an accepted invitee writes in answer to the call's questions.

- ``router.py`` internal routes: the citizen submits (create or replace), reads and
  withdraws their contribution; the body lists its call's contributions.
- ``service.py`` the rules (accepted invitations only, the call's own questions, editable
  until the deadline and until rated; one transaction each).
- ``repository.py`` every SQL statement on ``contribution``.

A body's rating of a contribution (``invitations.rating``) sends the contribution's text to
the profiles ratings ledger, from where it comes back on the change feed as evidence.
"""

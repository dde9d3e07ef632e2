"""Invitations: from a call's panel (or chosen refs) to the citizen's answer and back.

- ``router.py`` internal routes the gateway calls (body: invite, list, withdraw, rate, close,
  stats; citizen: list, read with "why you", accept, decline, undo). Thin: typed
  dependencies (``dependencies.py``) in, one rule module's function called.
- ``inviting.py`` inviting a panel or refs (re-checks, caps, hours, idempotency).
- ``answers.py`` accept, decline, undo, follow the outcome (declined citizens).
- ``closing.py`` withdrawing one invitation, closing a call with its outcome (citing
  contributions; declined citizens who asked are told too).
- ``rating.py`` a body rates a submitted contribution (its text to the profiles ratings
  ledger, from where it returns on the feed as evidence). The contribution itself (answers,
  comment) is ``convene_matcher.contributions``.
- ``throttle.py`` a body's figures and the throttle on bodies nobody answers.
- ``views.py`` read models (body's view, citizen's view with "why you", tiers) and reads.
- ``events.py`` the emails and webhooks a change enqueues (the transactional outbox).
- ``repository.py`` every SQL statement on invitation, invitation_request,
  contribution_rating and call_outcome; typed rows (``InvitationRow``, ``CallRow``,
  ``MatchRow``).

Each write is ONE transaction that also records exposure (``exposure.repository``) and
enqueues the notifications, so nothing is sent for a change that did not commit and nothing
committed goes unsent. The exposure ledger and its figures live in ``convene_matcher.exposure``.
"""

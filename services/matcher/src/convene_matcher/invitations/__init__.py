"""Invitations: from a call's panel (or chosen refs) to the citizen's answer and back.

- ``router.py`` internal routes the gateway calls (body: invite, list, rate, close, stats;
  citizen: list, read with "why you", accept, decline, undo; admin: exposure figures).
- ``service.py`` the rules; each write is ONE transaction that also records exposure and
  enqueues the notifications (``notifications.repository.enqueue``), so nothing is sent for a
  change that did not commit and nothing committed goes unsent.
- ``repository.py`` every SQL statement on invitation, invitation_request,
  contribution_rating, call_outcome and evidence_feedback.
- ``figures.py`` pure functions: Gini, top-5% share, median.
- ``feedback.py`` the "not my expertise" damping routing applies per (citizen, evidence text).
"""

"""The exposure ledger: who was invited, by whom, when; and what that concentration looks like.

- ``repository.py`` every SQL statement on ``exposure`` and ``evidence_feedback`` reads:
  recording an invitation, counts in a window (this month, the damping window), "not my
  expertise" feedback counts, accepted hours in a month, and the figures' inputs.
- ``window.py`` the month window (UTC calendar month) shared by caps and hours.
- ``capacity.py`` pure: does a call's hours fit a citizen's ``hours_per_month``?
- ``figures.py`` pure: Gini, top-5% share, new-voices share.
- ``feedback.py`` pure: the "not my expertise" damping routing applies.
- ``service.py`` / ``router.py`` the admin figures (``GET /v1/exposure``).
"""

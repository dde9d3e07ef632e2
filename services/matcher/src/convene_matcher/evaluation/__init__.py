"""Offline evaluation of matching configurations, run as background jobs.

- ``history``: replays labelled calls (invitation answers and ratings; the demo history
  generator's simulated ones) through routing under a configuration and the active one.
- ``goldstandard``: the external gold-standard benchmark, in-process, through the affinity
  rule under a configuration's scoring knobs.
- the seeded generator of simulated answers and ratings for ``make run`` lives outside the
  service, in ``scripts/demo/history.py``.
"""

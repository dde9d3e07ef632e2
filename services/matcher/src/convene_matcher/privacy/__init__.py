"""What the matcher holds about a citizen: export it (GDPR access) and erase it (erasure).

- ``repository.py`` every SQL statement of both: the export reads and the erasure deletes
  over every matcher table that can hold a citizen's id or their texts.
- ``service.py`` / ``router.py`` the internal export route the gateway's
  ``GET /v1/me/export`` includes.

Erasure runs from the change feed (``index.service.EvidenceService.apply_changes``) before the
store and index forget the citizen, so a failure leaves everything at the previous seq.
"""

"""Notifications: a transactional outbox and the process that sends it.

- ``repository.py`` every SQL statement on notification (the outbox), notification_delivery
  (one row per attempt) and webhook_endpoint.
- ``webhooks.py`` endpoint URL validation (no private/loopback targets outside development),
  secrets (``whsec_``), Standard Webhooks signing.
- ``messages.py`` what an outbox row becomes: an email (Message-ID = delivery id) or a
  webhook body; built at send time from ids, so the outbox holds no personal data.
- ``worker.py`` ``python -m convene_matcher.notifications.worker``: claims one due row at a
  time with ``SELECT ... FOR UPDATE SKIP LOCKED`` (several sender tasks, disjoint rows),
  sends it, and marks it sent in the SAME transaction right after the receiver accepted it;
  failures retry with exponential backoff and full jitter, dead after ``max_attempts``.
  Also enqueues the one reminder per pending invitation before its call's deadline.
- ``service.py`` / ``router.py`` the webhook endpoint of a body (PUT, secret shown once) and
  the admins' dead-letter list.
"""

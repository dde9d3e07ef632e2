"""Account emails (verification, password reset, staff invitation, address change): built
here, queued in the matcher's notification outbox, sent by its worker."""

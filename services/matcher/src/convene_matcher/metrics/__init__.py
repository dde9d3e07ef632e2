"""The matcher's own metrics: change-feed lag, index, embedding queue, outbox, invitations."""

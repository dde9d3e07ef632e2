"""Routing batches: admins (any calls, or a body's open calls) and public bodies (their own
open calls) get panels for many calls solved together under every citizen's monthly cap,
forwarded to the matcher; nothing is sent (inviting stays an explicit step)."""

"""Accounts: the gateway's identities (citizens and admins)."""

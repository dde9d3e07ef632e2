"""The append-only audit log of sensitive acts (ids only, never personal data)."""

"""Calls for expertise, posted by public bodies through the gateway (internal API)."""

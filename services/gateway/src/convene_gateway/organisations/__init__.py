"""Organisations (public bodies) and their API keys."""

"""Typed clients of the services the matcher calls."""

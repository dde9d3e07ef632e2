"""Typed HTTP clients for the services behind the gateway."""

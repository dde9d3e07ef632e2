"""Convene matcher service."""

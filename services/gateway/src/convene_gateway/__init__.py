"""Convene gateway service."""

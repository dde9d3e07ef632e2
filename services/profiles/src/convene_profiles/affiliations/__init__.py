"""Affiliations."""

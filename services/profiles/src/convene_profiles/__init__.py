"""Convene profiles service."""

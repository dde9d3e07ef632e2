"""Routing a call: retrieval, hard filters, weighted score, panel selection, explanations."""

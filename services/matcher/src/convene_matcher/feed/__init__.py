"""Tailing the profiles change feed into the EvidenceService."""

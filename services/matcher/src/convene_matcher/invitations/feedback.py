"""Moved to ``convene_matcher.exposure.feedback``; kept so routing's import keeps working
until routing imports the exposure room directly."""

from convene_matcher.exposure.feedback import DAMPING, MAX_DECLINES, damped, evidence_factor

__all__ = ["DAMPING", "MAX_DECLINES", "damped", "evidence_factor"]

"""Panel selection under role quotas and affiliation caps (see ``selection``)."""

from convene_matcher.panel.selection import (
    PanelCandidate,
    PanelResult,
    Quota,
    affiliation_cap,
    select_panel,
)

__all__ = ["PanelCandidate", "PanelResult", "Quota", "affiliation_cap", "select_panel"]

"""Experience entries in the citizen's own words."""

"""GET /v1/roles: the curated roles, for staff, citizens and bodies' systems."""

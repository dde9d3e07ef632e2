"""Members of organisations (managers and officers): invitation by email, joining, roles."""

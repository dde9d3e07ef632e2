"""Admin routes: versioned matching configurations (create, preview, activate, roll back)
and offline evaluation jobs, forwarded to the matcher."""

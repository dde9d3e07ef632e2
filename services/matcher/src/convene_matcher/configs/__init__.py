"""Versioned matching configurations: create (immutable, numbered), list, activate, roll back,
preview on a real call; ``active_matching_config`` is what routing uses."""

"""Citizens."""

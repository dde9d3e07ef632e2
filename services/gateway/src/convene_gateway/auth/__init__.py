"""Authentication: passwords, bearer tokens, API keys and the principal dependencies."""

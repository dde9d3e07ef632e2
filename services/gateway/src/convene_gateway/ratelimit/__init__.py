"""Rate limits: token buckets per client address, API key and account, shared by every
gateway replica in PostgreSQL (or per process)."""

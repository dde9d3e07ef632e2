"""Rate limits: in-process token buckets per client address, API key and account."""

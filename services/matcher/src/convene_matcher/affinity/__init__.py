"""POST /v1/affinity: how well one person's evidence matches each of several texts."""

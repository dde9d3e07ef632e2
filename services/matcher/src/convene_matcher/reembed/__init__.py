"""Blue/green re-embedding: every distinct evidence text embedded with a new model version
beside the old vectors (on Ray Data), a new index built aside, then one atomic switch."""

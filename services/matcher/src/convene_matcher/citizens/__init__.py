"""The matcher's mirror of citizens' matchable state (schemas: the feed; store: the mirror)."""

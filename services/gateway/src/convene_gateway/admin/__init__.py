"""Admin routes forwarded to profiles: curated roles, badge issuers, the change feed."""

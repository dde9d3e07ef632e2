"""Convene matcher service.

Layout (one folder per domain):

- ``config.py`` MatcherSettings (CONVENE_MATCHER_*); ``errors.py`` MatcherError and subclasses.
- ``embedding/`` Embedder: text -> unit float32 vectors, one bounded worker, memory + PostgreSQL
  cache (table ``embedding_cache``) keyed by (model, sha256 of the normalised text).
- ``citizens/`` the change-feed schemas (MatchSnapshot, Change) and CitizenStore, the in-memory
  mirror routing filters on (never call profiles while routing).
- ``evidence/`` evidence items: one per skill / badge / role; one per passage of each
  experience entry and of each rated contribution's text.
- ``contributions/`` an accepted invitee's answers (submit, replace, withdraw; the body's
  list under the ref).
- ``index/`` EvidenceIndex (FAISS: exact flat up to a threshold, HNSW beyond), snapshots of
  index + store under one seq, EvidenceService (keeps embedder, store and index in step;
  ``EvidenceDep``), GET /v1/index/status, POST /v1/index/rebuild.
- ``feed/`` FeedConsumer tailing profiles' GET /v1/changes in the lifespan.
- ``clients/`` the one typed profiles client (feed, ratings, the worker's email lookup).
- ``dependencies.py`` MatcherState (what the lifespan builds) and the ``...Dep`` aliases
  routers take (PoolDep, EvidenceDep, StoreDep, EmbedderDep, SettingsDep, ...).
- ``scoring/`` MatchingConfig and the relevance rule shared by routing and /v1/affinity.
- ``affinity/`` POST /v1/affinity (the gold-standard contract).

Routing builds on: ``evidence: EvidenceDep``; ``q = await evidence.embedder.embed(
[call_text], pool=evidence.pool)``; ``scores, ids = await evidence.search(q, config.
retrieval_depth)``; ``hits = scoring.group_hits(scores[0], ids[0], evidence.store)``;
filter with ``evidence.store.get(citizen_id).snapshot``; rank with
``scoring.citizen_relevance(hits[citizen_id], config=config)`` plus its own terms.
"""

"""Cross-person routing benchmark on public Stack Exchange dumps (docs/benchmarks/).

See docs/benchmarks/cross-person.md.

``data``: parse a site's Posts.xml and split it in time (people = answerers, their earlier
answers = evidence, later questions = calls, true answerers = targets); ``metrics``: R@k and
MRR of the best answerer; ``baselines``: BM25, popularity and plain MiniLM; ``product``: the
matcher's own feed path and routing pipeline, in process.
"""

"""Demo data generators, kept out of the runtime services (no service imports this package).

- ``citizens``: synthetic, reproducible demo citizens written into the profiles database
  (``python -m scripts.demo.citizens --dsn ... --count 2000``);
- ``history``: simulated invitation answers and ratings through the matcher's API
  (``python -m scripts.demo.history --dsn ... --matcher-url ... --profiles-url ...``).

Both run from the repository root (``scripts.suite.run_module`` does).
"""

"""Scripts of the cross-person benchmark (docs/benchmarks/cross-person.md)."""

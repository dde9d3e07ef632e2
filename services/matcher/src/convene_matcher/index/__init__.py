"""The FAISS evidence index, its snapshots and the service that keeps it in step."""

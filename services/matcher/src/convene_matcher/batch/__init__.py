"""Routing many calls at once: panels under per-citizen monthly caps (``solver``), the
candidates of each call from routing's own pipeline (``candidates``), stored batches."""

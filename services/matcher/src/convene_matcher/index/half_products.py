"""Inner products of float32 queries with rows of a float16 table, by ONNX Runtime.

An HNSW index stores its vectors as float16 (IndexParams.hnsw_storage); routing scores the
texts a search did not return exactly, tens of thousands of rows a call. numpy converts
float16 to float32 one element at a time (about 1.4 ns an element here, 21% of routing's
samples at 100,000 citizens); ONNX Runtime's Cast uses the CPU's F16C instructions. One small
graph (Gather, Cast, MatMul) does the gather, the exact conversion and the float32 product
in a quarter of the CPU time (bench/half_products.py measures both). The conversion is
exact, so the products equal numpy's up to float32 summation order (~1e-7).

The session is made once per process, on first use, from a graph built here (no file, no
download); ONNX Runtime's ``run`` is safe to call from several threads at once.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]
Halves = npt.NDArray[np.float16]
Positions = npt.NDArray[np.int64]

# Rows gathered and converted per run: a block's float32 rows stay in the CPU's caches, and
# ONNX Runtime keeps each concurrent run's largest working memory. 27,000 random rows of
# 1,155,343 (one call at 100,000 citizens), 4 queries: 65,536 rows a run 7.12 ms of CPU and
# +94 MB kept; 16,384 7.49 ms; 4,096 5.34 ms, +30 MB; 2,048 3.88 ms, +21 MB; 512 4.42 ms.
BLOCK = 2_048

_session: Any = None
_session_lock = threading.Lock()


def _graph() -> bytes:
    from onnx import TensorProto, helper

    dimension = "dimension"
    graph = helper.make_graph(
        [
            helper.make_node("Gather", ["table", "positions"], ["rows"], axis=0),
            helper.make_node("Cast", ["rows"], ["rows32"], to=TensorProto.FLOAT),
            # (queries, d) x (rows, d)^T: the products come out as (queries, rows).
            helper.make_node("Gemm", ["queries", "rows32"], ["products"], transB=1),
        ],
        "half_products",
        [
            helper.make_tensor_value_info("table", TensorProto.FLOAT16, ["n", dimension]),
            helper.make_tensor_value_info("positions", TensorProto.INT64, ["rows"]),
            helper.make_tensor_value_info("queries", TensorProto.FLOAT, ["q", dimension]),
        ],
        [helper.make_tensor_value_info("products", TensorProto.FLOAT, ["q", "rows"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every ONNX Runtime this project pins or may pin
    serialised: bytes = model.SerializeToString()
    return serialised


def _get_session() -> Any:
    global _session
    with _session_lock:
        if _session is None:
            import onnxruntime

            options = onnxruntime.SessionOptions()
            # One thread: routing runs in a bounded worker pool beside the model and other
            # requests; spinning threads would burn a core another process needs.
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            _session = onnxruntime.InferenceSession(
                _graph(), sess_options=options, providers=["CPUExecutionProvider"]
            )
        return _session


def half_products(table: Halves, positions: Positions, queries: Vectors) -> Vectors:
    """(queries, positions) inner products of ``queries`` with ``table[positions]`` in
    float32. ``table`` is read in place (no copy of the table is made)."""
    if not len(positions) or not len(queries):
        return np.zeros((len(queries), len(positions)), dtype=np.float32)
    if table.ndim != 2 or queries.ndim != 2 or table.shape[1] != queries.shape[1]:
        raise ValueError("table and queries must be 2-D with the same width")
    table = np.ascontiguousarray(table, dtype=np.float16)
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    positions = np.ascontiguousarray(positions, dtype=np.int64)
    session = _get_session()
    # A block of rows at a time: the float32 rows of a whole table would double it.
    parts = [
        session.run(
            ["products"],
            {"table": table, "positions": positions[start : start + BLOCK], "queries": queries},
        )[0]
        for start in range(0, len(positions), BLOCK)
    ]
    result: Vectors = np.asarray(
        parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1), dtype=np.float32
    )
    return result

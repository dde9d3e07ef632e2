"""Embedding backends for one local sentence-transformers folder: torch, or ONNX Runtime.

- ``torch``: sentence-transformers itself (the reference).
- ``onnx``: the same weights exported from the local folder with ``torch.onnx.export`` at
  first use into ``onnx_dir`` (no download, ever), run by ONNX Runtime, with the
  sentence-transformers recipe redone here: the model's own tokenizer (its tokenizer.json,
  truncating at its ``max_seq_length``), mean pooling over the attention mask, L2
  normalisation. Its vectors equal torch's (cosine >= 0.9999,
  tests/matcher/embedding/test_backends.py), so both are one model version (``fp32``) and
  share cached vectors and snapshots. Once exported, serving imports neither torch nor
  transformers (importing transformers imports torch: an idle matcher held 580-592 MB
  with them, 370 MB without).
- ``onnx-int8``: dynamic int8 quantisation is ~2.4x faster per core only on CPUs with
  AVX512-VNNI and its vectors drift (cosine ~0.95, top-10 overlap ~0.91 to fp32): they may
  only generate candidates that fp32 re-scores. In this matcher every vector that is stored
  or compared is fp32: the call is embedded once and scored exactly against the stored fp32
  evidence vectors, so an int8 call vector would have to be embedded a second time in fp32
  for the re-scoring (more work, not less), and int8 evidence vectors would need an fp32
  copy of each anyway. So the setting is accepted, checked against the CPU at start-up, and
  resolved to fp32 ONNX with the reason logged; ``int8_model`` serves the measurement in
  bench/embedding_backends.py.

The model version (``model_fingerprint``) is the model name, a digest of its weights file
and the precision: cached vectors and index snapshots are recorded under it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from collections.abc import Sequence

    from tokenizers import Encoding, Tokenizer

logger = logging.getLogger("convene.matcher.embedding")

Backend = Literal["torch", "onnx", "onnx-int8"]
Precision = Literal["fp32", "int8"]
Vectors = npt.NDArray[np.float32]

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# Bumped when the export below changes: a new file name, never a stale graph.
EXPORT_VERSION = 1
_export_lock = threading.Lock()
# Padded tokens per model call. ONNX Runtime keeps the largest batch's working memory
# (attention grows with texts x length^2), and small batches run faster on this CPU's
# caches. 1,500 realistic descriptions (82 words), one thread, sorted by length: 32 texts a
# batch 66.3 texts/s, +416 MB kept; 2048 tokens 73.9/s, +170 MB; 512 tokens 84.0/s,
# +47 MB; 256 tokens 82.8/s, +37 MB (bench/embedding_batches.py).
DEFAULT_BATCH_TOKENS = 512


def token_batches(
    lengths: Sequence[int], *, batch_size: int, batch_tokens: int
) -> list[tuple[int, int]]:
    """[start, end) runs of consecutive texts: at most ``batch_size`` texts, and at most
    ``batch_tokens`` tokens once padded to the run's longest text (a longer text alone)."""
    runs: list[tuple[int, int]] = []
    start, longest = 0, 0
    for position, length in enumerate(lengths):
        widest = max(longest, length)
        count = position - start + 1
        if position > start and (count > batch_size or widest * count > batch_tokens):
            runs.append((start, position))
            start, widest = position, length
        longest = widest
    if lengths:
        runs.append((start, len(lengths)))
    return runs


def weights_file(model_path: Path) -> Path:
    """The transformer weights of a sentence-transformers folder."""
    for name in WEIGHT_FILES:
        if (model_path / name).is_file():
            return model_path / name
    raise FileNotFoundError(f"no {' or '.join(WEIGHT_FILES)} in {model_path}")


@lru_cache(maxsize=8)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def weights_digest(model_path: Path) -> str:
    """SHA-256 of the weights file (about 0.2 s for MiniLM's 90 MB; cached per process)."""
    path = weights_file(model_path)
    stat = path.stat()
    return _digest(str(path), stat.st_size, stat.st_mtime_ns)


def model_fingerprint(model_name: str, model_path: Path, precision: Precision = "fp32") -> str:
    """The model version every stored vector records: name, weights digest, precision."""
    return f"{model_name}@{weights_digest(model_path)[:16]}/{precision}"


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def int8_supported(flags: set[str] | None = None) -> bool:
    """Dynamic int8 only pays where the CPU has AVX512-VNNI (DESIGN.md: ~2.4x per core)."""
    return "avx512_vnni" in (cpu_flags() if flags is None else flags)


@dataclass(frozen=True, slots=True)
class ResolvedBackend:
    backend: Literal["torch", "onnx"]
    requested: Backend
    reason: str | None = None


def resolve_backend(requested: Backend, *, flags: set[str] | None = None) -> ResolvedBackend:
    """The backend that produces the vectors of record (always fp32), and why if it differs."""
    if requested != "onnx-int8":
        return ResolvedBackend(requested, requested)
    if not int8_supported(flags):
        reason = "the CPU lacks avx512_vnni, where int8 is no faster: fp32 ONNX instead"
    else:
        reason = (
            "int8 vectors may only generate candidates re-scored in fp32, and every vector "
            "this matcher stores or compares is fp32 (the call is embedded once): fp32 ONNX"
        )
    return ResolvedBackend("onnx", requested, reason)


# -- ONNX ------------------------------------------------------------------------------
def _max_seq_length(model_path: Path) -> int:
    config = model_path / "sentence_bert_config.json"
    if config.is_file():
        value = json.loads(config.read_text()).get("max_seq_length")
        if isinstance(value, int):
            return value
    return 512


def _check_recipe(model_path: Path) -> None:
    """Refuses folders whose pipeline is not Transformer -> mean Pooling (-> Normalize)."""
    modules_file = model_path / "modules.json"
    if not modules_file.is_file():
        return
    kinds = [m.get("type", "") for m in json.loads(modules_file.read_text())]
    pooling_dir = next(
        (
            model_path / m.get("path", "")
            for m in json.loads(modules_file.read_text())
            if m.get("type", "").endswith("Pooling")
        ),
        None,
    )
    if pooling_dir is not None and (pooling_dir / "config.json").is_file():
        pooling = json.loads((pooling_dir / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens", False):
            raise ValueError("the ONNX backend implements mean pooling only")
    allowed = ("Transformer", "Pooling", "Normalize")
    if any(not kind.endswith(allowed) for kind in kinds):
        raise ValueError(f"the ONNX backend cannot run the modules {kinds}")


def export_onnx(model_path: Path, onnx_dir: Path) -> Path:
    """The fp32 ONNX graph of the folder's transformer, exported once into ``onnx_dir``
    from the local weights (atomic rename: a crash never leaves half a file). Blocking."""
    target = onnx_dir / f"{weights_digest(model_path)[:16]}-v{EXPORT_VERSION}-fp32.onnx"
    with _export_lock:
        if target.is_file():
            return target
        onnx_dir.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModel
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        transformer = AutoModel.from_pretrained(str(model_path)).eval()

        class LastHiddenState(torch.nn.Module):
            """Keyword arguments: the forward signature's positions vary by version."""

            def __init__(self) -> None:
                super().__init__()
                self.transformer = transformer

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                return self.transformer(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).last_hidden_state

        model = LastHiddenState().eval()
        sample = torch.ones((2, 8), dtype=torch.int64)
        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
        axes = {0: "batch", 1: "sequence"}
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter is deprecated in favour of dynamo (which needs
            # onnxscript and takes minutes here); it still exports BERT exactly.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                model,
                (sample, sample, torch.zeros_like(sample)),
                str(tmp),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    "input_ids": axes,
                    "attention_mask": axes,
                    "token_type_ids": axes,
                    "last_hidden_state": axes,
                },
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, target)
        logger.info("onnx model exported", extra={"file": target.name})
        return target


def quantise_int8(fp32_file: Path) -> Path:
    """Dynamic int8 (weights int8, activations quantised per batch) beside the fp32 file."""
    target = fp32_file.with_name(fp32_file.name.replace("-fp32.onnx", "-int8.onnx"))
    with _export_lock:
        if target.is_file():
            return target
        from onnxruntime.quantization import QuantType, quantize_dynamic

        tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}.onnx")
        quantize_dynamic(str(fp32_file), str(tmp), weight_type=QuantType.QInt8)
        os.replace(tmp, target)
        return target


def load_tokenizer(model_path: Path) -> Tokenizer:
    """The folder's fast tokenizer (tokenizer.json) set up as sentence-transformers calls it:
    truncation at the model's ``max_seq_length``, padding to the longest text of a batch.
    The ``tokenizers`` library directly, not transformers' AutoTokenizer around it: importing
    transformers imports torch, which the ONNX backend exists to keep out of the process.
    Its ids equal AutoTokenizer's (tests/matcher/embedding/test_backends.py)."""
    from tokenizers import Tokenizer

    tokenizer_file = model_path / "tokenizer.json"
    if not tokenizer_file.is_file():
        raise FileNotFoundError(f"the ONNX backend needs the fast tokenizer {tokenizer_file}")
    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    # tokenizer.json carries its own settings (MiniLM's: truncate at 128, pad to 128);
    # sentence-transformers overrides them with max_seq_length and longest padding.
    tokenizer.enable_truncation(max_length=_max_seq_length(model_path), strategy="longest_first")
    config_file = model_path / "tokenizer_config.json"
    config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    pad_token = str(config.get("pad_token", "[PAD]"))
    pad_id = tokenizer.token_to_id(pad_token)
    if pad_id is None:
        raise ValueError(f"the pad token {pad_token!r} is not in {tokenizer_file}")
    tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
    return tokenizer


class OnnxSentenceModel:
    """sentence-transformers' encode for mean-pooled, normalised models, on ONNX Runtime."""

    def __init__(self, *, model_path: Path, onnx_file: Path, threads: int) -> None:
        import onnxruntime

        _check_recipe(model_path)
        # Batches are cut by the texts' own lengths and padded here (the same ids as the
        # padded tokenizer's): see ``token_batches``.
        self._unpadded = load_tokenizer(model_path)
        padding = self._unpadded.padding
        self._pad_id = int(padding["pad_id"]) if padding else 0
        self._unpadded.no_padding()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Spinning worker threads burn a core another process needs (DESIGN.md: unpinned
        # torch threads fell from 108 to 2 texts/s beside a competing process).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(
            str(onnx_file), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._dimension = int(self._session.get_outputs()[0].shape[-1])

    def get_embedding_dimension(self) -> int | None:
        return self._dimension

    def _batch(self, encoded: Sequence[Encoding]) -> Vectors:
        width = max(len(e.ids) for e in encoded)
        input_ids = np.full((len(encoded), width), self._pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(encoded), width), dtype=np.int64)
        token_type_ids = np.zeros((len(encoded), width), dtype=np.int64)
        for row, e in enumerate(encoded):
            input_ids[row, : len(e.ids)] = e.ids
            attention_mask[row, : len(e.ids)] = e.attention_mask
            token_type_ids[row, : len(e.ids)] = e.type_ids
        columns = {
            "input_ids": input_ids,
            "attention_mask": attention_mask,
            "token_type_ids": token_type_ids,
        }
        feeds = {name: value for name, value in columns.items() if name in self._inputs}
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        mask = attention_mask[:, :, None].astype(np.float32)
        summed = (np.asarray(hidden, dtype=np.float32) * mask).sum(axis=1)
        pooled: Vectors = summed / np.clip(mask.sum(axis=1), 1e-9, None)
        return pooled

    def encode(
        self,
        sentences: list[str],
        *,
        batch_size: int = 32,
        batch_tokens: int = DEFAULT_BATCH_TOKENS,
        normalize_embeddings: bool = False,
        **_: Any,
    ) -> Vectors:
        """Vectors in the order of ``sentences``: consecutive texts go together into a
        batch of at most ``batch_size`` texts and ``batch_tokens`` padded tokens."""
        if not sentences:
            return np.empty((0, self._dimension), dtype=np.float32)
        encoded = self._unpadded.encode_batch(sentences)
        lengths = [len(e.ids) for e in encoded]
        out = np.concatenate(
            [
                self._batch(encoded[start:end])
                for start, end in token_batches(
                    lengths, batch_size=batch_size, batch_tokens=batch_tokens
                )
            ]
        ).astype(np.float32, copy=False)
        if normalize_embeddings:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out = out / np.maximum(norms, 1e-12)
        return out


def load_model(
    *, model_path: Path, backend: Backend, threads: int, onnx_dir: Path
) -> tuple[Any, ResolvedBackend]:
    """The model producing the vectors of record for ``backend`` (fp32). Blocking."""
    from convene_matcher.embedding.embedder import load_sentence_transformer

    resolved = resolve_backend(backend)
    if resolved.reason:
        logger.warning(
            "embedding backend %s runs as %s: %s", backend, resolved.backend, resolved.reason
        )
    if resolved.backend == "torch":
        return load_sentence_transformer(model_path, torch_threads=threads), resolved
    onnx_file = export_onnx(model_path, onnx_dir)
    model = OnnxSentenceModel(model_path=model_path, onnx_file=onnx_file, threads=threads)
    return model, resolved


def int8_model(*, model_path: Path, threads: int, onnx_dir: Path) -> OnnxSentenceModel:
    """The dynamic-int8 variant, for measurement (bench/embedding_backends.py). Blocking."""
    fp32_file = export_onnx(model_path, onnx_dir)
    return OnnxSentenceModel(
        model_path=model_path, onnx_file=quantise_int8(fp32_file), threads=threads
    )


@dataclass(frozen=True, slots=True)
class EmbeddingSpec:
    """Everything that makes a model's vectors (picklable: Ray workers rebuild from it)."""

    model_name: str
    model_path: Path
    backend: Backend = "onnx"
    threads: int = 1
    onnx_dir: Path = Path(".run/onnx")
    batch_size: int = 32

    @property
    def version(self) -> str:
        """The model version (all backends here produce fp32 vectors of record)."""
        return model_fingerprint(self.model_name, self.model_path, "fp32")

    def load(self) -> tuple[Any, ResolvedBackend]:
        """Loads the model (blocking: seconds)."""
        return load_model(
            model_path=self.model_path,
            backend=self.backend,
            threads=self.threads,
            onnx_dir=self.onnx_dir,
        )

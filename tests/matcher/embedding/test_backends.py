"""The ONNX Runtime backend against sentence-transformers on torch: same model, same vectors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from convene_matcher.config import MatcherSettings
from convene_matcher.embedding.backends import (
    EmbeddingSpec,
    OnnxSentenceModel,
    cpu_flags,
    export_onnx,
    int8_supported,
    load_tokenizer,
    model_fingerprint,
    resolve_backend,
    token_batches,
)
from convene_matcher.embedding.embedder import Embedder, SentenceModel, load_sentence_transformer
from tests.conftest import ONNX_DIR, REPO_ROOT, FreshDatabase


@pytest.fixture(scope="session")
def torch_model() -> SentenceModel:
    """sentence-transformers on torch, the reference whatever the default backend."""
    return load_sentence_transformer(MatcherSettings().model_path, torch_threads=2)


@pytest.fixture(scope="session")
def onnx_model() -> OnnxSentenceModel:
    model_path = MatcherSettings().model_path
    onnx_file = export_onnx(model_path, ONNX_DIR)
    return OnnxSentenceModel(model_path=model_path, onnx_file=onnx_file, threads=2)


def varied_texts(count: int) -> list[str]:
    """Realistic evidence (skill labels, roles, 20-150-word experience) and call texts."""
    from bench.realistic.generator import generate_citizens
    from bench.realistic.vectors import call_queries, distinct_items

    items = distinct_items(list(generate_citizens(count=160, seed=13)))
    short = [text for kind, _, text in items if kind != "experience"]
    described = [text for kind, _, text in items if kind == "experience"]
    # Skill labels and roles, 150 experience passages (20-150 words) and 100 calls: the
    # passages cost the most, so a busy shared machine keeps this test within its timeout.
    texts = short[: count - 250] + described[:150] + call_queries(13, 100)
    assert len(set(texts)) == count
    return texts


def test_onnx_fp32_gives_the_torch_vectors_on_1000_varied_texts(
    torch_model: SentenceModel, onnx_model: OnnxSentenceModel
) -> None:
    texts = varied_texts(1_000)
    torch_embedder = Embedder(model=torch_model, model_name="m", cache_entries=0)
    onnx_embedder = Embedder(model=onnx_model, model_name="m", cache_entries=0)
    reference = torch_embedder.encode_normalised(texts)
    candidate = onnx_embedder.encode_normalised(texts)
    cosines = (reference * candidate).sum(axis=1)
    assert cosines.min() >= 0.9999, f"worst text: {texts[int(cosines.argmin())][:80]!r}"
    assert np.allclose(np.linalg.norm(candidate, axis=1), 1.0, atol=1e-5)
    # Long texts are truncated the same way (the model's max_seq_length, 256 word pieces).
    long_text = " ".join(texts[:40])
    whole = onnx_model.encode([long_text], normalize_embeddings=True)
    reference_whole = torch_model.encode([long_text], normalize_embeddings=True)
    assert float((whole @ np.asarray(reference_whole).T)[0, 0]) >= 0.9999


def test_the_onnx_tokenizer_gives_the_input_ids_of_transformers_tokenizer() -> None:
    """The ONNX backend tokenizes with the tokenizers library directly (transformers would
    import torch); sentence-transformers calls AutoTokenizer like this."""
    from transformers import AutoTokenizer

    model_path = MatcherSettings().model_path
    reference = AutoTokenizer.from_pretrained(str(model_path))
    tokenizer = load_tokenizer(model_path)
    texts = varied_texts(1_000)
    # Past the 256-word-piece window, empty, accents, CJK, control characters, one long word.
    texts += [" ".join(texts[:40]), "", "Naïve façade — Ünïcödé 中文\tTabs\x00", "x" * 3_000]
    for start in range(0, len(texts), 32):
        batch = texts[start : start + 32]
        expected = reference(
            batch, padding=True, truncation="longest_first", max_length=256, return_tensors="np"
        )
        encoded = tokenizer.encode_batch(batch)
        assert np.array_equal(np.array([e.ids for e in encoded]), expected["input_ids"])
        assert np.array_equal(
            np.array([e.attention_mask for e in encoded]), expected["attention_mask"]
        )
        assert np.array_equal(np.array([e.type_ids for e in encoded]), expected["token_type_ids"])


# Run in a fresh interpreter: this test process has imported torch long before.
SERVE_ONNX = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from convene_matcher.config import MatcherSettings
    from convene_matcher.main import create_app

    async def main() -> None:
        dsn, onnx_dir, index_dir = sys.argv[1:4]
        settings = MatcherSettings(
            environment="test", database_url=dsn, embedding_backend="onnx",
            onnx_dir=Path(onnx_dir), index_dir=Path(index_dir), feed_enabled=False,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            vectors = await app.state.matcher.evidence.embedder.embed(["a test text"])
            heavy = ("torch", "sentence_transformers", "transformers")
            print(json.dumps({
                "loaded": sorted(name for name in heavy if name in sys.modules),
                "dimension": int(vectors.shape[1]),
            }))

    asyncio.run(main())
    """
)


def test_an_onnx_matcher_with_its_export_imports_neither_torch_nor_transformers(
    onnx_model: OnnxSentenceModel, database: FreshDatabase, tmp_path: Path
) -> None:
    """The point of the ONNX backend beside its CPU: torch stays out of the serving process
    (the fixture has exported the graph into ONNX_DIR, as the first start-up would)."""
    result = subprocess.run(
        [sys.executable, "-c", SERVE_ONNX, database.dsn("matcher"), str(ONNX_DIR), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3_000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"loaded": [], "dimension": 384}


def test_backends_share_one_model_version_and_another_name_or_weights_is_another() -> None:
    model_path = MatcherSettings().model_path
    torch_spec = EmbeddingSpec(
        model_name="all-MiniLM-L6-v2", model_path=model_path, backend="torch"
    )
    onnx_spec = EmbeddingSpec(model_name="all-MiniLM-L6-v2", model_path=model_path, backend="onnx")
    assert torch_spec.version == onnx_spec.version
    assert torch_spec.version.startswith("all-MiniLM-L6-v2@")
    assert torch_spec.version.endswith("/fp32")
    assert model_fingerprint("another", model_path) != torch_spec.version
    assert model_fingerprint("all-MiniLM-L6-v2", model_path, "int8") != torch_spec.version


def test_int8_is_used_only_where_the_cpu_has_vnni_and_never_for_stored_vectors(
    tmp_path: Path,
) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512_vnni\n")
    assert int8_supported(cpu_flags(cpuinfo))
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx2\n")
    assert not int8_supported(cpu_flags(cpuinfo))
    without = resolve_backend("onnx-int8", flags={"avx2"})
    assert without.backend == "onnx"
    assert without.reason is not None
    assert "avx512_vnni" in without.reason
    with_vnni = resolve_backend("onnx-int8", flags={"avx512_vnni"})
    assert with_vnni.backend == "onnx"  # the vectors of record stay fp32
    assert with_vnni.reason is not None
    assert "candidates" in with_vnni.reason
    assert resolve_backend("torch").reason is None
    assert resolve_backend("onnx").backend == "onnx"


def test_token_batches_cut_runs_by_count_and_padded_tokens() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        lengths = sorted(rng.integers(1, 300, size=int(rng.integers(0, 120))).tolist())
        runs = token_batches(lengths, batch_size=32, batch_tokens=512)
        assert [i for start, end in runs for i in range(start, end)] == list(range(len(lengths)))
        for start, end in runs:
            run = lengths[start:end]
            assert 1 <= len(run) <= 32
            assert len(run) == 1 or max(run) * len(run) <= 512
            if end < len(lengths):  # greedy: the next text would break a limit
                grown = lengths[start : end + 1]
                assert len(grown) > 32 or max(grown) * len(grown) > 512
    assert token_batches([], batch_size=32, batch_tokens=512) == []
    assert token_batches([600, 600], batch_size=32, batch_tokens=512) == [(0, 1), (1, 2)]


def test_onnx_vectors_do_not_depend_on_how_texts_are_batched(
    onnx_model: OnnxSentenceModel,
) -> None:
    texts = sorted(varied_texts(1_000)[-300:], key=len)
    budgeted = onnx_model.encode(texts, normalize_embeddings=True)
    one_batch_each = onnx_model.encode(
        texts, batch_size=32, batch_tokens=10**9, normalize_embeddings=True
    )
    singly = onnx_model.encode(texts[:40], batch_size=1, normalize_embeddings=True)
    assert float((budgeted * one_batch_each).sum(axis=1).min()) >= 0.99999
    assert float((budgeted[:40] * singly).sum(axis=1).min()) >= 0.99999

import numpy as np

from docsearch.embed.base import ModelIdentity, check_compatible, pack_sign_bits
from docsearch.errors import ModelMismatchError


def test_offline_model_ranks_matching_passage_first(embedder):
    passages = [
        "To read a file asynchronously, call fs.readFile with a path and a callback.",
        "The HTTP server listens on a port and answers requests.",
        "Cryptographic hash functions turn data into a fixed-size digest.",
    ]
    docs = embedder.embed_documents(passages)
    assert docs.shape == (3, 384) and docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-5)
    for query, expected in [
        ("how do I read the contents of a file", 0),
        ("start a web server", 1),
        ("compute a sha256 digest", 2),
    ]:
        q = embedder.embed_query(query)
        assert abs(np.linalg.norm(q) - 1.0) < 1e-5
        assert int(np.argmax(docs @ q)) == expected


def test_batching_and_order_do_not_change_vectors(embedder):
    texts = ["short", "a much longer text " * 20, "medium length text here"]
    embedder.batch_size = 2  # three texts: two batches
    together = embedder.embed_documents(texts)
    embedder.batch_size = 32
    one_by_one = np.stack([embedder.embed_documents([t])[0] for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-4)


def test_query_cache_returns_same_vector(embedder):
    assert embedder.embed_query("cache me") is embedder.embed_query("cache me")


def test_identity_and_fingerprint(embedder):
    assert embedder.identity == ModelIdentity("minilm-l6-v2", "minilm-l6-v2", 384)
    assert len(embedder.fingerprint) == 64


def test_pack_sign_bits_matches_numpy():
    v = np.array([[0.5, -1, 0, 2, -3, 4, 5, -6, 7]], dtype=np.float32)
    assert pack_sign_bits(v).tolist() == [[0b10010110, 0b10000000]]


def test_space_mismatch_is_a_hard_error():
    a = ModelIdentity("minilm-l6-v2", "minilm-l6-v2", 384)
    check_compatible(a, a)
    for other in (ModelIdentity("voyage-4-nano", "voyage-4", 384), ModelIdentity("m", "minilm-l6-v2", 256)):
        try:
            check_compatible(a, other)
        except ModelMismatchError as exc:
            assert "minilm-l6-v2" in exc.message and other.name in exc.message
        else:
            raise AssertionError("expected a mismatch")


def test_token_batches_bound_the_padded_size():
    from docsearch.embed.onnx import token_batches

    lengths = [256, 10, 12, 250, 11, 9, 300, 128, 130]
    batches = token_batches(lengths, max_texts=4, max_tokens=512)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        longest = max(lengths[i] for i in b)
        assert len(b) <= 4 and (len(b) == 1 or len(b) * longest <= 512)
    # Short texts share a batch, long ones are cut down to what the budget allows.
    assert batches[0] == [5, 1, 4, 2] and [6] in batches and [3, 0] in batches


def test_token_budget_batching_gives_the_same_vectors(embedder):
    from docsearch.embed.onnx import OnnxEmbedder

    texts = ["short text", "a much longer text " * 40, "mid sized text about indexing " * 6, "x"]
    tight = OnnxEmbedder(embedder.spec, threads=1, batch_size=32, batch_tokens=64)
    loose = OnnxEmbedder(embedder.spec, threads=1, batch_size=32, batch_tokens=100_000)
    np.testing.assert_allclose(tight.embed_documents(texts), loose.embed_documents(texts), atol=2e-3)

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

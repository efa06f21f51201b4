"""What the index's tables hold: their names, schemas, and the conversions between rows and
`Fragment`s or numpy arrays.

The three tables `fragments`, `binary` and `float` are kept row-aligned (same ids in the same
order): every write deletes the same ids from each and appends rows in the same order, so row i
of `binary` and row i of `float` belong to the same fragment and the rerank can fetch vectors by
position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from docsearch.embed.base import pack_sign_bits
from docsearch.model import Fragment, KeywordFields

if TYPE_CHECKING:
    import lance

FORMAT_VERSION = 4  # 2: questions, hot links, question vectors; 3: the vocabulary table;
# 4: one main keyword field (kw_all) beside kw_heading, the deprecated flag
# fragments, binary and float are row-aligned (one row per fragment, same order); the
# question tables hold one row per generated question, keyed by (fragment id, n).
KEYED = ("fragments", "binary", "float", "qbinary", "qfloat")
ALIGNED = ("fragments", "binary", "float")
# Every indexed word with its count, rewritten whole at each commit: prefix completion and
# typo correction read this instead of scanning every fragment's text at query time.
VOCABULARY = "vocabulary"
TABLES = (*KEYED, VOCABULARY)

# Text fields that get a full-text index (index/fields.py says what each holds); the ranker
# decides how they are weighed.
FTS_COLUMNS = ("kw_all",)


def fragment_schema() -> pa.Schema:
    return pa.schema(
        [
            ("id", pa.int64()),
            ("source", pa.string()),
            ("path", pa.string()),
            ("anchor", pa.string()),
            ("part", pa.int32()),
            ("title", pa.string()),
            ("heading", pa.string()),
            ("breadcrumb", pa.list_(pa.string())),
            ("level", pa.int32()),
            ("line_start", pa.int32()),
            ("line_end", pa.int32()),
            ("text", pa.string()),
            ("token_count", pa.int32()),
            ("content_hash", pa.string()),
            ("questions", pa.list_(pa.string())),
            ("hot_links", pa.list_(pa.string())),
            ("kw_all", pa.string()),
            ("kw_heading", pa.string()),
            ("deprecated", pa.bool_()),
            ("held_out_question", pa.string()),
        ]
    )


def _vector_schema(column: pa.Field, per_question: bool) -> pa.Schema:
    # Fragment tables are keyed by id; question tables by (fragment id, question number).
    key = [pa.field("id", pa.int64())] + ([pa.field("n", pa.int32())] if per_question else [])
    return pa.schema([*key, column])


def _bits(dim: int) -> pa.Field:
    return pa.field("bits", pa.binary(dim // 8))


def _vector(dim: int) -> pa.Field:
    return pa.field("vector", pa.list_(pa.float16(), dim))


def binary_schema(dim: int) -> pa.Schema:
    return _vector_schema(_bits(dim), per_question=False)


def float_schema(dim: int) -> pa.Schema:
    return _vector_schema(_vector(dim), per_question=False)


def question_binary_schema(dim: int) -> pa.Schema:
    return _vector_schema(_bits(dim), per_question=True)


def question_float_schema(dim: int) -> pa.Schema:
    return _vector_schema(_vector(dim), per_question=True)


def vocabulary_schema() -> pa.Schema:
    return pa.schema([("word", pa.string()), ("count", pa.int64())])


def table_schemas(dim: int) -> dict[str, pa.Schema]:
    """Every table's schema for vectors of `dim` dimensions (what a committed table must have)."""
    return {
        "fragments": fragment_schema(),
        "binary": binary_schema(dim),
        "float": float_schema(dim),
        "qbinary": question_binary_schema(dim),
        "qfloat": question_float_schema(dim),
        VOCABULARY: vocabulary_schema(),
    }


# What a word is, for the vocabulary: the complement of this pattern, lowercased, 2+ chars.
_NON_WORD = r"[^a-z0-9_]+"


def count_words(dataset: lance.LanceDataset) -> pa.Table:
    """(word, count) over the keyword fields of every fragment, computed by Arrow in batches
    so that a million fragments never sit in memory as Python strings."""
    import pyarrow.compute as pc

    parts: list[pa.Array] = []
    for batch in dataset.to_batches(columns=list(FTS_COLUMNS), batch_size=8192):
        for column in batch.columns:
            words = pc.list_flatten(pc.split_pattern_regex(pc.utf8_lower(column), _NON_WORD))
            parts.append(pc.filter(words, pc.greater_equal(pc.utf8_length(words), 2)))
    if not parts:
        return vocabulary_schema().empty_table()
    counted = pc.value_counts(pa.chunked_array(parts, pa.string()))
    table = pa.table(
        {"word": counted.field("values"), "count": counted.field("counts").cast(pa.int64())},
        schema=vocabulary_schema(),
    )
    return table.sort_by("word")


def bits_column(vectors: np.ndarray, dim: int) -> pa.Array:
    return pa.array([b.tobytes() for b in pack_sign_bits(vectors)], pa.binary(dim // 8))


def float_column(vectors: np.ndarray, dim: int) -> pa.Array:
    flat = pa.array(vectors.astype(np.float16).reshape(-1), pa.float16())
    return pa.FixedSizeListArray.from_arrays(flat, dim)


def fragment_rows(fragments: Sequence[Fragment], fields: Sequence[KeywordFields]) -> pa.Table:
    cols: dict[str, list[Any]] = {name: [] for name in fragment_schema().names}
    for f, kw in zip(fragments, fields, strict=True):
        cols["id"].append(f.id)
        cols["source"].append(f.source)
        cols["path"].append(f.path)
        cols["anchor"].append(f.anchor)
        cols["part"].append(f.part)
        cols["title"].append(f.title)
        cols["heading"].append(f.heading)
        cols["breadcrumb"].append(list(f.breadcrumb))
        cols["level"].append(f.level)
        cols["line_start"].append(f.line_start)
        cols["line_end"].append(f.line_end)
        cols["text"].append(f.text)
        cols["token_count"].append(f.token_count)
        cols["content_hash"].append(f.content_hash)
        cols["questions"].append(list(f.questions))
        cols["held_out_question"].append(f.held_out_question)
        cols["hot_links"].append(list(f.hot_links))
        cols["kw_all"].append(kw.kw_all)
        cols["kw_heading"].append(kw.kw_heading)
        cols["deprecated"].append(kw.deprecated)
    return pa.table(cols, schema=fragment_schema())


FRAGMENT_COLUMNS = [
    "id", "source", "path", "anchor", "part", "title", "heading", "breadcrumb", "level",
    "line_start", "line_end", "text", "token_count", "content_hash", "questions", "hot_links",
    "held_out_question",
]  # fmt: skip


def rows_to_fragments(table: pa.Table) -> list[Fragment]:
    data = table.select(FRAGMENT_COLUMNS).to_pylist()
    for row in data:
        row["breadcrumb"] = tuple(row["breadcrumb"])
        row["questions"] = tuple(row["questions"] or ())
        row["hot_links"] = tuple(row["hot_links"] or ())
    return [Fragment(**row) for row in data]


def fixed_binary_to_numpy(column: pa.ChunkedArray | pa.Array, width: int) -> np.ndarray:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(arr) == 0:
        return np.zeros((0, width), dtype=np.uint8)
    buf = arr.buffers()[1]
    data = np.frombuffer(buf, dtype=np.uint8, count=(arr.offset + len(arr)) * width)
    return data[arr.offset * width :].reshape(len(arr), width)


def vectors_to_numpy(column: pa.ChunkedArray | pa.Array, dim: int) -> np.ndarray:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    values = arr.flatten().to_numpy(zero_copy_only=False)
    return values.reshape(len(arr), dim)

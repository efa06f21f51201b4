"""What the index's tables hold: their names, schemas, and the conversions between rows and
`Fragment`s or numpy arrays.

The three tables `fragments`, `binary` and `float` are kept row-aligned (same ids in the same
order): every write deletes the same ids from each and appends rows in the same order, so row i
of `binary` and row i of `float` belong to the same fragment and the rerank can fetch vectors by
position.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

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


# Every column of `fragments`, in table order: its Arrow type, and whose attribute it is: the
# Fragment's (read back into one by rows_to_fragments) or the KeywordFields' (index/fields.py
# builds them; the full-text index and the ranker read them). The schema, the rows a write
# appends and the columns a read selects all come from this one table, so they cannot drift.
_FRAGMENT, _FIELDS = "fragment", "fields"
FRAGMENT_TABLE: tuple[tuple[str, pa.DataType, str], ...] = (
    ("id", pa.int64(), _FRAGMENT),
    ("source", pa.string(), _FRAGMENT),
    ("path", pa.string(), _FRAGMENT),
    ("anchor", pa.string(), _FRAGMENT),
    ("part", pa.int32(), _FRAGMENT),
    ("title", pa.string(), _FRAGMENT),
    ("heading", pa.string(), _FRAGMENT),
    ("breadcrumb", pa.list_(pa.string()), _FRAGMENT),
    ("level", pa.int32(), _FRAGMENT),
    ("line_start", pa.int32(), _FRAGMENT),
    ("line_end", pa.int32(), _FRAGMENT),
    ("text", pa.string(), _FRAGMENT),
    ("token_count", pa.int32(), _FRAGMENT),
    ("content_hash", pa.string(), _FRAGMENT),
    ("questions", pa.list_(pa.string()), _FRAGMENT),
    ("hot_links", pa.list_(pa.string()), _FRAGMENT),
    ("kw_all", pa.string(), _FIELDS),
    ("kw_heading", pa.string(), _FIELDS),
    ("deprecated", pa.bool_(), _FIELDS),
    ("held_out_question", pa.string(), _FRAGMENT),
)
# The columns a Fragment is read back from.
FRAGMENT_COLUMNS = [name for name, _, owner in FRAGMENT_TABLE if owner == _FRAGMENT]
# Its tuple attributes, stored as lists (null in rows written before a column was filled).
_TUPLE_COLUMNS = [
    name for name, kind, owner in FRAGMENT_TABLE if owner == _FRAGMENT and pa.types.is_list(kind)
]


def fragment_schema() -> pa.Schema:
    return pa.schema([(name, kind) for name, kind, _ in FRAGMENT_TABLE])


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
    if len(fragments) != len(fields):
        raise ValueError(f"{len(fragments)} fragments but {len(fields)} keyword fields")
    rows = {_FRAGMENT: fragments, _FIELDS: fields}
    cols = {name: [getattr(row, name) for row in rows[owner]] for name, _, owner in FRAGMENT_TABLE}
    return pa.table(cols, schema=fragment_schema())


def rows_to_fragments(table: pa.Table) -> list[Fragment]:
    data = table.select(FRAGMENT_COLUMNS).to_pylist()
    for row in data:
        for name in _TUPLE_COLUMNS:
            row[name] = tuple(row[name] or ())
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

"""The fragments table's one column list (store/schema.py): the schema, the rows a write
appends and the Fragments a read returns all follow it."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
import pytest

from docsearch.model import Fragment, KeywordFields
from docsearch.store.schema import FRAGMENT_COLUMNS, fragment_rows, fragment_schema, rows_to_fragments


def fragment(n: int, **changes: object) -> Fragment:
    base = Fragment(
        id=n,
        source="docs",
        path=f"guide/page{n}.md",
        anchor=f"section-{n}",
        part=n % 2,
        title=f"Page {n}",
        heading=f"Section {n}",
        breadcrumb=(f"Page {n}", f"Section {n}"),
        level=2,
        line_start=3,
        line_end=9 + n,
        text=f"Text of section {n}.",
        token_count=5 + n,
        content_hash=f"{n:064x}",
        questions=(f"what is section {n}?",),
        hot_links=(f"name{n}()",),
        held_out_question=f"where is section {n}?",
    )
    return dataclasses.replace(base, **changes)


def test_every_attribute_has_its_column_and_nothing_else_does():
    names = fragment_schema().names
    attributes = [f.name for f in dataclasses.fields(Fragment)] + [
        f.name for f in dataclasses.fields(KeywordFields)
    ]
    assert sorted(names) == sorted(attributes)
    assert sorted(FRAGMENT_COLUMNS) == sorted(f.name for f in dataclasses.fields(Fragment))


def test_the_committed_layout_is_unchanged():
    # Format 4's column order and types: a change here needs a FORMAT_VERSION bump.
    assert fragment_schema().names == [
        "id", "source", "path", "anchor", "part", "title", "heading", "breadcrumb", "level",
        "line_start", "line_end", "text", "token_count", "content_hash", "questions", "hot_links",
        "kw_all", "kw_heading", "deprecated", "held_out_question",
    ]  # fmt: skip
    assert fragment_schema().field("breadcrumb").type == pa.list_(pa.string())
    assert fragment_schema().field("part").type == pa.int32()
    assert fragment_schema().field("deprecated").type == pa.bool_()


def test_rows_round_trip_to_the_same_fragments():
    fragments = [fragment(1), fragment(2, questions=(), hot_links=(), breadcrumb=("Only",))]
    fields = [KeywordFields("all one", "heading one", False), KeywordFields("all two", "", True)]
    table = fragment_rows(fragments, fields)
    assert table.schema == fragment_schema()
    assert table.column("kw_all").to_pylist() == ["all one", "all two"]
    assert table.column("deprecated").to_pylist() == [False, True]
    assert rows_to_fragments(table) == fragments


def test_fragments_and_fields_must_pair_up():
    with pytest.raises(ValueError, match="2 fragments but 1 keyword fields"):
        fragment_rows([fragment(1), fragment(2)], [KeywordFields("a", "", False)])

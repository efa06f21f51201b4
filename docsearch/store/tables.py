"""The on-disk index: six LanceDB tables and the `meta.json` that commits them.

Layout of an index folder:
    db/fragments.lance   one row per fragment, with full-text indexes (see search/keyword.py)
    db/binary.lance      id + packed sign bits of the document vector, uint8[dim/8]
    db/float.lance       id + the document vector, float16[dim]
    db/qbinary.lance, db/qfloat.lance   the same for generated questions
    db/vocabulary.lance  every indexed word with its count
    meta.json            format, models, the table *versions* that make up the index, the
                         commits still kept for readers, and a checksum of every file
    readers/             one lease file per kept commit, locked by the processes reading it
    damaged/             a damaged index that `docsearch index` set aside and rebuilt
    lock                 held by a writer

The code is split by concern; this module gathers the names the rest of docsearch uses:
    store/schema.py   table names, schemas, rows ↔ fragments and arrays
    store/meta.py     meta.json: reading (every field checked), atomic writing
    store/reader.py   IndexReader: opening a commit under a lease, reads, read errors
    store/writer.py   IndexWriter: verify or set aside, changes, commit, retiring old versions
    store/leases.py   reader leases (flock) that keep a replaced commit's files on disk
    store/verify.py   what is wrong with an index: files, checksums, structure, a full read
"""

from docsearch.store.meta import META_FILE, IndexMeta, read_meta
from docsearch.store.reader import IndexReader
from docsearch.store.schema import (
    ALIGNED,
    FORMAT_VERSION,
    FTS_COLUMNS,
    KEYED,
    TABLES,
    VOCABULARY,
    count_words,
    fragment_rows,
    fragment_schema,
    rows_to_fragments,
)
from docsearch.store.writer import IndexWriter

__all__ = [
    "ALIGNED",
    "FORMAT_VERSION",
    "FTS_COLUMNS",
    "KEYED",
    "META_FILE",
    "TABLES",
    "VOCABULARY",
    "IndexMeta",
    "IndexReader",
    "IndexWriter",
    "count_words",
    "fragment_rows",
    "fragment_schema",
    "read_meta",
    "rows_to_fragments",
]

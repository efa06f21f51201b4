"""Checks of what a user typed, before any work: a query, an `eval` id template.

Each refusal is one line with an exit code (docsearch/errors.py): an empty query is a usage
error (2), like a missing argument; a query that is too long or not valid UTF-8 is bad input
(3). Undecodable bytes reach Python as lone surrogates (argv is decoded with
surrogateescape), which the tokenizer rejected with a TypeError traceback.
"""

from __future__ import annotations

import string

from docsearch.errors import InputError, SettingsError
from docsearch.model import MAX_QUERY_CHARS


def check_query(query: str, what: str = "query") -> None:
    text = " ".join(query.split())
    if not text:
        raise SettingsError(f"the {what} is empty: give some words to search for")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError as exc:
        byte = ord(query[exc.start]) - 0xDC00 if 0xDC80 <= ord(query[exc.start]) <= 0xDCFF else None
        at = f" (byte {byte:#04x} at character {exc.start + 1})" if byte is not None else ""
        raise InputError(
            f"the {what} is not valid UTF-8{at}: set your terminal to UTF-8 (e.g. LANG=C.UTF-8)"
        ) from None
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(
            f"the {what} is {len(text):,} characters long; docsearch searches at most {MAX_QUERY_CHARS:,}"
        )


ID_FIELDS = ("path", "stem", "anchor")


def check_id_template(template: str) -> None:
    """`--id-template` may name {path}, {stem} and {anchor}, nothing else: no other field, no
    attribute or index ({path.__class__}), no conversion or format spec. A bad one ended in a
    KeyError or ValueError traceback at the first query."""
    fields = ", ".join("{" + f + "}" for f in ID_FIELDS)
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise SettingsError(f"--id-template {template!r} is not a template ({exc}); use {fields}") from None
    named = [name for _, name, _, _ in parts if name is not None]
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in ID_FIELDS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise SettingsError(f"--id-template may only use {fields}, not {shown}")
    if not named:
        raise SettingsError(f"--id-template {template!r} names no field: use {fields}")

"""Resource Graph's dialect of KQL on the emulator's one KQL engine.

Resource Graph runs the same language as Log Analytics with its own rules, applied here before and after the
engine (:func:`emulator.kql.default_engine`) runs the query:

- a query may start with an operator (``where type =~ 'x'``): it runs on ``Resources``;
- ARG supports a subset of the tabular operators; any other is refused as InvalidQueryLanguage, an unknown
  word after a pipe and ``order``/``sort`` without ``by`` as a ParserFailure at that token;
- unnamed computed columns of ``project``/``extend`` are ``Column1``, ``Column2``... (a plain column or a
  property path keeps its name, ``tags.env`` → ``tags_env``); an ``extend`` whose later assignments use
  earlier ones runs as successive ``extend`` operators; assigned names are bracket-quoted so that words the
  engine's grammar reserves (``title``, ``count``...) stay names;
- dynamic values come back as JSON values (objects, arrays, strings), not JSON text.

Errors carry what ARG reports: a parser failure with the line, the 0-based position and the token of the
original query text; an unsupported operator with its token; anything else with the engine's message.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from . import KqlQueryError, Table, default_engine
from .errors import TABULAR_OPERATORS, find_name, line_pos

# The tabular operators Resource Graph runs (learn.microsoft.com, "Understanding the Azure Resource Graph
# query language": supported tabular/top-level operators).
ARG_OPERATORS = frozenset(
    """count distinct extend join limit take mv-expand mvexpand order sort parse project project-away
    project-rename sample sample-distinct summarize top union where""".split()
)
_LIMITING = frozenset({"take", "limit", "top", "sample", "sample-distinct"})
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)")
_PATH = re.compile(
    r"^\s*[A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*|\s*\[\s*(?:'[^']*'|\"[^\"]*\"|\d+)\s*\])*\s*$"
)
_ARG_TYPES = {
    "string": "string",
    "guid": "string",
    "int": "integer",
    "long": "integer",
    "real": "number",
    "decimal": "number",
    "bool": "boolean",
    "datetime": "datetime",
    "timespan": "string",
    "dynamic": "object",
}


class GraphQueryError(Exception):
    """A query Resource Graph refuses: ``kind`` is "parser", "unsupported" or "semantic"."""

    def __init__(self, kind: str, message: str, *, line: int = -1, pos: int = -1, token: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.line = line
        self.pos = pos
        self.token = token


@dataclass(frozen=True)
class GraphResult:
    columns: tuple[tuple[str, str], ...]  # (name, ARG type: string, integer, number, boolean, datetime, object)
    rows: list[dict[str, Any]]
    limited: bool  # shaped by take/limit/top/sample: ARG does not page such a result

    def column_type(self, name: str) -> str:
        return dict(self.columns).get(name, "object")


# -- scanning: code, strings, brackets ---------------------------------------------------------------------


def _scan(text: str, depth_out: list[int] | None = None) -> list[tuple[int, str]]:
    """(offset, char) of every character of ``text`` that is code at bracket depth 0 (not in a string,
    a comment or parentheses/brackets). ``depth_out`` receives the depth left open at the end."""
    out: list[tuple[int, str]] = []
    depth, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "'\"":
            verbatim = i > 0 and text[i - 1] == "@"
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" and not verbatim else 1
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append((i, c))
        i += 1
    if depth_out is not None:
        depth_out.append(depth)
    return out


def _split(text: str, sep: str) -> list[tuple[int, str]]:
    """Top-level pieces of ``text`` separated by ``sep`` (a single character), with their offsets."""
    cuts = [i for i, c in _scan(text) if c == sep]
    pieces, start = [], 0
    for cut in [*cuts, len(text)]:
        pieces.append((start, text[start:cut]))
        start = cut + 1
    return pieces


def _first_word(text: str) -> tuple[int, str]:
    stripped = len(text) - len(text.lstrip())
    m = _WORD.match(text, stripped)
    return (stripped, m.group(0)) if m else (stripped, "")


# -- checks and rewrites -----------------------------------------------------------------------------------


def _parser_failure(query: str, offset: int, token: str) -> GraphQueryError:
    line, pos = line_pos(query, offset)
    return GraphQueryError("parser", "ParserFailure", line=line, pos=pos, token=token or "<EOF>")


def check(query: str) -> None:
    """Resource Graph's own refusals, located in the original text."""
    depth: list[int] = []
    _scan(query, depth)
    if depth[0] > 0:  # a bracket left open: the parser runs out of text
        raise _parser_failure(query, len(query), "<EOF>")
    segments = _split(query, "|")
    for n, (offset, segment) in enumerate(segments):
        at, word = _first_word(segment)
        if n == 0 and word.lower() not in TABULAR_OPERATORS:
            continue  # the table
        lowered = word.lower()
        if lowered not in TABULAR_OPERATORS:
            raise _parser_failure(query, offset + at, word or segment.strip()[:1])
        if lowered not in ARG_OPERATORS:
            raise GraphQueryError("unsupported", "InvalidQueryLanguage", token=word)
        if lowered in ("order", "sort"):
            rest = segment[at + len(word) :]
            nat, nxt = _first_word(rest)
            if nxt.lower() != "by":
                token = nxt or (rest.strip().split() or ["<EOF>"])[0]
                raise _parser_failure(query, offset + at + len(word) + nat, token)


def _quote(name: str) -> str:
    return f"['{name}']"


def _items(body: str, counter: list[int]) -> list[str]:
    """The comma-separated items of a project/extend list, names quoted and unnamed expressions named."""
    out = []
    for _, item in _split(body, ","):
        if not item.strip():
            out.append(item)
            continue
        m = _NAME.match(item)
        if m:
            out.append(f" {_quote(m.group(1))} ={item[m.end() :]}")
        elif _PATH.match(item):
            plain = item.strip()
            out.append(f" {_quote(plain)}" if _WORD.fullmatch(plain) and "-" not in plain else item)
        else:
            counter[0] += 1
            out.append(f" Column{counter[0]} = {item.strip()}")
    return out


def _without_comments(text: str) -> str:
    """``text`` with each ``//`` comment blanked out (same length, so offsets still hold)."""
    out, i, n = list(text), 0, len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
            continue
        if c in "'\"":
            verbatim = i > 0 and text[i - 1] == "@"
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" and not verbatim else 1
            i = j + 1
            continue
        i += 1
    return "".join(out)


def rewrite(query: str) -> str:
    """The query as the engine should run it (same meaning, Resource Graph's naming)."""
    segments = [s for _, s in _split(_without_comments(query), "|")]
    _, first = _first_word(segments[0])
    if first.lower() in TABULAR_OPERATORS:
        segments.insert(0, "Resources ")
    out = [segments[0]]
    for segment in segments[1:]:
        at, word = _first_word(segment)
        body = segment[at + len(word) :]
        lowered = word.lower()
        if lowered == "project":
            out.append(f" project{','.join(_items(body, [0]))} ")
        elif lowered == "extend":
            counter = [0]
            items = _items(body, counter)
            # Later assignments may use earlier ones: one extend per assignment keeps KQL's meaning.
            out.extend(f" extend{item} " for item in items)
        else:
            out.append(segment)
    return "|".join(out)


# -- running -----------------------------------------------------------------------------------------------


def _decode(kql_type: str, value: Any) -> Any:
    if value is None:
        return None
    if kql_type == "dynamic" and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def run(query: str, tables: Mapping[str, Table], *, now: dt.datetime, max_rows: int = 1_000_000) -> GraphResult:
    if not query.strip():
        raise GraphQueryError("parser", "ParserFailure", line=1, pos=0, token="<EOF>")
    check(query)
    engine = default_engine()
    text = rewrite(query)
    try:
        result = engine.run(text, tables, now=now, max_rows=max_rows)
    except KqlQueryError as e:
        raise _locate(query, text, e, now) from e
    names = [n for n, _ in result.columns]
    types = [t for _, t in result.columns]
    rows = [{n: _decode(t, v) for n, t, v in zip(names, types, row, strict=True)} for row in result.rows]
    limited = any(_first_word(s)[1].lower() in _LIMITING for _, s in _split(query, "|")[1:])
    columns = tuple((n, _ARG_TYPES.get(t, "object")) for n, t in result.columns)
    return GraphResult(columns, rows, limited)


def _locate(query: str, text: str, e: KqlQueryError, now: dt.datetime) -> GraphQueryError:
    """The engine's error, placed in the text the user wrote."""
    if e.kind == "syntax":
        prefix = "Resources | " if _first_word(query)[1].lower() in TABULAR_OPERATORS else ""
        if text != prefix + query:
            try:  # the original text's own parse failure, when it has one, is what ARG reports
                default_engine().run(prefix + query, {}, now=now, max_rows=0)
            except KqlQueryError as original:
                if original.kind == "syntax" and original.line is not None:
                    pos = (original.pos or 0) - (len(prefix) if original.line == 1 else 0)
                    return GraphQueryError(
                        "parser", "ParserFailure", line=original.line, pos=max(0, pos), token=original.token or ""
                    )
            token = e.token or "<EOF>"
            offset = find_name(query, token) if token not in ("<EOF>", "|") else None
            line, pos = line_pos(query, len(query) if offset is None else offset)
            return GraphQueryError("parser", "ParserFailure", line=line, pos=pos, token=token)
        return GraphQueryError("parser", "ParserFailure", line=e.line or 1, pos=e.pos or 0, token=e.token or "<EOF>")
    if e.code == "SEM0001" and e.token and e.token.lower() in TABULAR_OPERATORS:
        return GraphQueryError("unsupported", "InvalidQueryLanguage", token=e.token)
    return GraphQueryError("semantic", e.message, token=e.token or "")


__all__ = ["ARG_OPERATORS", "GraphQueryError", "GraphResult", "check", "rewrite", "run"]

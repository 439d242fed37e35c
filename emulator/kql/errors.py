"""Engine failures → Log Analytics' error shapes, with the line and position of what is wrong.

Log Analytics answers a query it refuses with HTTP 400::

    {"error": {"code": "BadArgumentError", "message": "The request had some invalid properties",
               "innererror": {"code": "SyntaxError" | "SemanticError", "message": ...,
                              "innererror": {"code": "SYN0002" | "SEM0100" | ..., "message": ...,
                                             "line": 1, "pos": 4, "token": "wherex"}}}}

``line`` is 1-based and ``pos`` is the 0-based column within that line. The engine's own text (ANTLR
diagnostics, DuckDB binder and catalog errors that quote SQL the user never wrote) is translated here
into KQL terms; the position of a name the engine could not resolve is found in the KQL text.
"""

from __future__ import annotations

import re
from typing import Any

from . import KqlQueryError

# Tabular operators (after a pipe) that KQL knows; a word after "|" outside this set is a syntax error.
TABULAR_OPERATORS = frozenset(
    """as consume count distinct evaluate extend externaldata facet find fork getschema invoke join limit
    lookup make-series mv-apply mv-expand order parse parse-where parse-kv partition print project
    project-away project-keep project-rename project-reorder range reduce render sample sample-distinct
    scan search serialize sort summarize take top top-hitters top-nested union where filter make-graph
    graph-match""".split()
)

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def _code_spans(query: str) -> list[tuple[int, int]]:
    """Offsets of the query text that are code (not string literals or comments)."""
    spans: list[tuple[int, int]] = []
    i, start, n = 0, 0, len(query)
    while i < n:
        c = query[i]
        if c == "/" and query.startswith("//", i):
            spans.append((start, i))
            j = query.find("\n", i)
            i = n if j < 0 else j
            start = i
            continue
        if c in "'\"":
            spans.append((start, i))
            verbatim = i > 0 and query[i - 1] == "@"
            j = i + 1
            while j < n and query[j] != c:
                j += 2 if query[j] == "\\" and not verbatim else 1
            i = min(n, j + 1)
            start = i
            continue
        i += 1
    spans.append((start, n))
    return [(a, b) for a, b in spans if b > a]


def line_pos(query: str, offset: int) -> tuple[int, int]:
    """(1-based line, 0-based position in the line) of an offset."""
    line = query.count("\n", 0, offset) + 1
    return line, offset - (query.rfind("\n", 0, offset) + 1)


def offset_of(query: str, line: int, pos: int) -> int:
    lines = query.split("\n")
    line = max(1, min(line, len(lines)))
    return sum(len(x) + 1 for x in lines[: line - 1]) + max(0, pos)


def find_name(query: str, name: str) -> int | None:
    """The offset of the first use of ``name`` as a word in code (not in a string or comment)."""
    pattern = re.compile(rf"(?<![A-Za-z0-9_\.]){re.escape(name)}(?![A-Za-z0-9_])")
    for a, b in _code_spans(query):
        m = pattern.search(query, a, b)
        if m:
            return m.start()
    for a, b in _code_spans(query):  # a dotted path (d.x) or a case-folded match, as a last resort
        m = re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", query[a:b], re.IGNORECASE)
        if m:
            return a + m.start()
    return None


def operator_at(query: str, offset: int) -> str:
    """The tabular operator whose clause holds ``offset`` (the word after the last pipe before it)."""
    cut = query.rfind("|", 0, offset)
    if cut < 0:
        return ""
    start = cut + 1
    while start < len(query) and query[start].isspace():
        start += 1
    m = _WORD.match(query, start)
    return m.group(0) if m else ""


def unknown_operator(query: str) -> tuple[int, str] | None:
    """The first word after a pipe (in code) that is not a tabular operator."""
    for a, b in _code_spans(query):
        for m in re.finditer(r"\|\s*([A-Za-z_][A-Za-z0-9_\-]*)", query[a:b]):
            word = m.group(1)
            if word.lower() not in TABULAR_OPERATORS:
                return a + m.start(1), word
    return None


def _token_at(query: str, offset: int) -> str:
    if offset >= len(query):
        return "<EOF>"
    m = _WORD.match(query, offset)
    if m:
        return m.group(0)
    rest = query[offset:].split()
    return rest[0][:20] if rest else "<EOF>"


def syntax(query: str, offset: int, token: str | None = None) -> KqlQueryError:
    token = token or _token_at(query, offset)
    line, pos = line_pos(query, offset)
    return KqlQueryError(
        "syntax",
        "SYN0002",
        f"Query could not be parsed at '{token}' on line [{line},{pos}]",
        line=line,
        pos=pos,
        token=token,
    )


def semantic(query: str, message: str, name: str | None = None, code: str = "SEM0100") -> KqlQueryError:
    offset = find_name(query, name) if name else None
    if offset is None:
        return KqlQueryError("semantic", code, message, token=name)
    line, pos = line_pos(query, offset)
    return KqlQueryError("semantic", code, message, line=line, pos=pos, token=name)


_QUOTED = re.compile(r'"([^"]+)"')


def from_engine(exc: BaseException, query: str) -> KqlQueryError:
    """Translate any engine failure into what Log Analytics would say about the query."""
    kind = type(exc).__name__
    text = str(exc)
    first = text.splitlines()[0] if text else kind
    if kind == "KqlSyntaxError":
        wrong = unknown_operator(query)
        if wrong is not None:
            return syntax(query, wrong[0], wrong[1])
        diags = getattr(exc, "diagnostics", None) or []
        if diags:
            span = diags[0].span
            return syntax(query, offset_of(query, span.line, span.column))
        return syntax(query, len(query))
    if kind == "KqlUnsupportedError":
        construct = str(getattr(exc, "construct", "") or "")
        if construct.startswith("function:"):
            name = construct.removeprefix("function:")
            return semantic(
                query,
                f"Unknown function: '{name}' (or one the emulator's KQL engine does not support).",
                name,
                code="SEM0219",
            )
        label = {"MakeSeriesOperator": "make-series"}.get(construct, construct.removeprefix("aggregate:"))
        message = (
            f"'{label}' is valid KQL that the emulator's query engine (duckdb-kql) does not support; "
            "Azure runs it. Rewrite the query without it to use the emulator."
        )
        span = getattr(exc, "span", None)
        if span is not None:
            line, pos = span.line, span.column
            return KqlQueryError("semantic", "SEM0001", message, line=line, pos=pos, token=label)
        return semantic(query, message, label, code="SEM0001")
    if kind == "KqlSchemaError":
        name = str(getattr(exc, "name", "") or "")
        op = operator_at(query, find_name(query, name) or 0) if name else ""
        prefix = f"'{op}' operator: " if op else ""
        return semantic(query, f"{prefix}Failed to resolve scalar expression named '{name}'", name)
    if kind == "CatalogException":
        m = re.search(r"Table with name (\S+) does not exist", first)
        if m:
            name = m.group(1).strip('"')
            return semantic(query, f"'{name}': Failed to resolve table or column expression named '{name}'", name)
        m = re.search(r"(?:Scalar|Aggregate|Table) Function with name (\S+) does not exist", first)
        if m:
            name = m.group(1).strip('"')
            return semantic(query, f"Unknown function: '{name}'.", name, code="SEM0219")
    if kind == "BinderException":
        m = re.search(r'Referenced column "([^"]+)" not found', first) or re.search(
            r'Alias with name "([^"]+)" exists', first
        )
        if m:
            name = m.group(1)
            offset = find_name(query, name)
            op = operator_at(query, offset) if offset is not None else ""
            prefix = f"'{op}' operator: " if op else ""
            return semantic(query, f"{prefix}Failed to resolve scalar expression named '{name}'", name)
        m = re.search(r"No function matches the given name and argument types '([A-Za-z_]+)\(", first)
        if m:
            return semantic(
                query, f"The function '{m.group(1)}' cannot be applied to arguments of these types.", m.group(1)
            )
    if kind == "ParserException":
        return syntax(query, len(query.rstrip()))
    if kind in ("ConversionException", "BinderException", "InvalidInputException", "OutOfRangeException"):
        message = re.sub(r"^[A-Za-z ]+Error: ", "", first)
        names = _QUOTED.findall(message)
        return semantic(query, f"Semantic error: {message}", names[0] if names else None, code="SEM0001")
    return KqlQueryError("semantic", "SEM0001", f"The query could not be run: {first}")


def to_log_analytics(err: KqlQueryError) -> dict[str, Any]:
    """The 400 body Log Analytics sends for a refused query."""
    inner: dict[str, Any] = {"code": err.code, "message": err.message}
    if err.line is not None:
        inner["line"] = err.line
        inner["pos"] = err.pos
    if err.token:
        inner["token"] = err.token
    middle = {
        "code": "SyntaxError" if err.kind == "syntax" else "SemanticError",
        "message": "A recognition error occurred in the query."
        if err.kind == "syntax"
        else "A semantic error occurred.",
        "innererror": inner,
    }
    return {
        "error": {
            "code": "BadArgumentError",
            "message": "The request had some invalid properties",
            "innererror": middle,
        }
    }

"""A subset of KQL for the emulated Azure Resource Graph: tokenizer, parser and evaluator.

Supported (as Resource Graph evaluates it):

* a table name (``Resources``, ``ResourceContainers``; case-insensitive, as in ARG), or a query that starts
  with an operator (the ``Resources`` table is implied);
* ``where``/``filter``, ``project``, ``project-away``, ``project-rename``, ``extend``, ``order by``/``sort by``
  (several keys, ``asc``/``desc``, ``nulls first``/``nulls last``), ``limit``/``take``, ``top N by``, ``count``,
  ``summarize`` (``count``, ``countif``, ``dcount``, ``sum``, ``sumif``, ``min``, ``max``, ``avg``,
  ``make_set``, ``make_list``, ``take_any``/``any``) ``by`` keys, ``distinct``;
* expressions: literals, columns, ``a.b``, ``a['b']``, ``a[0]``, ``and``/``or``, ``not()``, parentheses,
  ``== != =~ !~ < <= > >=``, ``+ - * / %``, the string operators (``contains``, ``has``, ``startswith``,
  ``endswith``, their ``_cs`` and ``!`` forms, ``matches regex``), ``in``/``in~``/``!in``/``!in~``, and the
  scalar functions in :data:`FUNCTIONS`.

Errors come as :class:`KqlSyntaxError` (ARG's ``ParserFailure``: line, 0-based character position, token),
:class:`KqlUnsupportedError` (an operator this subset does not know: ARG's ``InvalidQueryLanguage``) and
:class:`KqlSemanticError` (unknown column, table or function).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# -- errors ---------------------------------------------------------------------------------------


class KqlError(Exception):
    """Any error in a query."""


class KqlSyntaxError(KqlError):
    def __init__(self, message: str, line: int, column: int, token: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column  # 0-based, as ARG's characterPositionInLine
        self.token = token


class KqlUnsupportedError(KqlError):
    def __init__(self, token: str) -> None:
        super().__init__(f"The operator '{token}' is not supported.")
        self.token = token


class KqlSemanticError(KqlError):
    pass


# -- tokens ---------------------------------------------------------------------------------------

IDENT, STRING, NUMBER, OP, EOF = "ident", "string", "number", "op", "eof"

_HYPHENATED = {
    "project-away",
    "project-rename",
    "project-keep",
    "project-reorder",
    "mv-expand",
    "mv-apply",
    "make-series",
}
_STRING_OPS = {
    "contains",
    "contains_cs",
    "has",
    "has_cs",
    "startswith",
    "startswith_cs",
    "endswith",
    "endswith_cs",
    "hasprefix",
    "hassuffix",
}
_NEGATABLE = _STRING_OPS | {"in", "between"}
_TWO_CHAR_OPS = ("==", "!=", "=~", "!~", "<=", ">=", "<>")
_ONE_CHAR_OPS = "=<>+-*/%()[],.|;"


@dataclass(frozen=True)
class Token:
    kind: str
    value: Any  # str for identifiers/operators/strings, int|float for numbers
    text: str  # the source text of the token, as ARG reports it
    line: int  # 1-based
    column: int  # 0-based


def tokenize(query: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(query)
    line, line_start = 1, 0

    def error(message: str, at: int, text: str) -> KqlSyntaxError:
        return KqlSyntaxError(message, line, at - line_start, text)

    while i < n:
        c = query[i]
        if c == "\n":
            i += 1
            line, line_start = line + 1, i
            continue
        if c.isspace():
            i += 1
            continue
        if query.startswith("//", i):
            while i < n and query[i] != "\n":
                i += 1
            continue
        start, col = i, i - line_start
        if c.isalpha() or c == "_":
            while i < n and (query[i].isalnum() or query[i] == "_"):
                i += 1
            word = query[start:i]
            if i < n and query[i] == "-":  # project-away, mv-expand, ...
                j = i + 1
                while j < n and query[j].isalpha():
                    j += 1
                if query[start:j] in _HYPHENATED:
                    word, i = query[start:j], j
            if word == "in" and i < n and query[i] == "~":
                word, i = "in~", i + 1
            if word in ("h", "H") and i < n and query[i] in "'\"":
                i = start + len(word)  # obfuscated string h'...': the h is a prefix
                value, i = _read_string(query, i, verbatim=False, error=error)
                tokens.append(Token(STRING, value, query[start:i], line, col))
                continue
            tokens.append(Token(IDENT, word, word, line, col))
            continue
        if c.isdigit():
            m = re.compile(r"\d+(\.\d+)?([eE][+-]?\d+)?").match(query, i)
            assert m is not None
            text = m.group(0)
            i = m.end()
            if i < n and (query[i].isalpha() or query[i] == "_"):
                raise error("Unexpected character after a number.", i, query[i])
            number: int | float = float(text) if (m.group(1) or m.group(2)) else int(text)
            tokens.append(Token(NUMBER, number, text, line, col))
            continue
        if c in "'\"":
            value, i = _read_string(query, i, verbatim=False, error=error)
            tokens.append(Token(STRING, value, query[start:i], line, col))
            continue
        if c == "@" and i + 1 < n and query[i + 1] in "'\"":
            value, i = _read_string(query, i + 1, verbatim=True, error=error)
            tokens.append(Token(STRING, value, query[start:i], line, col))
            continue
        if c == "!":
            j = i + 1
            while j < n and (query[j].isalnum() or query[j] == "_"):
                j += 1
            word = query[i + 1 : j]
            if word in _NEGATABLE:
                if word == "in" and j < n and query[j] == "~":
                    j += 1
                tokens.append(Token(OP, query[i:j], query[i:j], line, col))
                i = j
                continue
        two = query[i : i + 2]
        if two in _TWO_CHAR_OPS:
            tokens.append(Token(OP, "!=" if two == "<>" else two, two, line, col))
            i += 2
            continue
        if c in _ONE_CHAR_OPS:
            tokens.append(Token(OP, c, c, line, col))
            i += 1
            continue
        raise error(f"Unexpected character '{c}'.", i, c)
    tokens.append(Token(EOF, None, "<EOF>", line, n - line_start))
    return tokens


def _read_string(
    query: str, i: int, *, verbatim: bool, error: Callable[[str, int, str], KqlSyntaxError]
) -> tuple[str, int]:
    quote = query[i]
    start = i
    i += 1
    out: list[str] = []
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'", '"': '"', "0": "\0"}
    while i < len(query):
        c = query[i]
        if c == quote:
            if verbatim and query[i + 1 : i + 2] == quote:  # @'it''s'
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        if c == "\n":
            break
        if c == "\\" and not verbatim:
            nxt = query[i + 1 : i + 2]
            if nxt not in escapes:
                raise error("Invalid escape sequence in a string literal.", i, query[i : i + 2])
            out.append(escapes[nxt])
            i += 2
            continue
        out.append(c)
        i += 1
    raise error("Unterminated string literal.", start, query[start:i])


# -- values ---------------------------------------------------------------------------------------


def to_str(v: Any) -> str:
    """KQL tostring(): null → "", booleans lower-case, dynamic values as compact JSON."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isfinite(v) and v == int(v) and abs(v) < 1e15:
            return str(int(v))
        return repr(v)
    if isinstance(v, int):
        return str(v)
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def _number(v: Any) -> int | float | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float):
        return v
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                return None
    return None


def _truthy(v: Any) -> bool:
    return v is True


def _equal(a: Any, b: Any) -> bool | None:
    if a is None or b is None:
        return None
    if isinstance(a, bool) or isinstance(b, bool):
        if isinstance(a, bool) and isinstance(b, bool):
            return a == b
        return to_str(a) == to_str(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, str) or isinstance(b, str):
        return to_str(a) == to_str(b)
    return bool(a == b)


def _compare(a: Any, b: Any) -> int | None:
    """-1/0/1 for comparable values (numbers with numbers, strings with strings), else None."""
    if a is None or b is None:
        return None
    if (
        isinstance(a, int | float)
        and not isinstance(a, bool)
        and isinstance(b, int | float)
        and not isinstance(b, bool)
    ):
        return (a > b) - (a < b)
    if isinstance(a, str) and isinstance(b, str):
        return (a > b) - (a < b)
    return None


def _has(haystack: str, needle: str) -> bool:
    """KQL ``has``: the needle matches whole terms (alphanumeric runs) of the haystack, ignoring case."""
    h, nd = haystack.casefold(), needle.casefold()
    if not nd:
        return True
    left = r"(?<![0-9a-z_])" if nd[0].isalnum() else ""
    right = r"(?![0-9a-z_])" if nd[-1].isalnum() else ""
    return re.search(left + re.escape(nd) + right, h) is not None


def _string_op(op: str, a: Any, b: Any) -> bool:
    s, t = to_str(a), to_str(b)
    negate = op.startswith("!")
    name = op.lstrip("!")
    cs = name.endswith("_cs")
    base = name.removesuffix("_cs")
    if not cs:
        s, t = s.casefold(), t.casefold()
    if base == "contains":
        result = t in s
    elif base == "has":
        result = _has(s, t) if not cs else re.search(r"(?<![0-9A-Za-z_])" + re.escape(t), s) is not None
    elif base in ("startswith", "hasprefix"):
        result = s.startswith(t)
    elif base in ("endswith", "hassuffix"):
        result = s.endswith(t)
    else:  # pragma: no cover - the parser only builds known operators
        raise KqlSemanticError(f"Unknown operator '{op}'.")
    return not result if negate else result


# -- expressions ----------------------------------------------------------------------------------

Row = dict[str, Any]


class Expr:
    def eval(self, row: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def columns(self) -> set[str]:
        """The column names this expression reads."""
        return set()

    def default_name(self) -> str | None:
        """The column name KQL gives an unnamed projection of this expression (None: ColumnN)."""
        return None

    def static_type(self, types: Mapping[str, str]) -> str | None:
        """The ARG column type (string/integer/number/boolean/object) when known before evaluation."""
        return None

    def aggregates(self) -> bool:
        return False


@dataclass
class Literal(Expr):
    value: Any

    def eval(self, row: Mapping[str, Any]) -> Any:
        return self.value

    def static_type(self, types: Mapping[str, str]) -> str | None:
        return _python_type(self.value)


@dataclass
class Column(Expr):
    name: str

    def eval(self, row: Mapping[str, Any]) -> Any:
        return row.get(self.name)

    def columns(self) -> set[str]:
        return {self.name}

    def default_name(self) -> str | None:
        return self.name

    def static_type(self, types: Mapping[str, str]) -> str | None:
        return types.get(self.name)


@dataclass
class Member(Expr):
    """``obj.key``, ``obj['key']`` or ``obj[index]`` on a dynamic value."""

    obj: Expr
    key: Expr

    def eval(self, row: Mapping[str, Any]) -> Any:
        target = self.obj.eval(row)
        key = self.key.eval(row)
        if isinstance(target, str) and target[:1] in "{[":  # a string holding JSON, as tostring() made it
            try:
                target = json.loads(target)
            except ValueError:
                return None
        if isinstance(target, dict):
            if isinstance(key, str):
                return target.get(key)
            return None
        if isinstance(target, list) and isinstance(key, int) and not isinstance(key, bool):
            if -len(target) <= key < len(target):
                return target[key]
        return None

    def columns(self) -> set[str]:
        return self.obj.columns() | self.key.columns()

    def default_name(self) -> str | None:
        base = self.obj.default_name()
        if base is None or not isinstance(self.key, Literal):
            return None
        return f"{base}_{self.key.value}"

    def static_type(self, types: Mapping[str, str]) -> str | None:
        return "object"


@dataclass
class Unary(Expr):
    op: str
    operand: Expr

    def eval(self, row: Mapping[str, Any]) -> Any:
        v = _number(self.operand.eval(row))
        if v is None:
            return None
        return -v if self.op == "-" else v

    def columns(self) -> set[str]:
        return self.operand.columns()


_COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "=~", "!~"}


@dataclass
class Binary(Expr):
    op: str
    left: Expr
    right: Expr

    def eval(self, row: Mapping[str, Any]) -> Any:
        op = self.op
        if op == "and":
            a = self.left.eval(row)
            if a is False:
                return False
            b = self.right.eval(row)
            if b is False:
                return False
            return True if (a is True and b is True) else None
        if op == "or":
            a = self.left.eval(row)
            if a is True:
                return True
            b = self.right.eval(row)
            if b is True:
                return True
            return False if (a is False and b is False) else None
        a, b = self.left.eval(row), self.right.eval(row)
        if op == "==":
            return _equal(a, b)
        if op == "!=":
            eq = _equal(a, b)
            return None if eq is None else not eq
        if op in ("=~", "!~"):
            same = to_str(a).casefold() == to_str(b).casefold()
            return same if op == "=~" else not same
        if op in ("<", "<=", ">", ">="):
            c = _compare(a, b)
            if c is None:
                return None
            return {"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]
        if op == "matches regex":
            try:
                return re.search(to_str(b), to_str(a)) is not None
            except re.error as e:
                raise KqlSemanticError(f"Invalid regular expression '{to_str(b)}': {e}") from e
        if op.lstrip("!") in _STRING_OPS:
            return _string_op(op, a, b)
        return _arith(op, a, b)

    def columns(self) -> set[str]:
        return self.left.columns() | self.right.columns()

    def static_type(self, types: Mapping[str, str]) -> str | None:
        if self.op in _COMPARISONS or self.op in ("and", "or", "matches regex") or self.op.lstrip("!") in (_STRING_OPS):
            return "boolean"
        return None

    def aggregates(self) -> bool:
        return self.left.aggregates() or self.right.aggregates()


def _arith(op: str, a: Any, b: Any) -> Any:
    x, y = _number(a), _number(b)
    if x is None or y is None or isinstance(a, str) or isinstance(b, str):
        return None
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:
        return None
    if op == "/":
        if isinstance(x, int) and isinstance(y, int):
            q = abs(x) // abs(y)
            return q if (x >= 0) == (y >= 0) else -q
        return x / y
    if op == "%":
        return math.fmod(x, y) if isinstance(x, float) or isinstance(y, float) else int(math.fmod(x, y))
    raise KqlSemanticError(f"Unknown operator '{op}'.")  # pragma: no cover


@dataclass
class InList(Expr):
    op: str  # in, in~, !in, !in~
    operand: Expr
    items: list[Expr]

    def eval(self, row: Mapping[str, Any]) -> Any:
        v = self.operand.eval(row)
        values: list[Any] = []
        for item in self.items:
            x = item.eval(row)
            values.extend(x if isinstance(x, list) else [x])
        if self.op.endswith("~"):
            needle = to_str(v).casefold()
            found = any(to_str(x).casefold() == needle for x in values)
        else:
            found = v is not None and any(_equal(v, x) is True for x in values)
        return not found if self.op.startswith("!") else found

    def columns(self) -> set[str]:
        out = self.operand.columns()
        for item in self.items:
            out |= item.columns()
        return out

    def static_type(self, types: Mapping[str, str]) -> str | None:
        return "boolean"


def _fn_isempty(v: Any) -> bool:
    return v is None or v == ""


def _fn_tolong(v: Any) -> int | None:
    n = _number(v) if not isinstance(v, bool) else int(v)
    if n is None or (isinstance(n, float) and not math.isfinite(n)):
        return None
    return int(n)


def _fn_todouble(v: Any) -> float | None:
    n = _number(v) if not isinstance(v, bool) else float(v)
    return None if n is None else float(n)


def _fn_tobool(v: Any) -> bool | None:
    if isinstance(v, bool):
        return v
    if isinstance(v, int | float):
        return v != 0
    if isinstance(v, str) and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return None


def _fn_array_length(v: Any) -> int | None:
    return len(v) if isinstance(v, list) else None


def _fn_substring(s: Any, start: Any, length: Any = None) -> str:
    text = to_str(s)
    b = _fn_tolong(start) or 0
    b = max(0, b)
    if length is None:
        return text[b:]
    ln = _fn_tolong(length)
    return text[b : b + max(0, ln or 0)]


def _fn_split(s: Any, sep: Any, index: Any = None) -> Any:
    parts = to_str(s).split(to_str(sep)) if to_str(sep) else [to_str(s)]
    if index is None:
        return parts
    i = _fn_tolong(index)
    if i is None or not -len(parts) <= i < len(parts):
        return []
    return [parts[i]]


def _fn_bag_keys(v: Any) -> list[str] | None:
    return list(v.keys()) if isinstance(v, dict) else None


# name → (callable on evaluated args, min args, max args, result type)
FUNCTIONS: dict[str, tuple[Callable[..., Any], int, int, str | None]] = {
    "tostring": (to_str, 1, 1, "string"),
    "tolower": (lambda v: to_str(v).lower(), 1, 1, "string"),
    "toupper": (lambda v: to_str(v).upper(), 1, 1, "string"),
    "trim_start": (lambda chars, v: re.sub("^(" + to_str(chars) + ")+", "", to_str(v)), 2, 2, "string"),
    "trim_end": (lambda chars, v: re.sub("(" + to_str(chars) + ")+$", "", to_str(v)), 2, 2, "string"),
    "strlen": (lambda v: len(to_str(v)), 1, 1, "integer"),
    "strcat": (lambda *vs: "".join(to_str(v) for v in vs), 1, 64, "string"),
    "substring": (_fn_substring, 2, 3, "string"),
    "split": (_fn_split, 2, 3, "object"),
    "replace_string": (lambda s, a, b: to_str(s).replace(to_str(a), to_str(b)), 3, 3, "string"),
    "isempty": (_fn_isempty, 1, 1, "boolean"),
    "isnotempty": (lambda v: not _fn_isempty(v), 1, 1, "boolean"),
    "isnull": (lambda v: v is None, 1, 1, "boolean"),
    "isnotnull": (lambda v: v is not None, 1, 1, "boolean"),
    "not": (lambda v: None if not isinstance(v, bool) else not v, 1, 1, "boolean"),
    "iff": (lambda c, a, b: a if c is True else b, 3, 3, None),
    "iif": (lambda c, a, b: a if c is True else b, 3, 3, None),
    "coalesce": (lambda *vs: next((v for v in vs if v is not None and v != ""), None), 1, 64, None),
    "toint": (_fn_tolong, 1, 1, "integer"),
    "tolong": (_fn_tolong, 1, 1, "integer"),
    "todouble": (_fn_todouble, 1, 1, "number"),
    "toreal": (_fn_todouble, 1, 1, "number"),
    "tobool": (_fn_tobool, 1, 1, "boolean"),
    "toboolean": (_fn_tobool, 1, 1, "boolean"),
    "todynamic": (lambda v: v, 1, 1, "object"),
    "array_length": (_fn_array_length, 1, 1, "integer"),
    "bag_keys": (_fn_bag_keys, 1, 1, "object"),
}
# Conversions that keep the name of the column they wrap when projected without a name.
_NAME_PRESERVING = {
    "tostring",
    "tolower",
    "toupper",
    "toint",
    "tolong",
    "todouble",
    "toreal",
    "tobool",
    "toboolean",
    "todynamic",
}


@dataclass
class Call(Expr):
    name: str
    args: list[Expr]

    def eval(self, row: Mapping[str, Any]) -> Any:
        fn = FUNCTIONS[self.name][0]
        if self.name in ("iff", "iif"):  # evaluate only the branch taken
            cond = self.args[0].eval(row)
            return self.args[1].eval(row) if cond is True else self.args[2].eval(row)
        return fn(*(a.eval(row) for a in self.args))

    def columns(self) -> set[str]:
        out: set[str] = set()
        for a in self.args:
            out |= a.columns()
        return out

    def default_name(self) -> str | None:
        if self.name in _NAME_PRESERVING and self.args:
            return self.args[0].default_name()
        return None

    def static_type(self, types: Mapping[str, str]) -> str | None:
        return FUNCTIONS[self.name][3]


# -- aggregates -----------------------------------------------------------------------------------


def _key(v: Any) -> Any:
    """A hashable stand-in for a (possibly dynamic) value."""
    if isinstance(v, dict | list):
        return ("json", json.dumps(v, sort_keys=True, separators=(",", ":")))
    return (type(v).__name__ if not isinstance(v, int | float) or isinstance(v, bool) else "num", v)


def _agg_sum(values: list[Any]) -> Any:
    nums = [n for n in (_number(v) for v in values if not isinstance(v, str)) if n is not None]
    return sum(nums) if nums else None


def _agg_extreme(values: list[Any], pick: Callable[[Iterable[Any]], Any]) -> Any:
    nums = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if nums:
        return pick(nums)
    strs = [v for v in values if isinstance(v, str)]
    return pick(strs) if strs else None


def _agg_avg(values: list[Any]) -> Any:
    nums = [n for n in (_number(v) for v in values if not isinstance(v, str)) if n is not None]
    return sum(nums) / len(nums) if nums else None


def _agg_make_set(values: list[Any]) -> list[Any]:
    seen: set[Any] = set()
    out: list[Any] = []
    for v in values:
        if v is None:
            continue
        k = _key(v)
        if k not in seen:
            seen.add(k)
            out.append(v)
    return out


# name → (reducer over the per-row argument values, number of args, output column prefix, type)
AGGREGATES: dict[str, tuple[Callable[[list[Any]], Any], int, str, str | None]] = {
    "count": (len, 0, "count_", "integer"),
    "countif": (lambda vs: sum(1 for v in vs if v is True), 1, "countif_", "integer"),
    "dcount": (lambda vs: len({_key(v) for v in vs if v is not None}), 1, "dcount_", "integer"),
    "sum": (_agg_sum, 1, "sum_", None),
    "sumif": (_agg_sum, 2, "sumif_", None),
    "min": (lambda vs: _agg_extreme(vs, min), 1, "min_", None),
    "max": (lambda vs: _agg_extreme(vs, max), 1, "max_", None),
    "avg": (_agg_avg, 1, "avg_", "number"),
    "make_set": (_agg_make_set, 1, "set_", "object"),
    "make_list": (lambda vs: [v for v in vs if v is not None], 1, "list_", "object"),
    "take_any": (lambda vs: next((v for v in vs if v is not None), None), 1, "any_", None),
    "any": (lambda vs: next((v for v in vs if v is not None), None), 1, "any_", None),
}


@dataclass
class Aggregate(Expr):
    name: str
    args: list[Expr]

    def eval(self, row: Mapping[str, Any]) -> Any:  # pragma: no cover - evaluated by summarize
        raise KqlSemanticError(f"The aggregate function '{self.name}' is only allowed in 'summarize'.")

    def reduce(self, rows: Sequence[Mapping[str, Any]]) -> Any:
        reducer = AGGREGATES[self.name][0]
        if self.name == "count":
            return len(rows)
        if self.name == "sumif":
            return reducer([self.args[0].eval(r) for r in rows if self.args[1].eval(r) is True])
        return reducer([self.args[0].eval(r) for r in rows])

    def columns(self) -> set[str]:
        out: set[str] = set()
        for a in self.args:
            out |= a.columns()
        return out

    def default_name(self) -> str | None:
        prefix = AGGREGATES[self.name][2]
        if self.name in ("count", "countif") or not self.args:
            return prefix
        inner = self.args[0].default_name()
        return prefix + (inner or "")

    def static_type(self, types: Mapping[str, str]) -> str | None:
        t = AGGREGATES[self.name][3]
        if t is None and self.name in ("min", "max", "take_any", "any") and self.args:
            return self.args[0].static_type(types)
        return t

    def aggregates(self) -> bool:
        return True


# -- tables ---------------------------------------------------------------------------------------


@dataclass
class Table:
    columns: list[str]
    rows: list[Row]
    types: dict[str, str] = field(default_factory=dict)  # known ARG column types
    limited: bool = False  # a limit/take/top/sample shaped the result (ARG then does not page)

    def column_type(self, name: str) -> str:
        known = self.types.get(name)
        if known:
            return known
        for row in self.rows:
            t = _python_type(row.get(name))
            if t is not None:
                return t
        return "object"


def _python_type(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    return "object"


def _check_columns(op: str, exprs: Iterable[Expr], table: Table) -> None:
    have = set(table.columns)
    for e in exprs:
        missing = sorted(e.columns() - have)
        if missing:
            raise KqlSemanticError(f"'{op}' operator: Failed to resolve scalar expression named '{missing[0]}'")


# -- operators ------------------------------------------------------------------------------------


class Operator:
    name = ""

    def apply(self, table: Table) -> Table:
        raise NotImplementedError


@dataclass
class Where(Operator):
    predicate: Expr
    name: str = "where"

    def apply(self, table: Table) -> Table:
        _check_columns(self.name, [self.predicate], table)
        rows = [r for r in table.rows if _truthy(self.predicate.eval(r))]
        return Table(table.columns, rows, table.types, table.limited)


@dataclass
class Assignment:
    name: str | None  # None: derived from the expression
    expr: Expr


def _resolve_names(items: list[Assignment], start: int = 1) -> list[str]:
    names: list[str] = []
    counter = start
    for item in items:
        name = item.name or item.expr.default_name()
        if name is None:
            name = f"Column{counter}"
            counter += 1
        names.append(name)
    return names


@dataclass
class Project(Operator):
    items: list[Assignment]
    name: str = "project"

    def apply(self, table: Table) -> Table:
        _check_columns(self.name, [i.expr for i in self.items], table)
        names = _resolve_names(self.items)
        seen: set[str] = set()
        for n in names:
            if n in seen:
                raise KqlSemanticError(f"'{self.name}' operator: the column '{n}' is projected more than once")
            seen.add(n)
        rows = [{n: i.expr.eval(r) for n, i in zip(names, self.items, strict=True)} for r in table.rows]
        types = {n: t for n, i in zip(names, self.items, strict=True) if (t := i.expr.static_type(table.types))}
        return Table(names, rows, types, table.limited)


@dataclass
class Extend(Operator):
    items: list[Assignment]
    name: str = "extend"

    def apply(self, table: Table) -> Table:
        names = _resolve_names(self.items)
        columns = list(table.columns)
        types = dict(table.types)
        rows: list[Row] = [dict(r) for r in table.rows]
        for n, item in zip(names, self.items, strict=True):
            # each assignment sees the columns the previous ones made, as in KQL
            _check_columns(self.name, [item.expr], Table(columns, []))
            for r in rows:
                r[n] = item.expr.eval(r)
            if n not in columns:
                columns.append(n)
            t = item.expr.static_type(types)
            if t:
                types[n] = t
            else:
                types.pop(n, None)
        return Table(columns, rows, types, table.limited)


def _match_names(patterns: list[str], columns: list[str], op: str) -> list[str]:
    out: list[str] = []
    for p in patterns:
        if "*" in p:
            rx = re.compile("^" + ".*".join(re.escape(s) for s in p.split("*")) + "$")
            out.extend(c for c in columns if rx.match(c) and c not in out)
        elif p in columns:
            out.append(p)
        else:
            raise KqlSemanticError(f"'{op}' operator: Failed to resolve column named '{p}'")
    return out


@dataclass
class ProjectAway(Operator):
    patterns: list[str]
    name: str = "project-away"

    def apply(self, table: Table) -> Table:
        drop = set(_match_names(self.patterns, table.columns, self.name))
        columns = [c for c in table.columns if c not in drop]
        rows = [{c: r.get(c) for c in columns} for r in table.rows]
        return Table(columns, rows, {k: v for k, v in table.types.items() if k not in drop}, table.limited)


@dataclass
class ProjectRename(Operator):
    renames: list[tuple[str, str]]  # (new, old)
    name: str = "project-rename"

    def apply(self, table: Table) -> Table:
        mapping: dict[str, str] = {}
        for new, old in self.renames:
            if old not in table.columns:
                raise KqlSemanticError(f"'{self.name}' operator: Failed to resolve column named '{old}'")
            mapping[old] = new
        columns = [mapping.get(c, c) for c in table.columns]
        rows = [{mapping.get(k, k): v for k, v in r.items()} for r in table.rows]
        types = {mapping.get(k, k): v for k, v in table.types.items()}
        return Table(columns, rows, types, table.limited)


@dataclass
class SortKey:
    expr: Expr
    descending: bool = True  # KQL's default
    nulls_first: bool | None = None  # None: KQL's default (first when ascending, last when descending)


def _sort_rows(rows: list[Row], keys: list[SortKey]) -> list[Row]:
    out = list(rows)
    for key in reversed(keys):  # stable sorts, least significant key first
        nulls_first = key.nulls_first if key.nulls_first is not None else not key.descending
        values = [key.expr.eval(r) for r in out]
        present = [(v, r) for v, r in zip(values, out, strict=True) if v is not None]
        absent = [r for v, r in zip(values, out, strict=True) if v is None]
        present.sort(key=lambda vr: _sort_value(vr[0]), reverse=key.descending)
        ordered = [r for _, r in present]
        out = absent + ordered if nulls_first else ordered + absent
    return out


def _sort_value(v: Any) -> tuple[int, Any]:
    if isinstance(v, bool):
        return (0, int(v))
    if isinstance(v, int | float):
        return (1, v)
    if isinstance(v, str):
        return (2, v)
    return (3, to_str(v))


@dataclass
class Sort(Operator):
    keys: list[SortKey]
    name: str = "order"

    def apply(self, table: Table) -> Table:
        _check_columns(self.name, [k.expr for k in self.keys], table)
        return Table(table.columns, _sort_rows(table.rows, self.keys), table.types, table.limited)


@dataclass
class Take(Operator):
    count: int
    name: str = "take"

    def apply(self, table: Table) -> Table:
        return Table(table.columns, table.rows[: self.count], table.types, True)


@dataclass
class Top(Operator):
    count: int
    key: SortKey
    name: str = "top"

    def apply(self, table: Table) -> Table:
        _check_columns(self.name, [self.key.expr], table)
        rows = _sort_rows(table.rows, [self.key])[: self.count]
        return Table(table.columns, rows, table.types, True)


@dataclass
class Count(Operator):
    name: str = "count"

    def apply(self, table: Table) -> Table:
        return Table(["Count"], [{"Count": len(table.rows)}], {"Count": "integer"}, table.limited)


@dataclass
class Summarize(Operator):
    aggregates: list[Assignment]
    by: list[Assignment]
    name: str = "summarize"

    def apply(self, table: Table) -> Table:
        _check_columns(self.name, [a.expr for a in self.aggregates + self.by], table)
        by_names = _resolve_names(self.by)
        agg_names = _resolve_names(self.aggregates, start=len([n for n in self.by if n.name is None]) + 1)
        columns = by_names + agg_names
        if len(set(columns)) != len(columns):
            dup = next(c for c in columns if columns.count(c) > 1)
            raise KqlSemanticError(f"'{self.name}' operator: the column '{dup}' is defined more than once")
        groups: dict[tuple[Any, ...], tuple[list[Any], list[Row]]] = {}
        for r in table.rows:
            values = [b.expr.eval(r) for b in self.by]
            k = tuple(_key(v) for v in values)
            if k not in groups:
                groups[k] = (values, [])
            groups[k][1].append(r)
        if not self.by and not groups:
            groups[()] = ([], [])  # summarize without keys always yields one row
        rows: list[Row] = []
        for values, members in groups.values():
            row: Row = dict(zip(by_names, values, strict=True))
            for n, a in zip(agg_names, self.aggregates, strict=True):
                assert isinstance(a.expr, Aggregate)
                row[n] = a.expr.reduce(members)
            rows.append(row)
        types: dict[str, str] = {}
        for n, item in zip(columns, self.by + self.aggregates, strict=True):
            t = item.expr.static_type(table.types)
            if t:
                types[n] = t
        return Table(columns, rows, types, table.limited)


@dataclass
class Distinct(Operator):
    items: list[Assignment] | None  # None: distinct *
    name: str = "distinct"

    def apply(self, table: Table) -> Table:
        exprs: list[Expr]
        if self.items is None:
            names, exprs = list(table.columns), [Column(c) for c in table.columns]
        else:
            _check_columns(self.name, [i.expr for i in self.items], table)
            names, exprs = _resolve_names(self.items), [i.expr for i in self.items]
        seen: set[tuple[Any, ...]] = set()
        rows: list[Row] = []
        for r in table.rows:
            values = [e.eval(r) for e in exprs]
            k = tuple(_key(v) for v in values)
            if k not in seen:
                seen.add(k)
                rows.append(dict(zip(names, values, strict=True)))
        types = {n: t for n, e in zip(names, exprs, strict=True) if (t := e.static_type(table.types))}
        return Table(names, rows, types, table.limited)


@dataclass
class Query:
    table: str
    operators: list[Operator]

    def run(self, tables: Mapping[str, Callable[[], Table]]) -> Table:
        source = next((fn for name, fn in tables.items() if name.lower() == self.table.lower()), None)
        if source is None:
            raise KqlSemanticError(
                f"The name '{self.table}' does not refer to any known table, tabular variable or function."
            )
        result = source()
        for op in self.operators:
            result = op.apply(result)
        return result


# -- parser ---------------------------------------------------------------------------------------

_OPERATOR_NAMES = {
    "where",
    "filter",
    "project",
    "project-away",
    "project-rename",
    "extend",
    "order",
    "sort",
    "limit",
    "take",
    "top",
    "count",
    "summarize",
    "distinct",
}
# Operators of KQL (and of ARG) that this subset does not implement: ARG's InvalidQueryLanguage.
_UNSUPPORTED = {
    "join",
    "union",
    "mv-expand",
    "mv-apply",
    "parse",
    "project-keep",
    "project-reorder",
    "make-series",
    "sample",
    "sample-distinct",
    "lookup",
    "as",
    "serialize",
    "render",
    "search",
    "evaluate",
    "invoke",
    "range",
    "print",
    "let",
    "getschema",
    "facet",
    "find",
    "fork",
    "partition",
    "scan",
    "reduce",
    "externaldata",
    "datatable",
}
_KEYWORDS = {"and", "or", "by", "asc", "desc", "nulls", "first", "last", "in", "in~"}


class Parser:
    def __init__(self, query: str, *, default_table: str = "Resources") -> None:
        self.tokens = tokenize(query)
        self.i = 0
        self.default_table = default_table
        self.allow_aggregates = False

    # token helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        if t.kind != EOF:
            self.i += 1
        return t

    def fail(self, tok: Token | None = None) -> KqlSyntaxError:
        t = tok or self.tok
        return KqlSyntaxError(f"Unexpected token '{t.text}'.", t.line, t.column, t.text)

    def is_op(self, value: str) -> bool:
        return self.tok.kind == OP and self.tok.value == value

    def is_word(self, *values: str) -> bool:
        return self.tok.kind == IDENT and self.tok.value in values

    def expect_op(self, value: str) -> Token:
        if not self.is_op(value):
            raise self.fail()
        return self.advance()

    def expect_word(self, value: str) -> Token:
        if not self.is_word(value):
            raise self.fail()
        return self.advance()

    def expect_ident(self) -> str:
        if self.tok.kind != IDENT:
            raise self.fail()
        return str(self.advance().value)

    # query
    def parse(self) -> Query:
        while self.is_op(";"):
            self.advance()
        if self.tok.kind != IDENT:
            raise self.fail()
        operators: list[Operator] = []
        if self.tok.value in _OPERATOR_NAMES or self.tok.value in _UNSUPPORTED:
            table = self.default_table  # ARG: a query may start with an operator on Resources
            operators.append(self.parse_operator())
        else:
            table = self.expect_ident()
        while self.is_op("|"):
            self.advance()
            operators.append(self.parse_operator())
        while self.is_op(";"):
            self.advance()
        if self.tok.kind != EOF:
            raise self.fail()
        return Query(table, operators)

    def parse_operator(self) -> Operator:
        tok = self.tok
        if tok.kind != IDENT:
            raise self.fail()
        name = str(tok.value)
        if name in _UNSUPPORTED:
            raise KqlUnsupportedError(name)
        if name not in _OPERATOR_NAMES:
            raise self.fail()
        self.advance()
        if name in ("where", "filter"):
            return Where(self.parse_expr(), name=name)
        if name == "project":
            return Project(self.parse_assignments(), name=name)
        if name == "extend":
            return Extend(self.parse_assignments(), name=name)
        if name == "project-away":
            return ProjectAway(self.parse_name_patterns())
        if name == "project-rename":
            renames: list[tuple[str, str]] = []
            while True:
                new = self.expect_ident()
                self.expect_op("=")
                renames.append((new, self.expect_ident()))
                if not self.is_op(","):
                    break
                self.advance()
            return ProjectRename(renames)
        if name in ("order", "sort"):
            self.expect_word("by")
            keys = [self.parse_sort_key()]
            while self.is_op(","):
                self.advance()
                keys.append(self.parse_sort_key())
            return Sort(keys, name=name)
        if name in ("limit", "take"):
            return Take(self.parse_count(), name=name)
        if name == "top":
            n = self.parse_count()
            self.expect_word("by")
            return Top(n, self.parse_sort_key())
        if name == "count":
            return Count()
        if name == "summarize":
            return self.parse_summarize()
        if name == "distinct":
            if self.is_op("*"):
                self.advance()
                return Distinct(None)
            return Distinct(self.parse_assignments())
        raise self.fail(tok)  # pragma: no cover

    def parse_count(self) -> int:
        tok = self.tok
        if tok.kind != NUMBER or not isinstance(tok.value, int):
            raise self.fail()
        self.advance()
        return int(tok.value)

    def parse_name_patterns(self) -> list[str]:
        names: list[str] = []
        while True:
            parts: list[str] = []
            while self.tok.kind == IDENT or self.is_op("*"):
                parts.append(str(self.advance().value))
                if self.tok.kind == IDENT and parts[-1] != "*":
                    break
            if not parts:
                raise self.fail()
            names.append("".join(parts))
            if not self.is_op(","):
                return names
            self.advance()

    def parse_assignments(self) -> list[Assignment]:
        items = [self.parse_assignment()]
        while self.is_op(","):
            self.advance()
            items.append(self.parse_assignment())
        return items

    def parse_assignment(self, *, allow_aggregates: bool = False) -> Assignment:
        name: str | None = None
        if self.tok.kind == IDENT and self.peek().kind == OP and self.peek().value == "=":
            name = self.expect_ident()
            self.advance()
        expr = self.parse_expr(allow_aggregates=allow_aggregates)
        return Assignment(name, expr)

    def parse_sort_key(self) -> SortKey:
        expr = self.parse_expr()
        key = SortKey(expr)
        if self.is_word("asc", "desc"):
            key.descending = self.advance().value == "desc"
        if self.is_word("nulls"):
            self.advance()
            if not self.is_word("first", "last"):
                raise self.fail()
            key.nulls_first = self.advance().value == "first"
        return key

    def parse_summarize(self) -> Summarize:
        aggregates: list[Assignment] = []
        if not self.is_word("by"):
            aggregates.append(self.parse_assignment(allow_aggregates=True))
            while self.is_op(","):
                self.advance()
                aggregates.append(self.parse_assignment(allow_aggregates=True))
        for a in aggregates:
            if not isinstance(a.expr, Aggregate):
                raise KqlSemanticError(
                    "'summarize' operator: each expression before 'by' must be an aggregate such as count()"
                )
        by: list[Assignment] = []
        if self.is_word("by"):
            self.advance()
            by = self.parse_assignments()
        if not aggregates and not by:
            raise self.fail()
        return Summarize(aggregates, by)

    # expressions, loosest first
    def parse_expr(self, *, allow_aggregates: bool = False) -> Expr:
        self.allow_aggregates = allow_aggregates
        try:
            return self.parse_or()
        finally:
            self.allow_aggregates = False

    def parse_or(self) -> Expr:
        left = self.parse_and()
        while self.is_word("or"):
            self.advance()
            left = Binary("or", left, self.parse_and())
        return left

    def parse_and(self) -> Expr:
        left = self.parse_comparison()
        while self.is_word("and"):
            self.advance()
            left = Binary("and", left, self.parse_comparison())
        return left

    def parse_comparison(self) -> Expr:
        left = self.parse_additive()
        tok = self.tok
        if tok.kind == OP and tok.value in _COMPARISONS:
            self.advance()
            return Binary(str(tok.value), left, self.parse_additive())
        if tok.kind == OP and str(tok.value).startswith("!") and str(tok.value)[1:] in _STRING_OPS:
            self.advance()
            return Binary(str(tok.value), left, self.parse_additive())
        if tok.kind == IDENT and tok.value in _STRING_OPS:
            self.advance()
            return Binary(str(tok.value), left, self.parse_additive())
        if tok.kind == IDENT and tok.value == "matches" and self.peek().kind == IDENT and self.peek().value == "regex":
            self.advance()
            self.advance()
            return Binary("matches regex", left, self.parse_additive())
        if (tok.kind == IDENT and tok.value in ("in", "in~")) or (tok.kind == OP and tok.value in ("!in", "!in~")):
            self.advance()
            self.expect_op("(")
            items = [self.parse_additive()]
            while self.is_op(","):
                self.advance()
                items.append(self.parse_additive())
            self.expect_op(")")
            return InList(str(tok.value), left, items)
        if tok.kind == OP and tok.value in ("!between", "between"):
            raise KqlUnsupportedError(str(tok.value))
        return left

    def parse_additive(self) -> Expr:
        left = self.parse_multiplicative()
        while self.tok.kind == OP and self.tok.value in ("+", "-"):
            op = str(self.advance().value)
            left = Binary(op, left, self.parse_multiplicative())
        return left

    def parse_multiplicative(self) -> Expr:
        left = self.parse_unary()
        while self.tok.kind == OP and self.tok.value in ("*", "/", "%"):
            op = str(self.advance().value)
            left = Binary(op, left, self.parse_unary())
        return left

    def parse_unary(self) -> Expr:
        if self.tok.kind == OP and self.tok.value in ("-", "+"):
            op = str(self.advance().value)
            operand = self.parse_unary()
            if isinstance(operand, Literal) and isinstance(operand.value, int | float):
                return Literal(-operand.value if op == "-" else operand.value)
            return Unary(op, operand)
        return self.parse_postfix()

    def parse_postfix(self) -> Expr:
        expr = self.parse_primary()
        while True:
            if self.is_op("."):
                self.advance()
                if self.tok.kind != IDENT:
                    raise self.fail()
                expr = Member(expr, Literal(str(self.advance().value)))
            elif self.is_op("["):
                self.advance()
                key = self.parse_or()
                self.expect_op("]")
                expr = Member(expr, key)
            else:
                return expr

    def parse_primary(self) -> Expr:
        tok = self.tok
        if tok.kind == NUMBER or tok.kind == STRING:
            self.advance()
            return Literal(tok.value)
        if self.is_op("("):
            self.advance()
            inner = self.parse_or()
            self.expect_op(")")
            return inner
        if tok.kind == IDENT:
            name = str(tok.value)
            if name in _KEYWORDS:
                raise self.fail()
            self.advance()
            if name in ("true", "false") and not self.is_op("("):
                return Literal(name == "true")
            if self.is_op("("):
                return self.parse_call(name, tok)
            return Column(name)
        raise self.fail()

    def parse_call(self, name: str, tok: Token) -> Expr:
        self.expect_op("(")
        args: list[Expr] = []
        if name == "dynamic":
            return self.parse_dynamic_literal()
        if not self.is_op(")"):
            args.append(self.parse_or())
            while self.is_op(","):
                self.advance()
                args.append(self.parse_or())
        self.expect_op(")")
        if name in AGGREGATES:
            if not self.allow_aggregates:
                raise KqlSemanticError(f"The aggregate function '{name}' is only allowed in 'summarize'.")
            want = AGGREGATES[name][1]
            if len(args) != want:
                raise KqlSemanticError(f"The function '{name}' expects {want} argument(s).")
            return Aggregate(name, args)
        if name not in FUNCTIONS:
            raise KqlSemanticError(f"Unknown function: '{name}'.")
        lo, hi = FUNCTIONS[name][1], FUNCTIONS[name][2]
        if not lo <= len(args) <= hi:
            raise KqlSemanticError(f"The function '{name}' expects {lo}..{hi} argument(s), got {len(args)}.")
        return Call(name, args)

    def parse_dynamic_literal(self) -> Expr:
        """dynamic(null), dynamic([...]), dynamic({...}) with JSON-like literals."""
        value = self.parse_json_value()
        self.expect_op(")")
        return Literal(value)

    def parse_json_value(self) -> Any:
        tok = self.tok
        if tok.kind in (NUMBER, STRING):
            self.advance()
            return tok.value
        if tok.kind == OP and tok.value == "-" and self.peek().kind == NUMBER:
            self.advance()
            return -self.advance().value
        if tok.kind == IDENT and tok.value in ("null", "true", "false"):
            self.advance()
            return {"null": None, "true": True, "false": False}[str(tok.value)]
        if self.is_op("["):
            self.advance()
            items: list[Any] = []
            while not self.is_op("]"):
                items.append(self.parse_json_value())
                if not self.is_op(","):
                    break
                self.advance()
            self.expect_op("]")
            return items
        raise self.fail()


def parse(query: str, *, default_table: str = "Resources") -> Query:
    return Parser(query, default_table=default_table).parse()


def run(query: str, tables: Mapping[str, Callable[[], Table]]) -> Table:
    """Parse and evaluate ``query`` against ``tables`` (name → a function building the table)."""
    return parse(query).run(tables)


def parse_expression(text: str) -> Expr:
    """A lone scalar expression (e.g. a facet), the whole text."""
    parser = Parser(text)
    expr = parser.parse_expr()
    if parser.tok.kind != EOF:
        raise parser.fail()
    return expr

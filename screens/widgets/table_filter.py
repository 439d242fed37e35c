"""The table's `/` filter language: parsed once into a RowFilter, matched against each row's search text.

Syntax, case-insensitive, over every cell as displayed (the search text: cells casefolded, one per line):
- `text`        substring;
- `re:pattern` or `/pattern/` (the closing slash is optional): a regular expression, searched in each cell
                (`^` and `$` anchor at cell boundaries);
- a leading `!` keeps the rows that do NOT match (`!re:^succeeded$`); `\\!` searches for a literal `!`.
An invalid regular expression raises (re.error, OverflowError or RecursionError): the table keeps the previous
result and says why.

On a two-level tree (child key -> parent key) a filter keeps a matching child with its parent, and a matching
parent with its children.

Pure Python, no Textual: tests/test_table_filter.py drives it alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

FILTER_ERRORS = (re.error, OverflowError, RecursionError)  # e.g. re:a{99999999999} overflows


@dataclass(frozen=True)
class RowFilter:
    """A parsed filter: a casefolded substring or a compiled pattern, and whether it keeps the rows that do not
    match."""

    matcher: str | re.Pattern[str]
    invert: bool = False

    def matches(self, text: str) -> bool:
        """Whether a row with this search text is kept."""
        matcher = self.matcher
        found = matcher in text if isinstance(matcher, str) else matcher.search(text) is not None
        return found is not self.invert

    def select(self, order: list[str], haystacks: Sequence[str]) -> list[str]:
        """The keys of `order` kept, given their search texts (`haystacks`, aligned with `order`)."""
        matcher = self.matcher
        pairs = zip(order, haystacks, strict=True)
        if isinstance(matcher, str):
            if self.invert:
                return [key for key, text in pairs if matcher not in text]
            return [key for key, text in pairs if matcher in text]
        search = matcher.search
        if self.invert:
            return [key for key, text in pairs if search(text) is None]
        return [key for key, text in pairs if search(text)]

    def apply(self, order: list[str], haystacks: Sequence[str], parents: Mapping[str, str]) -> list[str]:
        """The keys of `order` shown: those kept, with their parents, and (unless inverted) a kept parent's
        children."""
        matched = self.select(order, haystacks)
        if not parents:
            return matched
        hits = set(matched)
        shown = hits | {parents[key] for key in matched if key in parents}  # a child shows with its parent
        if not self.invert:  # a parent that matches shows with its children
            shown.update(key for key in order if parents.get(key) in hits)
        return [key for key in order if key in shown]


def parse_filter(text: str) -> RowFilter | None:
    """The filter `text` means (None: show every row). Raises one of FILTER_ERRORS on an invalid pattern."""
    invert = text.startswith("!")
    body = text[1:] if invert else text
    if body.startswith("\\!"):
        body = body[1:]
    elif body.startswith("re:") or body.startswith("/"):
        pattern = body[3:] if body.startswith("re:") else body[1:]
        if pattern.endswith("/") and not pattern.endswith("\\/"):
            pattern = pattern[:-1]
        if not pattern:
            return None
        # Cells are joined with newlines, so MULTILINE makes ^ and $ anchor at each cell.
        return RowFilter(re.compile(pattern, re.IGNORECASE | re.MULTILINE), invert)
    if not body:
        return None
    return RowFilter(body.casefold(), invert)

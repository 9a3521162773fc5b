"""Source locations (file, line, column) and the caret rendering of a source line."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A 1-based position in a source file; `length` is how many columns the caret covers."""

    file: str
    line: int
    col: int
    length: int = 1

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    def shifted(self, *, lines: int = 0, cols: int = 0, length: int | None = None) -> Span:
        return Span(
            self.file, self.line + lines, self.col + cols, self.length if length is None else length
        )


NO_SPAN = Span("<none>", 0, 0)


class SourceCache:
    """Keeps the text of every file read, so diagnostics can quote the offending line."""

    def __init__(self) -> None:
        self._text: dict[str, str] = {}

    def add(self, file: str, text: str) -> None:
        self._text[file] = text

    def line(self, file: str, line: int) -> str | None:
        text = self._text.get(file)
        if text is None:
            try:
                text = Path(file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                return None
            self._text[file] = text
        lines = text.splitlines()
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return None


def render_caret(span: Span, source_line: str) -> str:
    """Two lines: the source line, and a caret under the span."""
    col = max(span.col, 1)
    width = max(1, min(span.length, max(1, len(source_line) - col + 1)))
    gutter = f"{span.line:>4} | "
    return f"{gutter}{source_line}\n{' ' * (len(gutter) + col - 1)}{'^' * width}"


@functools.lru_cache(maxsize=4096)
def align(value: str, raw: str, style: str | None) -> tuple[int, ...] | None:
    """For each character of a YAML scalar's value, its index in the scalar's source text.

    YAML folds line breaks and drops indentation (plain, folded and quoted scalars) or keeps
    them (literal blocks); every non-blank character of the value appears in the source in
    order, so a greedy walk that lets blanks absorb blank runs aligns them. None when the
    walk fails (escapes in quoted scalars).
    """
    j = 0
    if style in ("|", ">"):
        j = raw.find("\n") + 1
        if j == 0:
            return None
    elif style in ("'", '"'):
        j = 1
    n = len(raw)
    out: list[int] = []
    for c in value:
        if c in " \t\n\r":
            out.append(min(j, max(n - 1, 0)))
            while j < n and raw[j] in " \t\r\n":
                j += 1
            continue
        while j < n and raw[j] != c and raw[j] in " \t\r\n":
            j += 1
        if j >= n or raw[j] != c:
            return None
        out.append(j)
        j += 1
    return tuple(out)


def locate(
    span: Span, raw: str, style: str | None, value: str, index: int, length: int = 1
) -> Span:
    """The file position of `value[index]`, for a scalar that starts at `span`."""
    positions = align(value, raw, style) if raw else None
    if positions is None or not positions:
        if "\n" in value or style in ("|", ">"):
            return span.shifted(length=1)
        quote = 1 if style in ("'", '"') else 0
        return span.shifted(cols=quote + index, length=length)
    i = positions[min(max(index, 0), len(positions) - 1)]
    before = raw[:i]
    lines = before.count("\n")
    if lines == 0:
        return Span(span.file, span.line, span.col + i, length)
    return Span(span.file, span.line + lines, i - before.rfind("\n"), length)

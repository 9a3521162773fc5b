"""Source locations (file, line, column) and the caret rendering of a source line."""

from __future__ import annotations

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

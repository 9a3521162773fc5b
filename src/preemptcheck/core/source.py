"""Source locations (file, line, column) and the caret rendering of a source line."""

from __future__ import annotations

import functools
import os
import stat
from dataclasses import dataclass


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

    def text(self, file: str) -> str | None:
        """The text read from `file` in this run, if it was read."""
        return self._text.get(file)

    def line(self, file: str, line: int) -> str | None:
        text = self._text.get(file)
        if text is None:
            try:
                text = read_source(file)
            except UnreadableError:
                return None
            self._text[file] = text
        lines = text.splitlines()
        if 1 <= line <= len(lines):
            return lines[line - 1]
        return None


# A model, `extends` or `check` file larger than this is refused (PREEMPTCHECK_MAX_FILE_SIZE
# overrides it, in bytes or with a K, M or G suffix): the bundled models are under 40 KiB.
DEFAULT_MAX_FILE_SIZE = 16 * 2**20
_SIZE_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}


def max_file_size() -> int:
    """The size cap on input files; ValueError names the bad PREEMPTCHECK_MAX_FILE_SIZE."""
    raw = os.environ.get("PREEMPTCHECK_MAX_FILE_SIZE", "").strip()
    if not raw:
        return DEFAULT_MAX_FILE_SIZE
    number, unit = raw[:-1], raw[-1].upper()
    if unit.isdigit():
        number, unit = raw, ""
    if not number.isdigit() or unit not in _SIZE_UNITS or int(number) == 0:
        raise ValueError(
            f"PREEMPTCHECK_MAX_FILE_SIZE={raw!r}: expected a positive number of bytes, "
            "optionally with a K, M or G suffix"
        )
    return int(number) * _SIZE_UNITS[unit]


class UnreadableError(Exception):
    """An input path that cannot be read as a model: `reason` says why, for a diagnostic;
    `missing` when nothing is there at all, `too_large` when it is past the size cap."""

    def __init__(self, reason: str, *, missing: bool = False, too_large: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.missing = missing
        self.too_large = too_large


def show_path(path: str) -> str:
    """A path as a diagnostic prints it: quoted with escapes when it holds control characters."""
    return repr(path) if any(ord(c) < 32 or c == "\x7f" for c in path) else path


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def read_source(path: str) -> str:
    """The UTF-8 text of a regular file of at most max_file_size() bytes.

    Opened without blocking (a FIFO with no writer would wait for ever) and checked on the
    open descriptor, so a path swapped between a check and the read cannot slip through;
    devices such as /dev/zero are refused before anything is read. Raises UnreadableError.
    """
    if "\0" in path:
        raise UnreadableError("the path contains a NUL byte")
    try:
        limit = max_file_size()
    except ValueError as exc:
        raise UnreadableError(str(exc)) from None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    except FileNotFoundError:
        raise UnreadableError("no such file", missing=True) from None
    except OSError as exc:
        raise UnreadableError(exc.strerror or str(exc)) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise UnreadableError("is a directory, a model file is needed")
        if not stat.S_ISREG(st.st_mode):
            kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
            raise UnreadableError(f"is {kind}, not a regular file")
        if st.st_size > limit:
            raise UnreadableError(_too_large(st.st_size, limit), too_large=True)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:  # the file may grow after fstat
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise UnreadableError(_too_large(size, limit), too_large=True)
    except OSError as exc:
        raise UnreadableError(exc.strerror or str(exc)) from None
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableError("is not UTF-8 text") from None


def _too_large(size: int, limit: int) -> str:
    return (
        f"is larger than {limit:,} bytes ({size:,} bytes or more; "
        "PREEMPTCHECK_MAX_FILE_SIZE raises the limit)"
    )


# a source line longer than this is shown as a window around the caret
CARET_WIDTH = 120


def render_caret(span: Span, source_line: str) -> str:
    """Two lines: the source line (a window of it, when long), and a caret under the span."""
    col = max(span.col, 1)
    width = max(1, min(span.length, max(1, len(source_line) - col + 1)))
    if len(source_line) > CARET_WIDTH:
        start = max(0, min(col - 1 - CARET_WIDTH // 4, len(source_line) - CARET_WIDTH))
        shown = source_line[start : start + CARET_WIDTH]
        lead, tail = ("…" if start else ""), ("…" if start + CARET_WIDTH < len(source_line) else "")
        source_line = lead + shown + tail
        col = col - start + len(lead)
        width = max(1, min(width, CARET_WIDTH - (col - 1 - len(lead))))
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

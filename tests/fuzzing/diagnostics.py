"""The `error[PCnnn]` diagnostics of a run, and whether each one says where."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from .cases import Problem, Run

_FILE_CODES = re.compile(r"PC(00[2-9]|0[1-9]\d|1\d\d)$")  # problems inside a file
_DIAG = re.compile(r"^(?:(?P<where>.*?): )?error\[(?P<code>PC\d{3})\]: ?(?P<rest>.*)$")
_LOC = re.compile(r"^(?P<file>.+):(?P<line>-?\d+):(?P<col>-?\d+)$")
_OPTION = re.compile(r"(?<![\w-])--[a-z][a-z-]*")
# a malformed command line (PC204) names the word it could not place: an option, short or
# long, a command or an argument, quoted as the user typed it
_WORD = re.compile(r"no such option: \S+|(option|command|argument) '[^']+'")


@dataclass(frozen=True)
class Diag:
    where: str  # "FILE:LINE:COL", "PATH" or ""
    code: str
    rest: str
    line: str  # as printed


def diagnostics(run: Run) -> list[Diag]:
    """Every `error[PCnnn]` diagnostic of a run: the lines of stdout and stderr, and with
    `--format json` the `diagnostics` of its document (as the same headline)."""
    out: list[Diag] = []
    for text in (run.stdout, run.stderr):
        for line in text.splitlines():
            if "error[PC" in line:
                m = _DIAG.match(line.strip())
                if m:
                    out.append(
                        Diag(m.group("where") or "", m.group("code"), m.group("rest"), m.group(0))
                    )
    try:
        doc = json.loads(run.stdout) if run.stdout.lstrip().startswith("{") else None
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        for m in doc.get("models") or []:
            for d in (m.get("diagnostics") or []) if isinstance(m, dict) else []:
                line, col, file = d.get("line") or 0, d.get("column") or 0, d.get("file") or ""
                where = f"{file}:{line}:{col}" if line or col else "" if file == "<none>" else file
                rest = f"{d.get('key_path') or ''}: {d.get('message')}"
                out.append(
                    Diag(
                        where,
                        str(d.get("code")),
                        rest,
                        f"(json) {where}: error[{d.get('code')}]: {rest}",
                    )
                )
    return out


def _lines_in(path: Path) -> int | None:
    try:
        if not path.is_file() or path.stat().st_size > 50_000_000:
            return None
        text = path.read_bytes().decode("utf-8", "replace")
    except (OSError, ValueError):
        return None
    return max(len(text.splitlines()), text.count("\n"), text.count("\r")) + 1


def check_diagnostic(d: Diag, workdir: Path) -> Problem | None:
    loc = _LOC.match(d.where)
    if loc:
        line, col = int(loc.group("line")), int(loc.group("col"))
        if line < 1 or col < 1:
            return Problem(f"error[{d.code}] with location line {line}, column {col}", d.line)
        n = _lines_in(workdir / loc.group("file"))
        if n is not None and line > n:
            return Problem(f"error[{d.code}] points past the end of its file", d.line)
        return None
    if _FILE_CODES.match(d.code):
        return Problem(f"error[{d.code}] without FILE:LINE:COL", d.line[:300])
    if d.where or _OPTION.search(d.rest):
        return None
    if d.code == "PC204" and _WORD.search(d.rest):
        return None
    return Problem(f"error[{d.code}] names no path, location or option", d.line[:300])

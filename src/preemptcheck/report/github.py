"""GitHub Actions workflow commands: an annotation per unexpected or inconclusive verdict.

`::error file=F,line=N,col=M,title=preemptcheck ID::message` for an unexpected verdict (its
trace follows the summary line) and for each diagnostic of a file that could not be
checked; `::warning ...` for an inconclusive verdict. Escaped as the Actions toolkit does.
"""

from __future__ import annotations

from pathlib import Path

from preemptcheck.checking.results import ModelFailure, Outcome, RunResult
from preemptcheck.core.source import NO_SPAN, Span
from preemptcheck.model.params import show
from preemptcheck.report.sarif import artifact_path
from preemptcheck.report.text import render_trace, verdict_text


def commands(run: RunResult, *, cwd: Path) -> str:
    """One workflow command a line; empty when every verdict is as expected."""
    lines: list[str] = []
    for m in run.models:
        if isinstance(m, ModelFailure):
            for d in m.diagnostics:
                text = (f"{d.key_path}: " if d.key_path else "") + d.message
                text += f" ({d.hint})" if d.hint else ""
                lines.append(_command("error", d.span, m.file, cwd, d.code.value, text))
            continue
        params = ", ".join(f"{k}={show(v)}" for k, v in m.params)
        where = artifact_path(m.file, cwd) + (f" ({params})" if params else "")
        for p in m.properties:
            if p.outcome == Outcome.AS_EXPECTED:
                continue
            text = f"{verdict_text(p)}, in {where}"
            if p.outcome == Outcome.UNEXPECTED and p.trace is not None:
                text += "\n" + render_trace(m.model, p, p.trace).rstrip("\n")
            level = "error" if p.outcome == Outcome.UNEXPECTED else "warning"
            lines.append(_command(level, p.span, m.file, cwd, p.id, text))
    return "".join(line + "\n" for line in lines)


def _command(level: str, span: Span, model_file: str, cwd: Path, what: str, text: str) -> str:
    if span.line < 1:  # a built-in property: the model file itself
        file = model_file if span.file == NO_SPAN.file else span.file
        where = f"file={escape_property(artifact_path(file, cwd))},line=1"
    else:
        where = f"file={escape_property(artifact_path(span.file, cwd))},line={span.line}"
        where += f",col={span.col}" if span.col >= 1 else ""
    title = escape_property(f"preemptcheck {what}")
    return f"::{level} {where},title={title}::{escape_data(text)}"


def escape_data(text: str) -> str:
    """A command's message: %, CR and LF are percent-encoded."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A command's property value: also ':' and ',', which separate properties."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")
